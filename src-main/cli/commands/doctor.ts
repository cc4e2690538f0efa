// `workstation doctor [--backend auto|gpu|node|cpu] [--selftest] [--json]`: what this machine offers
// the trainer — which tfjs backend would be used and why, native packages found or not (and why
// not), how to get a faster backend, the GPU, Node, sharp/libvips, better-sqlite3 and the data
// directory. The way to check that the GPU backend is really in use; `--selftest` also checks that
// it computes what the reference computes (src-main/ml/selftest.ts) and, for a native backend,
// records the result in the data dir's database, where the service's self-test gate reads it
// (service/selftest-gate.ts: a native backend's first run then needs no self-test of its own).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { bool, str } from '../../common/args';
import type { CommandSpec } from '../command';
import { BACKENDS, type BackendRequest } from '../../../src-shared/config/run-config';
import { WorkstationError, isWorkstationError } from '../../../src-shared/errors';
import { probeNative, selectBackend, type BackendInfo } from '../../ml/backend';
import { appPaths, defaultDataDir, packageRoot } from '../../common/paths';
import { runSelfTest, type SelfTestResult } from '../../ml/selftest';
import { openStore } from '../../store/index';
import { parseFaults } from '../../service/fault-injection';
import { applyBackendFaults } from '../../service/test-backends';
import { selftestIdentity } from '../../service/selftest-gate';

/** Stores a native backend's self-test where the service's gate looks; the database, or why not. */
function recordSelftest(dbPath: string, backend: BackendInfo, r: SelfTestResult, seconds: number) {
  try {
    const store = openStore(dbPath);
    try {
      const id = selftestIdentity(backend);
      store.selftests.put({
        ...id,
        ok: r.ok,
        precision: r.precision,
        checks: r.checks.map((c) => ({ ...c, maxRelError: Number.isFinite(c.maxRelError) ? c.maxRelError : null })),
        seconds,
        trigger: 'doctor',
      });
    } finally {
      store.close();
    }
    return { recordedIn: dbPath, recordError: null };
  } catch (e) {
    return { recordedIn: null, recordError: (e as Error).message.split('\n')[0] };
  }
}

function nvidiaSmi(): string[] | null {
  const r = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) return null;
  return r.stdout.trim().split('\n').filter(Boolean);
}

/** What to install for a faster backend than the one chosen (none when the GPU backend is in use). */
export function backendHints(backendName: string | null, natives: { package: string; loaded: boolean }[]): string[] {
  if (backendName === 'tensorflow-gpu') return [];
  const hints: string[] = [];
  const gpu = natives.find((n) => n.package === '@tensorflow/tfjs-node-gpu');
  if (gpu?.loaded) {
    hints.push(
      '@tensorflow/tfjs-node-gpu loads but libtensorflow 2.9.1 sees no GPU: put the CUDA 11.x runtime and cuDNN 8 libraries on LD_LIBRARY_PATH ' +
        '(the CUDA 11.8 runtime + cuDNN 8.9, CUDA 11 build, next to a CUDA 12 driver ≥ 525.60.13: scripts/ec2/setup-gpu.sh; CUDA 12 libraries alone do not load).',
    );
  } else {
    hints.push(
      'NVIDIA GPU: `npm install @tensorflow/tfjs-node-gpu@4.22.0` (Linux/Windows x86-64; libtensorflow 2.9.1 needs an NVIDIA driver, the CUDA 11.x ' +
        'runtime and cuDNN 8 on LD_LIBRARY_PATH: CUDA 11.8 + cuDNN 8.9, CUDA 11 build (8.1 lacks Ada/Hopper); CUDA 12 libraries alone do not load).',
    );
  }
  if (backendName === 'cpu')
    hints.push('No GPU: `npm install @tensorflow/tfjs-node@4.22.0` (libtensorflow CPU kernels, multi-threaded; far faster than pure-JS cpu).');
  hints.push('Then `workstation doctor --selftest` checks the new backend against the pure-JS reference.');
  return hints;
}

function version(req: NodeRequire, pkg: string): string | null {
  try {
    return (req(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return null;
  }
}

const command: CommandSpec = {
  name: 'doctor',
  summary: 'Which tfjs backend would be used and why; native packages, GPU, sharp, SQLite',
  flags: {
    backend: { type: 'string', description: 'backend to try: auto|gpu|node|cpu', default: 'auto' },
    selftest: { type: 'boolean', description: "check the backend's training kernels and a few training steps against the pure-JS reference" },
    json: { type: 'boolean', description: 'print JSON' },
  },
  async run(args, io) {
    const req = (str(args, 'backend') ?? 'auto') as BackendRequest;
    if (!(BACKENDS as readonly string[]).includes(req))
      throw new WorkstationError('INVALID_ARGUMENT', `--backend must be one of ${BACKENDS.join('|')}, got "${req}"`, { field: 'backend' });
    const r = createRequire(path.join(packageRoot(), 'package.json'));
    let backend: BackendInfo | null = null;
    let backendError: string | null = null;
    applyBackendFaults(parseFaults(io.env)); // tests only: the native stand-in (WORKSTATION_TEST_STAND_IN_BACKEND)
    try {
      backend = await selectBackend(req);
    } catch (e) {
      if (!isWorkstationError(e)) throw e;
      backendError = e.message;
    }
    const natives = (['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const).map((p) => ({ ...probeNative(p), version: version(r, p) }));
    let sharpInfo: { version: string | null; libvips: string | null; error: string | null };
    try {
      const sharp = r('sharp') as { versions: { sharp?: string; vips: string } };
      sharpInfo = { version: sharp.versions.sharp ?? version(r, 'sharp'), libvips: sharp.versions.vips, error: null };
    } catch (e) {
      sharpInfo = { version: version(r, 'sharp'), libvips: null, error: (e as Error).message.split('\n')[0] };
    }
    let sqlite: { version: string | null; loads: boolean; sqlite: string | null; error: string | null };
    try {
      const Database = r('better-sqlite3') as new (p: string) => { prepare(s: string): { get(): unknown }; close(): void };
      const db = new Database(':memory:');
      const v = (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
      db.close();
      sqlite = { version: version(r, 'better-sqlite3'), loads: true, sqlite: v, error: null };
    } catch (e) {
      sqlite = { version: version(r, 'better-sqlite3'), loads: false, sqlite: null, error: (e as Error).message.split('\n')[0] };
    }
    let selftest: SelfTestResult | null = null;
    const dataDir = defaultDataDir(io.env);
    let recorded: { recordedIn: string | null; recordError: string | null } | null = null;
    if (bool(args, 'selftest') && backend) {
      const started = performance.now();
      selftest = await runSelfTest({ precision: backend.name === 'tensorflow-gpu' ? 'tf32' : 'float32', onProgress: (m) => io.stderr(`selftest: ${m}\n`) });
      // the pure-JS cpu backend is the reference: the gate never asks for it
      if (backend.name !== 'cpu') recorded = recordSelftest(appPaths(dataDir).dbPath, backend, selftest, Math.round((performance.now() - started) / 100) / 10);
    }
    const hints = backendHints(backend?.name ?? null, natives);
    const result = {
      ok: backendError === null && sqlite.loads && sharpInfo.error === null && (selftest === null || selftest.ok),
      requested: req,
      backend: backend ? { ...backend, tfBackend: tf.getBackend() } : null,
      backendError,
      tfjs: { version: tf.version.tfjs, core: tf.version_core },
      native: natives.map((n) => ({ package: n.package, installed: n.version !== null, version: n.version, loaded: n.loaded, error: n.error, gpus: n.gpus })),
      nvidiaSmi: nvidiaSmi(),
      node: { version: process.version, abi: process.versions.modules, platform: process.platform, arch: process.arch },
      cpus: os.cpus().length,
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      sharp: sharpInfo,
      betterSqlite3: sqlite,
      dataDir,
      hints,
      ...(selftest ? { selftest: { ...selftest, ...(recorded ?? {}) } } : {}),
    };
    if (bool(args, 'json')) {
      io.stdout(JSON.stringify(result, null, 2) + '\n');
      return result.ok ? 0 : 1;
    }
    const lines = [
      backend ? `backend        ${backend.name}${backend.gpu ? ` on ${backend.gpu}` : ''} — ${backend.reason}` : `backend        UNAVAILABLE — ${backendError}`,
      `tfjs           ${tf.version.tfjs}`,
      ...natives.map(
        (n) =>
          `${n.package.padEnd(26)} ${n.version ? `v${n.version}, ` : ''}${n.loaded ? `loads${n.package.endsWith('gpu') ? `, GPUs: ${n.gpus.join(', ') || 'none visible'}` : ''}` : `not usable: ${n.error}`}`,
      ),
      `nvidia-smi     ${result.nvidiaSmi ? result.nvidiaSmi.join('; ') : 'not found'}`,
      `node           ${process.version} (ABI ${process.versions.modules}) ${process.platform}/${process.arch}, ${result.cpus} CPUs, ${result.memoryGiB} GiB`,
      `sharp          ${sharpInfo.version ?? '?'}${sharpInfo.libvips ? `, libvips ${sharpInfo.libvips}` : ''}${sharpInfo.error ? ` — FAILS: ${sharpInfo.error}` : ''}`,
      `better-sqlite3 ${sqlite.version ?? '?'}${sqlite.loads ? `, loads (SQLite ${sqlite.sqlite})` : ` — FAILS: ${sqlite.error}`}`,
      `data dir       ${dataDir}${io.env.WORKSTATION_HOME ? ' (WORKSTATION_HOME)' : ' (set WORKSTATION_HOME to move it)'}`,
      ...hints.map((h, i) => `${i === 0 ? 'faster backend' : ''.padEnd(14)} ${h}`),
    ];
    if (selftest) {
      lines.push(`selftest       ${selftest.ok ? 'OK' : 'FAILED'} on ${selftest.backend} (${selftest.precision} tolerances)`);
      for (const c of selftest.checks) {
        const what = c.skipped
          ? `skipped: ${c.skipped}`
          : c.error
            ? `threw: ${c.error}`
            : `max rel. error ${c.maxRelError.toExponential(2)} (tolerance ${c.tolerance})`;
        lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name} — ${what}`);
      }
      if (recorded?.recordedIn)
        lines.push(`  recorded in ${recorded.recordedIn}: the app's runs on ${selftest.backend} use this result instead of testing again`);
      if (recorded?.recordError) lines.push(`  not recorded: ${recorded.recordError}`);
    }
    io.stdout(lines.join('\n') + '\n');
    return result.ok ? 0 : 1;
  },
};
export default command;
