// Crash safety of the real service process (out/node/service.cjs, forked with an IPC channel the
// way Electron main does): SIGKILL mid-epoch leaves completed epochs and checkpoints intact, the
// next service marks the run 'interrupted', and runs.resume finishes it; with auto-resume (the
// default) the next service continues it by itself from its mid-epoch checkpoint and ends on the
// weights and epoch metrics of an uninterrupted run. SIGTERM stops the run at a step boundary
// with a mid-epoch checkpoint, closes the database cleanly (integrity_check ok) and exits 0.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectCheckpoint } from '../../src-main/ml/checkpoint';
import { forkService, type IpcClient } from '../../src-main/common/ipc-client';
import { readServiceFile } from '../../src-main/common/service-file';
import { connectWs } from '../../src-main/common/ws-client';
import { tempDir } from '../helpers/samples';
import { tinyConfig } from './tiny-config';
import { waitEvent, waitStatus } from './wait-event';

const clients: IpcClient[] = [];
function start(dbPath: string, dataDir: string, extraArgs: string[] = ['--no-auto-resume']): IpcClient {
  const c = forkService({ dbPath, dataDir, extraArgs });
  clients.push(c);
  return c;
}

afterEach(() => {
  for (const c of clients.splice(0)) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
});

describe('service process', () => {
  it('survives SIGKILL mid-epoch: the run is interrupted with its epochs and checkpoints intact, and resumes to completion', async () => {
    const dir = tempDir('svc-crash-');
    const dbPath = path.join(dir, 'crash.db');
    const dataDir = path.join(dir, 'data');
    const first = start(dbPath, dataDir);
    const checkpoint1 = waitEvent(first, 'checkpoint.saved', (c) => c.epoch === 1);
    const run = await first.call('runs.start', { config: tinyConfig({ name: 'crashy', epochs: 3, steps: 6 }) });
    expect(run.status).toBe('running');
    await checkpoint1;
    // Kill it inside epoch 2 (after at least one of its steps), not at a boundary.
    await waitEvent(first, 'run.step', (p) => p.epoch === 2 && p.phase === 'train' && p.step >= 1);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = start(dbPath, dataDir);
    const got = await second.call('runs.get', { runId: run.id });
    expect(got.run.status).toBe('interrupted');
    expect(got.epochs.map((e) => e.epoch)).toEqual([1]);
    expect(got.events.some((e) => e.kind === 'interrupted')).toBe(true);
    const cp = got.checkpoints.find((c) => c.epoch === 1)!;
    expect(cp.exists).toBe(true);
    const inspected = await inspectCheckpoint(cp.path);
    expect(inspected.epoch).toBe(1);
    expect(inspected.sha256).toBe(cp.sha256);
    expect(inspected.bytes).toBe(cp.bytes);

    const done = waitStatus(second, run.id, ['completed', 'failed']);
    const resumed = await second.call('runs.resume', { runId: run.id });
    expect(resumed.id).toBe(run.id);
    // A client reattaching mid-run through service.json (what a reopened app does) gets the
    // live state, then the run's events.
    const info = readServiceFile(dataDir)!;
    expect(info.pid).toBe(second.child.pid);
    const ws = await connectWs({ host: info.host, port: info.port, token: info.token });
    try {
      const nextStep = waitEvent(ws, 'run.step', (p) => p.runId === run.id);
      const state = await ws.call('state.get', {});
      expect(state.activeRun?.id).toBe(run.id);
      expect(state.activeRun?.status).toBe('running');
      expect((await nextStep).epoch).toBeGreaterThanOrEqual(2);
    } finally {
      ws.close();
    }
    const final = await done;
    expect(final.error).toBeNull();
    expect(final.status).toBe('completed');
    const after = await second.call('runs.get', { runId: run.id });
    expect(after.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(after.epochs[0]).toEqual(got.epochs[0]); // the committed epoch was not rewritten
    expect(after.checkpoints.filter((c) => c.exists).map((c) => c.epoch)).toContain(3);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });

  it('on SIGTERM stops at a step boundary, closes the database cleanly and exits 0', async () => {
    const dir = tempDir('svc-term-');
    const dbPath = path.join(dir, 'term.db');
    const dataDir = path.join(dir, 'data');
    const svc = start(dbPath, dataDir);
    const stepped = waitEvent(svc, 'run.step', (p) => p.phase === 'train');
    const run = await svc.call('runs.start', { config: tinyConfig({ name: 'term', epochs: 3, steps: 4 }) });
    await stepped;
    const info = readServiceFile(dataDir);
    expect(info?.pid).toBe(svc.child.pid);
    expect(svc.output()).toContain(`workstation service: http://127.0.0.1:${info?.port}/?token=${info?.token}`);
    svc.child.kill('SIGTERM');
    const exit = await svc.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(path.join(dataDir, 'service.json'))).toBe(false);

    const db = new Database(dbPath, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const row = db.prepare('SELECT status, ended_at FROM runs WHERE id = ?').get(run.id) as { status: string; ended_at: string | null };
      expect(row.status).toBe('stopped');
      expect(row.ended_at).not.toBeNull();
    } finally {
      db.close();
    }
    // A clean close leaves no WAL behind to replay.
    expect(fs.existsSync(`${dbPath}-wal`) ? fs.statSync(`${dbPath}-wal`).size : 0).toBe(0);
    // ...and the steps it trained are kept: a mid-epoch checkpoint at the step it stopped after
    const store = new Database(dbPath, { readonly: true });
    try {
      const ck = store.prepare('SELECT kind, epoch, step_in_epoch, global_step, path FROM checkpoints WHERE run_id = ? ORDER BY id DESC').get(run.id) as {
        kind: string;
        epoch: number;
        step_in_epoch: number;
        global_step: number;
        path: string;
      };
      expect(ck.kind).toBe('mid-epoch');
      expect(ck.global_step).toBeGreaterThanOrEqual(1);
      expect((await inspectCheckpoint(ck.path)).checkpointKind).toBe('mid-epoch');
    } finally {
      store.close();
    }
  });

  it('SIGKILL right after a mid-epoch checkpoint: the restarted service resumes by itself and ends where an uninterrupted run ends', async () => {
    const dir = tempDir('svc-auto-');
    const cfg = tinyConfig({ name: 'auto', epochs: 2, steps: 6, everySteps: 2, seed: 4 });
    // the uninterrupted run, in a service of its own
    const refDb = path.join(dir, 'ref.db');
    const ref = start(refDb, path.join(dir, 'ref-data'));
    const refRun = await ref.call('runs.start', { config: cfg });
    const refDone = await waitStatus(ref, refRun.id, ['completed', 'failed']);
    expect(refDone.status).toBe('completed');
    const refGot = await ref.call('runs.get', { runId: refRun.id });
    const refLast = refGot.checkpoints.filter((c) => c.exists && c.kind === 'epoch').at(-1)!;
    ref.child.kill('SIGTERM');
    await ref.exited;

    const dbPath = path.join(dir, 'auto.db');
    const dataDir = path.join(dir, 'data');
    const first = start(dbPath, dataDir, []);
    const mid = waitEvent(first, 'checkpoint.saved', (c) => c.kind === 'mid-epoch' && c.epoch === 2 && c.stepInEpoch === 2);
    const run = await first.call('runs.start', { config: cfg });
    const saved = await mid;
    first.child.kill('SIGKILL');
    await first.exited;

    const second = start(dbPath, dataDir, []); // auto-resume on, as the app runs it
    const done = waitStatus(second, run.id, ['completed', 'failed', 'interrupted', 'stopped']);
    const got = await second.call('runs.get', { runId: run.id });
    const auto = got.events.find((e) => e.kind === 'resume' && e.data.auto === true);
    expect(auto?.data).toMatchObject({ checkpointId: saved.id, checkpointKind: 'mid-epoch', stepInEpoch: 2 });
    expect(got.events.some((e) => e.kind === 'interrupted')).toBe(true);
    const final = got.run.status === 'completed' ? got.run : await done;
    expect(final.status).toBe('completed');
    const after = await second.call('runs.get', { runId: run.id });
    const last = after.checkpoints.filter((c) => c.exists && c.kind === 'epoch').at(-1)!;
    expect((await inspectCheckpoint(last.path)).weightsSha256).toBe((await inspectCheckpoint(refLast.path)).weightsSha256);
    const learned = (rows: typeof after.epochs) => rows.map((e) => [e.epoch, e.trainLoss, e.trainTop1, e.trainTop5, e.valLoss, e.valTop1]);
    expect(learned(after.epochs)).toEqual(learned(refGot.epochs));
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });
});
