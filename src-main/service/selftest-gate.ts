// The self-test gate: before a run trains on a native backend (tensorflow, tensorflow-gpu), the
// backend's self-test (ml/selftest.ts: our kernels against tfjs's composite ops, and a few
// training steps against the pure-JS cpu backend) must have passed for this backend + tfjs +
// libtensorflow version. The result is stored (store/selftests-repo.ts), so it runs once per
// version: the first run runs it (its events say so), later runs read it. A failed result refuses
// the run (SELFTEST_FAILED, naming the failed checks) unless its config sets
// train.allowFailedSelftest; running the self-test again (System view, `system.runSelftest`,
// `workstation doctor --selftest`) replaces the stored result. The pure-JS cpu backend is the
// reference and is never gated. Loaded on first use (it loads tfjs).
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { SelftestRecord, SelftestTrigger } from '../../src-shared/api/schemas';
import type { BackendRequest, RunConfig } from '../../src-shared/config/run-config';
import { WorkstationError } from '../../src-shared/errors';
import { packageRoot } from '../common/paths';
import { probeNative, selectBackend, type BackendInfo } from '../ml/backend';
import { isNativeStandIn } from '../ml/kernels/native-stand-in';
import { runSelfTest, type SelfTestResult } from '../ml/selftest';
import type { SelftestInput, SelftestKey, Store } from '../store/index';
import type { Faults } from './fault-injection';
import type { Emit, LogFn } from './run-recorder';
import { applyBackendFaults } from './test-backends';

/** What a stored result is for, and what else is worth keeping with it. */
export interface SelftestIdentity extends SelftestKey {
  nativePackage: string | null;
  nativeVersion: string | null;
  precision: 'float32' | 'tf32';
}

function packageVersion(pkg: string): string | null {
  try {
    return (createRequire(path.join(packageRoot(), 'package.json'))(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return null;
  }
}

/** The key of the backend selected now (call after selectBackend). */
export function selftestIdentity(backend: BackendInfo): SelftestIdentity {
  const precision = backend.name === 'tensorflow-gpu' ? 'tf32' : 'float32';
  if (backend.name === 'cpu')
    return { backend: 'cpu', tfjsVersion: tf.version.tfjs, libtensorflowVersion: null, nativePackage: null, nativeVersion: null, precision };
  const be = tf.findBackend('tensorflow') as { binding?: { TF_Version?: unknown } } | null;
  if (isNativeStandIn(be))
    return {
      backend: backend.name,
      tfjsVersion: tf.version.tfjs,
      libtensorflowVersion: 'stand-in',
      nativePackage: 'native stand-in',
      nativeVersion: null,
      precision,
    };
  const tfVersion = be?.binding?.TF_Version;
  // the GPU package runs libtensorflow's CPU kernels too (auto without a GPU)
  const pkg = backend.name === 'tensorflow-gpu' || probeNative('@tensorflow/tfjs-node-gpu').loaded ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  return {
    backend: backend.name,
    tfjsVersion: tf.version.tfjs,
    libtensorflowVersion: typeof tfVersion === 'string' && tfVersion ? tfVersion : 'unknown',
    nativePackage: pkg,
    nativeVersion: packageVersion(pkg),
    precision,
  };
}

export interface SelftestDeps {
  store: Store;
  emit: Emit;
  log: LogFn;
  faults?: Faults;
}

// One self-test or gate check at a time in this process: both switch tfjs's global backend.
let chain: Promise<unknown> = Promise.resolve();
let running = false;
function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const next = chain.then(fn, fn);
  chain = next.catch(() => undefined);
  return next;
}

/** Whether a self-test is running in this process now. */
export const selftestRunning = (): boolean => running;

const describeVersions = (r: Pick<SelftestRecord, 'backend' | 'tfjsVersion' | 'libtensorflowVersion'>) =>
  `${r.backend} (tfjs ${r.tfjsVersion}${r.libtensorflowVersion ? `, libtensorflow ${r.libtensorflowVersion}` : ''})`;

/** "WsFusedBatchNorm + ReLU (max rel. error 2.0e-2 > 0.001)" per failed check (its name up to the list of what it compares). */
export function failedChecks(r: Pick<SelftestRecord, 'checks'>): string[] {
  return r.checks
    .filter((c) => !c.ok)
    .map(
      (c) =>
        `${c.name.split(': ')[0]} (${c.error ? `threw: ${c.error}` : `max rel. error ${c.maxRelError === null ? '∞' : c.maxRelError.toExponential(1)} > ${c.tolerance}`})`,
    );
}

/** Runs the self-test on the selected backend and stores the result. Call inside `exclusive`. */
async function runAndStore(backend: BackendInfo, deps: SelftestDeps, trigger: SelftestTrigger, runId: number | null): Promise<SelftestRecord> {
  const id = selftestIdentity(backend);
  const base = trigger === 'first-run' ? `Checking the ${backend.name} backend before its first run…` : `Running the self-test of the ${backend.name} backend…`;
  deps.emit('selftest.status', { state: 'running', backend: backend.name, runId, message: base, record: null });
  deps.log('info', `${base} (${describeVersions(id)}; its kernels and a few training steps against the pure-JS reference)`, runId);
  const started = performance.now();
  running = true;
  let result: SelfTestResult;
  try {
    result = await runSelfTest({
      precision: id.precision,
      onProgress: (m) => deps.emit('selftest.status', { state: 'running', backend: backend.name, runId, message: `${base} (${m})`, record: null }),
    });
  } catch (e) {
    // a self-test that cannot even run is a failed one (stored: running it again replaces it)
    const error = (e as Error)?.message?.split('\n')[0] ?? String(e);
    result = {
      ok: false,
      backend: backend.name,
      precision: id.precision,
      checks: [{ name: 'self-test', ok: false, maxRelError: Infinity, tolerance: 0, error }],
    };
  } finally {
    running = false;
  }
  const input: SelftestInput = {
    backend: id.backend,
    tfjsVersion: id.tfjsVersion,
    libtensorflowVersion: id.libtensorflowVersion,
    nativePackage: id.nativePackage,
    nativeVersion: id.nativeVersion,
    ok: result.ok,
    precision: result.precision,
    checks: result.checks.map((c) => ({ ...c, maxRelError: Number.isFinite(c.maxRelError) ? c.maxRelError : null })),
    seconds: Math.round((performance.now() - started) / 100) / 10,
    trigger,
    runId,
  };
  const record = deps.store.selftests.put(input);
  const message = record.ok
    ? `The self-test of ${describeVersions(record)} passed (${record.checks.length} checks, ${record.seconds} s).`
    : `The self-test of ${describeVersions(record)} FAILED: ${failedChecks(record).join('; ')}.`;
  deps.log(record.ok ? 'info' : 'error', message, runId);
  deps.emit('selftest.status', { state: 'done', backend: backend.name, runId, message, record });
  return record;
}

/** `system.runSelftest`: the self-test on the backend `req` selects now, stored (replacing the one before). */
export function runBackendSelftest(req: BackendRequest, deps: SelftestDeps, trigger: SelftestTrigger = 'manual'): Promise<SelftestRecord> {
  return exclusive(async () => {
    applyBackendFaults(deps.faults);
    const backend = await selectBackend(req);
    return runAndStore(backend, deps, trigger, null);
  });
}

export interface GateDeps extends SelftestDeps {
  /** adds a 'note' event to the run (nothing to add to without a run: the range test, the step probe) */
  note(data: Record<string, unknown>): void;
}

export interface GateOutcome {
  backend: BackendInfo;
  /** null for the cpu backend (never gated) */
  record: SelftestRecord | null;
  /** the self-test ran for this run (no stored result) */
  ran: boolean;
  /** trained although the stored result failed (train.allowFailedSelftest) */
  overridden: boolean;
}

/**
 * Before the run trains (or the range test / step probe runs steps of a config, runId null):
 * selects its backend and, on a native one, makes sure its self-test passed (running it first
 * when no result is stored). Throws SELFTEST_FAILED when it failed and the config does not set
 * train.allowFailedSelftest.
 */
export function gateRunBackend(config: Readonly<RunConfig>, runId: number | null, deps: GateDeps): Promise<GateOutcome> {
  return exclusive(async () => {
    applyBackendFaults(deps.faults);
    const backend = await selectBackend(config.backend);
    if (backend.name === 'cpu') return { backend, record: null, ran: false, overridden: false };
    const id = selftestIdentity(backend);
    let record = deps.store.selftests.get(id) ?? null;
    const ran = record === null;
    if (!record) {
      deps.note({ message: `Checking the ${backend.name} backend before its first run…`, selftest: { state: 'running', backend: backend.name } });
      record = await runAndStore(backend, deps, 'first-run', runId);
      deps.note({
        message: record.ok
          ? `The ${backend.name} backend passed its self-test (${record.checks.length} checks, ${record.seconds} s).`
          : `The ${backend.name} backend FAILED its self-test: ${failedChecks(record).join('; ')}.`,
        selftest: { state: 'done', backend: backend.name, selftestId: record.id, ok: record.ok },
      });
    }
    if (record.ok) return { backend, record, ran, overridden: false };
    const failed = failedChecks(record).join('; ');
    if (config.train.allowFailedSelftest) {
      const message = `Training on ${describeVersions(record)} although its self-test failed (train.allowFailedSelftest): ${failed}.`;
      deps.log('warn', message, runId);
      deps.note({ message, selftest: { state: 'overridden', backend: backend.name, selftestId: record.id, ok: false }, allowFailedSelftest: true });
      return { backend, record, ran, overridden: true };
    }
    throw new WorkstationError(
      'SELFTEST_FAILED',
      `the ${describeVersions(record)} backend failed its self-test of ${record.createdAt}: ${failed}. ${runId === null ? 'Nothing ran' : 'The run did not train'}. ` +
        `Fix the backend (README: GPU setup) and run the self-test again (System view → Run self-test, or \`workstation doctor --selftest\`), ` +
        'or train anyway with train.allowFailedSelftest: true (`workstation train --allow-failed-selftest`).',
      { field: 'train.allowFailedSelftest' },
    );
  });
}
