// What a days-long run survives (issue 8), with real processes, real SQLite and real files on the
// demo dataset: a CLI run and a service on one database (one owner per run), `train` handed to a
// live service, a fork from a running run whose checkpoint rotation would delete the fork's
// checkpoint (pinning), a live jitter change kept by a fork from a later checkpoint, a live jitter
// change followed by SIGKILL and auto-resume (same weights as an uninterrupted run given the same
// change at the same step), an injected disk-full checkpoint write (the run pauses, nothing is
// lost, resume writes it), and a bounded chaos test (SIGKILL at random moments, resumed each time).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src-shared/api/schemas';
import { createRng } from '../../src-shared/random';
import { forkService, type IpcClient } from '../../src-main/common/ipc-client';
import { inspectCheckpoint } from '../../src-main/ml/checkpoint';
import { createService, type Service } from '../../src-main/service/service';
import { FAULT_ENV } from '../../src-main/service/fault-injection';
import { tempDir } from '../helpers/samples';
import { tinyConfig } from './tiny-config';
import { waitEvent, waitStatus } from './wait-event';

const ROOT = path.resolve(__dirname, '../..');
const ENDED = ['completed', 'failed', 'stopped', 'interrupted'];
const clients: IpcClient[] = [];
const children: ChildProcess[] = [];
const services: Service[] = [];

function start(dbPath: string, dataDir: string, opts: { autoResume?: boolean; env?: NodeJS.ProcessEnv } = {}): IpcClient {
  const c = forkService({ dbPath, dataDir, extraArgs: opts.autoResume === false ? ['--no-auto-resume'] : [], env: opts.env });
  clients.push(c);
  return c;
}

async function inProcess(dir: string): Promise<Service> {
  const s = await createService({ dbPath: path.join(dir, 'ws.db'), dataDir: path.join(dir, 'data') });
  services.push(s);
  return s;
}

afterEach(async () => {
  for (const c of clients.splice(0)) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  for (const p of children.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const s of services.splice(0)) await s.close();
});

/** weightsSha256 of the run's newest epoch checkpoint */
async function finalWeights(checkpoints: { kind: string; exists: boolean; path: string }[]): Promise<string> {
  const last = checkpoints.filter((c) => c.exists && c.kind === 'epoch').at(-1);
  if (!last) throw new Error('no epoch checkpoint');
  return (await inspectCheckpoint(last.path)).weightsSha256;
}

const learned = (rows: { epoch: number; trainLoss: number; trainTop1: number; trainTop5: number; valLoss: number | null; valTop1: number | null }[]) =>
  rows.map((e) => [e.epoch, e.trainLoss, e.trainTop1, e.trainTop5, e.valLoss, e.valTop1]);

function tempFiles(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.includes('.tmp-')) : [];
}

function integrity(dbPath: string): string {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

describe('one owner per run', () => {
  it('a CLI run and a service on the same database: the live run stays running, resuming it is refused; once its process dies every reader shows it interrupted', async () => {
    const dir = tempDir('own-');
    const dbPath = path.join(dir, 'ws.db');
    const dataDir = path.join(dir, 'data');
    const cfgFile = path.join(dir, 'long.json');
    fs.writeFileSync(cfgFile, JSON.stringify(tinyConfig({ name: 'cli-run', epochs: 50, steps: 8 })));
    const cli = spawn(
      process.execPath,
      [path.join(ROOT, 'bin/workstation.cjs'), 'train', '--config', cfgFile, '--in-process', '--db', dbPath, '--data-dir', dataDir],
      {
        cwd: dir,
      },
    );
    children.push(cli);
    let err = '';
    const training = new Promise<void>((resolve, reject) => {
      cli.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (/epoch 1\/50 train step 2\//.test(err)) resolve();
      });
      cli.on('exit', (code) => reject(new Error(`the CLI exited (${code}) before training: ${err}`)));
    });
    await training;

    const svc = start(dbPath, dataDir);
    const [run] = await svc.call('runs.list', {});
    expect(run.name).toBe('cli-run');
    expect(run.status).toBe('running'); // not marked interrupted by the service that just started
    expect(run.owner?.pid).toBe(cli.pid);
    await expect(svc.call('runs.resume', { runId: run.id })).rejects.toMatchObject({ code: 'OWNED', message: expect.stringContaining(`pid ${cli.pid}`) });
    expect((await svc.call('runs.get', { runId: run.id })).events.some((e) => e.kind === 'interrupted')).toBe(false);

    cli.kill('SIGKILL');
    await new Promise((r) => cli.once('exit', r));
    // no service restart needed: the owner is gone, so every reader says so (the CLI too)
    const after = await svc.call('runs.get', { runId: run.id });
    expect(after.run.status).toBe('interrupted');
    expect(after.run.owner).toBeNull();
    const listed = await new Promise<string>((resolve) => {
      const p = spawn(process.execPath, [path.join(ROOT, 'bin/workstation.cjs'), 'runs', '--json', '--db', dbPath], { cwd: dir });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.on('close', () => resolve(out));
    });
    expect((JSON.parse(listed) as RunSummary[]).find((r) => r.id === run.id)?.status).toBe('interrupted');
    // and now it can be resumed, here, by the service
    const done = waitStatus(svc, run.id, ['running']);
    await svc.call('runs.resume', { runId: run.id });
    expect((await done).owner?.pid).toBe(svc.child.pid);
    await svc.call('runs.stop', { runId: run.id });
    await waitStatus(svc, run.id, ['stopped']);
  });

  it('`workstation train` hands the run to the live service and follows it to the end', async () => {
    const dir = tempDir('hand-');
    const dbPath = path.join(dir, 'ws.db');
    const dataDir = path.join(dir, 'data');
    const svc = start(dbPath, dataDir);
    await svc.call('state.get', {}); // up, service.json written
    const cfgFile = path.join(dir, 'tiny.json');
    fs.writeFileSync(cfgFile, JSON.stringify(tinyConfig({ name: 'handed', epochs: 2, steps: 2 })));
    const seen = waitStatus(svc, 1, ['running']);
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(
        process.execPath,
        [path.join(ROOT, 'bin/workstation.cjs'), 'train', '--config', cfgFile, '--json', '--db', dbPath, '--data-dir', dataDir],
        {
          cwd: dir,
        },
      );
      children.push(p);
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(r.stderr).toContain(`in the running service (pid ${svc.child.pid})`);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { runId: number; status: string; weightsSha256: string; epochs: unknown[] };
    expect(out).toMatchObject({ runId: 1, status: 'completed' });
    expect(out.epochs).toHaveLength(2);
    // the service trained it (its pid owned the run), and the weights printed are the last checkpoint's
    expect((await seen).owner?.pid).toBe(svc.child.pid);
    const got = await svc.call('runs.get', { runId: 1 });
    expect(out.weightsSha256).toBe(await finalWeights(got.checkpoints));
  });
});

describe('forks keep what they fork', () => {
  it('a fork queued behind its running parent with keepLast 1 keeps its checkpoint (pinned), then starts and finishes', async () => {
    const svc = await inProcess(tempDir('pin-'));
    const first = waitEvent(svc, 'checkpoint.saved', (c) => c.epoch === 1 && c.kind === 'epoch');
    // keep only the last epoch checkpoint (no "best" kept either): rotation would delete epoch 1
    const parent = svc.runs.start({ config: { ...tinyConfig({ name: 'parent', epochs: 4, steps: 3 }), checkpoint: { keepLast: 1, keepBest: false } } });
    const cp = await first;
    const child = svc.runs.fork(cp.id, { train: { epochs: 3 } }, 'child');
    expect(child.status).toBe('queued');
    await expect(svc.call('checkpoints.delete', { checkpointId: cp.id, deleteFile: true })).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message: expect.stringContaining(`run ${child.id} (child, queued)`),
    });
    expect((await svc.call('checkpoints.settings', { checkpointId: cp.id })).dependents.map((r) => r.id)).toEqual([child.id]);
    const parentDone = await svc.runs.whenFinished(parent.id);
    expect(parentDone.run.status).toBe('completed');
    // rotation (keep 1) removed epochs 2 and 3 but not the pinned epoch 1
    const cps = svc.store.checkpoints.list(parent.id);
    expect(cps.filter((c) => c.kind === 'epoch' && c.exists).map((c) => c.epoch)).toEqual([1, 4]);
    const childDone = await svc.runs.whenFinished(child.id);
    expect(childDone.error).toBeNull();
    expect(childDone.run.status).toBe('completed');
    expect(svc.store.metrics.epochs(child.id).map((e) => e.epoch)).toEqual([2, 3]);
  });

  it('a live jitter change is kept by a fork from a later checkpoint: the child trains with it', async () => {
    const svc = await inProcess(tempDir('fork-aug-'));
    let changedAt = -1;
    const off = svc.on('run.step', (p) => {
      if (p.phase === 'train' && p.globalStep === 2 && changedAt < 0)
        changedAt = svc.runs.updateAugment(p.runId, { colorJitter: { brightness: 0.9, p: 1 } }).effectiveFromStep;
    });
    const second = waitEvent(svc, 'checkpoint.saved', (c) => c.epoch === 2 && c.kind === 'epoch');
    const parent = svc.runs.start({ config: tinyConfig({ name: 'jittery', epochs: 3, steps: 3 }) });
    const cp = await second;
    off();
    expect(changedAt).toBe(2);
    const settings = await svc.call('checkpoints.settings', { checkpointId: cp.id });
    expect((settings.config.augment as { colorJitter: { brightness: number; p: number } }).colorJitter).toMatchObject({ brightness: 0.9, p: 1 });
    await svc.runs.whenFinished(parent.id);
    const child = svc.runs.fork(cp.id, { train: { epochs: 4 } }, 'child');
    const childCfg = svc.store.runs.config(child.id) as { augment: { colorJitter: { brightness: number; p: number } } };
    expect(childCfg.augment.colorJitter).toMatchObject({ brightness: 0.9, p: 1 });
    const fork = svc.store.events.list(child.id).find((e) => e.kind === 'fork')!;
    expect(fork.data).toMatchObject({ resumeMode: 'exact', diff: [{ field: 'train.epochs', from: 3, to: 4 }] });
    const running = waitEvent(svc, 'run.step', (p) => p.runId === child.id);
    await running;
    expect((svc.runs.state().augment as { colorJitter: unknown } | null)?.colorJitter).toMatchObject({ brightness: 0.9, p: 1 });
    expect((await svc.runs.whenFinished(child.id)).run.status).toBe('completed');
  });
});

describe('crashes', () => {
  it('a live jitter change, SIGKILL, auto-resume: the run keeps the change and ends on the weights of an uninterrupted run given it at the same step', async () => {
    const dir = tempDir('kill-aug-');
    const cfg = tinyConfig({ name: 'kill-aug', epochs: 2, steps: 6, everySteps: 3, seed: 6 });
    const patch = { colorJitter: { brightness: 0.8, contrast: 0.5, p: 1 } };
    const dbPath = path.join(dir, 'ws.db');
    const dataDir = path.join(dir, 'data');
    const first = start(dbPath, dataDir);
    const stepped = waitEvent(first, 'run.step', (p) => p.phase === 'train' && p.globalStep >= 1);
    const run = await first.call('runs.start', { config: cfg });
    await stepped;
    // paused at a step boundary, the change applies from the next step: a step this test knows
    await first.call('runs.pause', { runId: run.id });
    const { effectiveFromStep: g } = await first.call('runs.updateAugment', { runId: run.id, patch });
    const applied = waitEvent(first, 'run.step', (p) => p.phase === 'train' && p.globalStep === g + 1);
    await first.call('runs.resume', { runId: run.id });
    await applied;
    first.child.kill('SIGKILL');
    await first.exited;

    const second = start(dbPath, dataDir); // auto-resumes
    const done = await waitStatus(second, run.id, ENDED);
    expect(done.status).toBe('completed');
    const got = await second.call('runs.get', { runId: run.id });
    expect(got.events.some((e) => e.kind === 'resume' && e.data.auto === true)).toBe(true);

    // the same run, uninterrupted, with the same change at the same step
    const ref = await inProcess(tempDir('kill-aug-ref-'));
    const off = ref.on('run.step', (p) => {
      if (p.phase === 'train' && p.globalStep === g) ref.runs.updateAugment(p.runId, patch);
    });
    const refRun = ref.runs.start({ config: cfg });
    const refDone = await ref.runs.whenFinished(refRun.id);
    off();
    expect(refDone.result?.weightsSha256).toBe(await finalWeights(got.checkpoints));
    expect(learned(got.epochs)).toEqual(learned(refDone.result!.epochs));
    second.child.kill('SIGTERM');
    await second.exited;
  });

  it('auto-resume gives up, saying why, after the run crashed within a minute of resuming 3 times in a row', async () => {
    const dir = tempDir('loop-');
    const dbPath = path.join(dir, 'ws.db');
    const dataDir = path.join(dir, 'data');
    const cfg = tinyConfig({ name: 'crashy', epochs: 50, steps: 8 });
    let runId: number | null = null;
    for (let i = 0; i < 4; i++) {
      const svc = start(dbPath, dataDir);
      const stepped = waitEvent(svc, 'run.step', (p) => p.phase === 'train');
      if (runId === null) runId = (await svc.call('runs.start', { config: cfg })).id;
      await stepped; // the first start, then three automatic resumes, each killed right away
      svc.child.kill('SIGKILL');
      await svc.exited;
    }
    const svc = start(dbPath, dataDir);
    const got = await svc.call('runs.get', { runId: runId! });
    expect(got.run.status).toBe('interrupted');
    expect(got.events.filter((e) => e.kind === 'resume' && e.data.auto === true)).toHaveLength(3);
    const note = got.events.filter((e) => e.kind === 'note').at(-1);
    expect(note?.data.message).toContain('auto-resume stopped: the run crashed within a minute of resuming 3 times in a row');
    // resuming by hand still works
    const running = waitStatus(svc, runId!, ['running']);
    await svc.call('runs.resume', { runId: runId! });
    expect((await running).owner?.pid).toBe(svc.child.pid);
  });

  it('a checkpoint write that fails (disk full, injected) pauses the run with the error and loses nothing; resume writes it and finishes', async () => {
    const dir = tempDir('enospc-');
    const dbPath = path.join(dir, 'ws.db');
    const dataDir = path.join(dir, 'data');
    const svc = start(dbPath, dataDir, { env: { ...process.env, [FAULT_ENV]: 'ENOSPC:1' } });
    const paused = waitStatus(svc, 1, ['paused', ...ENDED]);
    const run = await svc.call('runs.start', { config: tinyConfig({ name: 'full-disk', epochs: 2, steps: 3 }) });
    const p = await paused;
    expect(p.status).toBe('paused');
    expect(p.error).toContain('ENOSPC');
    expect(p.error).toContain('free disk space');
    const got = await svc.call('runs.get', { runId: run.id });
    expect(got.events.find((e) => e.kind === 'error')?.data).toMatchObject({ code: 'CHECKPOINT_WRITE_FAILED' });
    expect(got.checkpoints).toEqual([]);
    expect(got.epochs.map((e) => e.epoch)).toEqual([1]); // the epoch's metrics were committed before the write
    const ckDir = path.join(dataDir, 'runs', String(run.id), 'checkpoints');
    expect(tempFiles(ckDir)).toEqual([]);
    expect(integrity(dbPath)).toBe('ok');

    const done = waitStatus(svc, run.id, ENDED);
    await svc.call('runs.resume', { runId: run.id });
    expect((await done).status).toBe('completed');
    const after = await svc.call('runs.get', { runId: run.id });
    expect(after.run.error).toBeNull();
    expect(after.checkpoints.filter((c) => c.exists).map((c) => c.epoch)).toEqual([1, 2]);
    expect(after.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    svc.child.kill('SIGTERM');
    await svc.exited;
  });

  it('chaos: SIGKILL at random moments (steps, checkpoint writes, commits), resumed each time, ends like the uninterrupted run', async () => {
    const dir = tempDir('chaos-');
    // a checkpoint after every step, so kills land inside writes and commits too
    const cfg = tinyConfig({ name: 'chaos', epochs: 2, steps: 5, everySteps: 1, seed: 8 });
    const ref = await inProcess(path.join(dir, 'ref'));
    const refDone = await ref.runs.whenFinished(ref.runs.start({ config: cfg }).id);
    expect(refDone.run.status).toBe('completed');

    const dbPath = path.join(dir, 'chaos.db');
    const dataDir = path.join(dir, 'data');
    const rng = createRng(20261201);
    let runId: number | null = null;
    let kills = 0;
    for (let round = 0; round < 6 && kills < 4; round++) {
      // resumed by hand each time: quick crashes in a row would (rightly) stop auto-resume
      const svc = start(dbPath, dataDir, { autoResume: false });
      if (runId === null) runId = (await svc.call('runs.start', { config: cfg })).id;
      else {
        const status = (await svc.call('runs.get', { runId })).run.status;
        expect(status).toBe('interrupted');
        await svc.call('runs.resume', { runId });
      }
      const id = runId;
      // wait 1-3 more steps of this process, then a random 0-60 ms more, then kill it
      const steps = 1 + rng.int(3);
      let seen = 0;
      const first = await new Promise<'step' | 'ended'>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`round ${round}: no progress`)), 120_000);
        const done = (v: 'step' | 'ended') => {
          clearTimeout(timer);
          offStep();
          offStatus();
          resolve(v);
        };
        const offStep = svc.on('run.step', (p) => {
          if (p.runId === id && p.phase === 'train' && ++seen >= steps) done('step');
        });
        const offStatus = svc.on('run.status', ({ run }) => {
          if (run.id === id && ENDED.includes(run.status)) done('ended');
        });
      });
      if (first === 'ended') {
        svc.child.kill('SIGTERM');
        await svc.exited;
        break;
      }
      await new Promise((r) => setTimeout(r, rng.int(60)));
      svc.child.kill('SIGKILL');
      await svc.exited;
      kills++;
    }
    expect(kills).toBeGreaterThanOrEqual(2);
    // let the last restart finish the run
    const last = start(dbPath, dataDir, { autoResume: false });
    const got = await last.call('runs.get', { runId: runId! });
    let final = got.run;
    if (got.run.status === 'interrupted') {
      const ended = waitStatus(last, runId!, ['completed', 'failed', 'stopped']);
      await last.call('runs.resume', { runId: runId! });
      final = await ended;
    }
    expect(final.status).toBe('completed');
    const after = await last.call('runs.get', { runId: runId! });
    last.child.kill('SIGTERM');
    await last.exited;

    expect(integrity(dbPath)).toBe('ok');
    const db = new Database(dbPath, { readonly: true });
    try {
      const rows = db.prepare('SELECT epoch, COUNT(*) AS n FROM epoch_metrics WHERE run_id = ? GROUP BY epoch ORDER BY epoch').all(runId) as {
        epoch: number;
        n: number;
      }[];
      expect(rows).toEqual([
        { epoch: 1, n: 1 },
        { epoch: 2, n: 1 },
      ]);
    } finally {
      db.close();
    }
    const ckDir = path.dirname(after.checkpoints[0].path);
    expect(tempFiles(ckDir)).toEqual([]);
    expect(await finalWeights(after.checkpoints)).toBe(refDone.result!.weightsSha256);
    expect(learned(after.epochs)).toEqual(learned(refDone.result!.epochs));
    expect(after.events.filter((e) => e.kind === 'interrupted').length).toBe(kills);
  });
});
