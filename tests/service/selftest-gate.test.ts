// The self-test gate (src-main/service/selftest-gate.ts) in the real service process, on the native
// stand-in backend (WORKSTATION_TEST_STAND_IN_BACKEND: the cpu kernels registered as 'tensorflow',
// which `backend: node|gpu` selects), real SQLite and real tfjs. A `cpu` run never runs the
// self-test. The first run on the native backend runs it once (the run's notes and selftest.status
// events say so), stores it, and trains; later runs, also after a restart, read the stored result.
// With WORKSTATION_FAULT_SELFTEST one fused kernel's output is really off by 2 %, so the comparison
// fails: the run is refused with SELFTEST_FAILED naming the failed checks and the override, and
// nothing trains; with train.allowFailedSelftest it trains and the override is recorded.
// system.runSelftest runs it again and replaces the stored result; `doctor --selftest` records its
// result where the gate reads it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventPayload } from '../../src-shared/api/contract';
import { forkService, type IpcClient } from '../../src-main/common/ipc-client';
import { FAULT_SELFTEST_ENV, STAND_IN_BACKEND_ENV } from '../../src-main/service/fault-injection';
import { tempDir } from '../helpers/samples';
import { tinyConfig } from './tiny-config';
import { waitStatus } from './wait-event';

const ROOT = path.resolve(__dirname, '../..');
const clients: IpcClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
});

function start(dir: string, env: Record<string, string>): IpcClient & { statuses: EventPayload<'selftest.status'>[] } {
  const svc = forkService({
    dbPath: path.join(dir, 'ws.db'),
    dataDir: path.join(dir, 'data'),
    env: { ...process.env, ...env },
    extraArgs: ['--no-auto-resume'],
  });
  clients.push(svc);
  const statuses: EventPayload<'selftest.status'>[] = [];
  svc.on('selftest.status', (p) => statuses.push(p));
  return Object.assign(svc, { statuses });
}

async function stop(svc: IpcClient): Promise<void> {
  svc.child.kill('SIGTERM');
  await svc.exited;
}

async function train(svc: IpcClient, config: Record<string, unknown>) {
  const run = await svc.call('runs.start', { config });
  const done = await waitStatus(svc, run.id, ['completed', 'failed', 'stopped']);
  return { done, got: await svc.call('runs.get', { runId: run.id }) };
}

const native = (name: string, over: Record<string, unknown> = {}) => ({ ...tinyConfig({ name, epochs: 1, steps: 2 }), backend: 'node', ...over });
const selftestNotes = (events: { kind: string; data: Record<string, unknown> }[]) => events.filter((e) => e.kind === 'note' && e.data.selftest);

describe('the self-test gate before a native backend trains', () => {
  it('cpu never runs it; the first native run runs it once and trains; later runs and a restarted service read it', async () => {
    const dir = tempDir('svc-gate-');
    let svc = start(dir, { [STAND_IN_BACKEND_ENV]: 'tensorflow' });

    const cpu = await train(svc, tinyConfig({ name: 'cpu', epochs: 1, steps: 2 }));
    expect(cpu.done.status).toBe('completed');
    expect(selftestNotes(cpu.got.events)).toEqual([]);
    expect(svc.statuses).toEqual([]);
    expect(await svc.call('system.selftest', {})).toEqual([]);

    const first = await train(svc, native('first'));
    expect(first.done).toMatchObject({ status: 'completed', backend: 'tensorflow', error: null });
    expect(first.got.epochs).toHaveLength(1);
    const notes = selftestNotes(first.got.events).map((e) => e.data.message);
    expect(notes).toEqual([
      'Checking the tensorflow backend before its first run…',
      expect.stringMatching(/^The tensorflow backend passed its self-test \(\d+ checks, [\d.]+ s\)\.$/),
    ]);
    // the notes come before the trainer's backend note: the self-test ran before training
    const backendNote = first.got.events.findIndex((e) => e.kind === 'note' && e.data.backend === 'tensorflow');
    expect(backendNote).toBeGreaterThan(first.got.events.findIndex((e) => e.data.selftest !== undefined));
    expect(svc.statuses[0]).toMatchObject({
      state: 'running',
      backend: 'tensorflow',
      runId: first.done.id,
      message: 'Checking the tensorflow backend before its first run…',
    });
    expect(svc.statuses.at(-1)).toMatchObject({ state: 'done', backend: 'tensorflow', runId: first.done.id, record: { ok: true } });
    const stored = await svc.call('system.selftest', {});
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      backend: 'tensorflow',
      libtensorflowVersion: 'stand-in',
      ok: true,
      precision: 'float32',
      trigger: 'first-run',
      runId: first.done.id,
    });
    const names = stored[0].checks.map((c) => c.name).join('\n');
    for (const k of ['WsConv2D', 'WsFusedBatchNorm', 'WsSgdUpdate', 'training steps']) expect(names).toContain(k);

    const seen = svc.statuses.length;
    const second = await train(svc, native('second'));
    expect(second.done.status).toBe('completed');
    expect(selftestNotes(second.got.events)).toEqual([]);
    expect(svc.statuses.length).toBe(seen);
    expect(await svc.call('system.selftest', {})).toEqual(stored);

    await stop(svc);
    svc = start(dir, { [STAND_IN_BACKEND_ENV]: 'tensorflow' });
    expect(await svc.call('system.selftest', {})).toEqual(stored);
    const third = await train(svc, native('after restart'));
    expect(third.done.status).toBe('completed');
    expect(selftestNotes(third.got.events)).toEqual([]);
    expect(svc.statuses).toEqual([]);

    // the backend breaks (a kernel really off) and its self-test is run again: evaluating a checkpoint
    // of a native run is refused like training, naming the checks; a cpu run's evaluates as before
    await stop(svc);
    svc = start(dir, { [STAND_IN_BACKEND_ENV]: 'tensorflow', [FAULT_SELFTEST_ENV]: 'WsFusedBatchNorm' });
    expect(await svc.call('system.runSelftest', { backend: 'node' })).toMatchObject({ backend: 'tensorflow', ok: false });
    // every job update from before the start is kept: a refused job ends at once, before eval.start's answer
    const jobs: EventPayload<'eval.progress'>[] = [];
    svc.on('eval.progress', (j) => jobs.push(j));
    const evaluate = async (checkpointId: number) => {
      const job = await svc.call('eval.start', { checkpointId });
      const until = Date.now() + 120_000;
      for (;;) {
        const last = jobs.find((j) => j.evalId === job.evalId && (j.state === 'completed' || j.state === 'failed'));
        if (last) return last;
        if (Date.now() > until) throw new Error(`evaluation ${job.evalId} did not end: ${JSON.stringify(jobs.at(-1))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const refused = await evaluate(third.got.checkpoints.at(-1)!.id);
    expect(refused.state).toBe('failed');
    expect(refused.error).toMatch(
      /^the tensorflow \(tfjs [\d.]+, libtensorflow stand-in\) backend failed its self-test of .*WsFusedBatchNorm \+ ReLU.*Nothing ran\./,
    );
    const onCpu = await evaluate(cpu.got.checkpoints.at(-1)!.id);
    expect(onCpu.state).toBe('completed');
  });

  it('a kernel that is really off: the run is refused with SELFTEST_FAILED and nothing trains; the override trains and is recorded', async () => {
    const dir = tempDir('svc-gate-fail-');
    const svc = start(dir, { [STAND_IN_BACKEND_ENV]: 'tensorflow-gpu', [FAULT_SELFTEST_ENV]: 'WsFusedBatchNorm' });

    const refused = await train(svc, native('refused', { backend: 'gpu' }));
    expect(refused.done.status).toBe('failed');
    expect(refused.done.error).toMatch(/^the tensorflow-gpu \(tfjs [\d.]+, libtensorflow stand-in\) backend failed its self-test of /);
    expect(refused.done.error).toContain('WsFusedBatchNorm + ReLU');
    expect(refused.done.error).toContain('train.allowFailedSelftest: true');
    expect(refused.done.error).toContain('--allow-failed-selftest');
    expect(refused.got.events.find((e) => e.kind === 'error')?.data).toMatchObject({ code: 'SELFTEST_FAILED' });
    expect(refused.got.epochs).toEqual([]);
    expect(refused.got.steps).toEqual([]);
    expect(refused.got.checkpoints).toEqual([]);
    expect(refused.got.events.some((e) => e.kind === 'note' && e.data.backend !== undefined)).toBe(false); // no trainer was created
    const [record] = await svc.call('system.selftest', {});
    expect(record).toMatchObject({ backend: 'tensorflow-gpu', ok: false, precision: 'tf32', trigger: 'first-run', runId: refused.done.id });
    const failed = record.checks.filter((c) => !c.ok);
    expect(failed.map((c) => c.name)).toEqual(expect.arrayContaining([expect.stringContaining('WsFusedBatchNorm + ReLU')]));
    // a real comparison, not a forced verdict: the error is the perturbation's size, the other kernels agree
    for (const c of failed) expect(c.maxRelError!).toBeGreaterThan(c.tolerance);
    expect(record.checks.filter((c) => c.name.startsWith('WsConv2D') || c.name.startsWith('WsSgdUpdate')).every((c) => c.ok)).toBe(true);

    const seen = svc.statuses.length;
    const forced = await train(svc, native('override', { backend: 'gpu', train: { epochs: 1, batchSize: 8, logEverySteps: 1, allowFailedSelftest: true } }));
    expect(forced.done).toMatchObject({ status: 'completed', backend: 'tensorflow-gpu', error: null });
    expect(forced.got.epochs).toHaveLength(1);
    expect((forced.got.config.train as Record<string, unknown>).allowFailedSelftest).toBe(true);
    const override = selftestNotes(forced.got.events);
    expect(override).toHaveLength(1);
    expect(override[0].data).toMatchObject({ allowFailedSelftest: true, selftest: { state: 'overridden', ok: false, selftestId: record.id } });
    expect(override[0].data.message).toContain('although its self-test failed (train.allowFailedSelftest)');
    expect(svc.statuses.length).toBe(seen); // the stored result was used, not a new self-test

    // the new-run form's measurement and range test run steps on the backend too: refused the same way
    await expect(svc.call('runs.probe', { config: native('probe', { backend: 'gpu' }), steps: 1 })).rejects.toMatchObject({
      code: 'SELFTEST_FAILED',
      message: expect.stringMatching(/failed its self-test .*WsFusedBatchNorm \+ ReLU.*Nothing ran\./),
    });
    await expect(svc.call('lr.find', { config: native('lr', { backend: 'gpu' }), steps: 4 })).rejects.toMatchObject({ code: 'SELFTEST_FAILED' });
    const probed = await svc.call('runs.probe', {
      config: native('probe', { backend: 'gpu', train: { epochs: 1, batchSize: 8, logEverySteps: 1, allowFailedSelftest: true } }),
      steps: 1,
    });
    expect(probed).toMatchObject({ backend: 'tensorflow-gpu', steps: 1 });
    expect(svc.statuses.length).toBe(seen);
    // and the CLI's own range test on that database: refused by the stored result, or run with the override
    const cli = (name: string, over: Record<string, unknown>) => {
      const file = path.join(dir, `${name}.json`);
      fs.writeFileSync(file, JSON.stringify(native(name, over)));
      return spawnSync(
        process.execPath,
        [
          path.join(ROOT, 'bin/workstation.cjs'),
          'lr-find',
          '--config',
          file,
          '--steps',
          '2',
          '--db',
          path.join(dir, 'ws.db'),
          '--data-dir',
          path.join(dir, 'data'),
          '--json',
        ],
        { encoding: 'utf8', env: { ...process.env, [STAND_IN_BACKEND_ENV]: 'tensorflow-gpu', [FAULT_SELFTEST_ENV]: 'WsFusedBatchNorm' }, timeout: 170_000 },
      );
    };
    const cliRefused = cli('cli-lr', { backend: 'gpu' });
    expect(cliRefused.status, cliRefused.stderr).toBe(2); // a refusal, like every WorkstationError
    expect(cliRefused.stdout).toBe('');
    expect(cliRefused.stderr).toMatch(/^workstation lr-find: error \[SELFTEST_FAILED\]: .*failed its self-test .*WsFusedBatchNorm \+ ReLU.*Nothing ran\./);
    const cliForced = cli('cli-lr-forced', { backend: 'gpu', train: { epochs: 1, batchSize: 8, logEverySteps: 1, allowFailedSelftest: true } });
    expect(cliForced.status, cliForced.stderr).toBe(0);
    expect(JSON.parse(cliForced.stdout)).toMatchObject({ backend: 'tensorflow-gpu', steps: 2 });
    expect(svc.statuses.length).toBe(seen);

    // running it again by hand replaces the stored result (still failing: the kernel is still off)
    const again = await svc.call('system.runSelftest', { backend: 'gpu' });
    expect(again).toMatchObject({ id: record.id, backend: 'tensorflow-gpu', ok: false, trigger: 'manual', runId: null });
    expect(svc.statuses.slice(seen).map((s) => s.state)).toEqual(expect.arrayContaining(['running', 'done']));
    expect(svc.statuses[seen].message).toMatch(/^Running the self-test of the tensorflow-gpu backend…/);
    expect(await svc.call('system.selftest', {})).toEqual([again]);
  });

  it('`doctor --selftest` on a native backend records its result where the gate reads it', async () => {
    const home = tempDir('doctor-home-');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/workstation.cjs'), 'doctor', '--backend', 'node', '--selftest', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, WORKSTATION_HOME: home, [STAND_IN_BACKEND_ENV]: 'tensorflow' },
      timeout: 170_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { selftest: { ok: boolean; backend: string; recordedIn: string } };
    expect(doc.selftest).toMatchObject({ ok: true, backend: 'tensorflow', recordedIn: path.join(home, 'workstation.db') });

    const onHome = forkService({
      dbPath: path.join(home, 'workstation.db'),
      dataDir: home,
      env: { ...process.env, [STAND_IN_BACKEND_ENV]: 'tensorflow' },
      extraArgs: ['--no-auto-resume'],
    });
    clients.push(onHome);
    const stored = await onHome.call('system.selftest', {});
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ backend: 'tensorflow', ok: true, trigger: 'doctor', libtensorflowVersion: 'stand-in' });
    const statuses: unknown[] = [];
    onHome.on('selftest.status', (p) => statuses.push(p));
    const run = await train(onHome, native('after doctor'));
    expect(run.done.status).toBe('completed');
    expect(selftestNotes(run.got.events)).toEqual([]);
    expect(statuses).toEqual([]);
  });
});
