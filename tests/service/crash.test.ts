// Crash safety of the real service process (out/node/service.cjs, forked with an IPC channel the
// way Electron main does): SIGKILL mid-epoch leaves completed epochs and checkpoints intact, the
// next service marks the run 'interrupted', and runs.resume finishes it. SIGTERM stops the run at
// a step boundary, closes the database cleanly (integrity_check ok) and exits 0.
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
function start(dbPath: string, dataDir: string): IpcClient {
  const c = forkService({ dbPath, dataDir });
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
  });
});
