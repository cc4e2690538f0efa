// Electron main's service link against the real bundled service (out/node/service.cjs) under
// system Node: spawn + supervise over IPC, restart after a crash, keep training in the
// background (detach), reattach over WebSocket from service.json, stop.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backgroundMarkerPath, connectService, type ServiceConnection } from '../../src-main/electron/service-connection';
import { isProcessAlive, readServiceFile } from '../../src-main/common/service-file';
import type { SupervisedState } from '../../src-main/electron/supervisor';
import { nodeBundlePath } from '../../src-main/common/paths';
import { WorkstationError } from '../../src-shared/errors';
import { tempDir } from '../helpers/samples';
import { tinyConfig } from '../service/tiny-config';
import { waitEvent, waitStatus } from '../service/wait-event';

const ROOT = path.resolve(__dirname, '../..');
const home = tempDir('ws-electron-svc-');
const open: ServiceConnection[] = [];
const stray: number[] = [];
const firstStates: { state: SupervisedState; message: string | null }[] = [];

afterAll(async () => {
  for (const c of open) await c.stop(5000).catch(() => undefined);
  for (const pid of stray) if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
});

function connect(states: { state: SupervisedState; message: string | null }[] = [], events: string[] = []) {
  return connectService({
    dataDir: home,
    dbPath: path.join(home, 'workstation.db'),
    nodePath: process.execPath,
    serviceBundle: nodeBundlePath('service'),
    cwd: ROOT,
    backoff: { initialMs: 50 },
    onState: (state, message) => states.push({ state, message }),
    onEvent: (e) => events.push(e),
  });
}

async function waitFor(pred: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Electron main ↔ training service', () => {
  it('spawns the service, answers calls over IPC, and carries typed errors', async () => {
    const states = firstStates;
    const conn = await connect(states);
    open.push(conn);
    expect(conn.mode).toBe('spawned');
    await conn.ready;
    expect(states.map((s) => s.state)).toEqual(['starting', 'ready']);
    const client = conn.client()!;
    const state = await client.call('state.get', {});
    expect(state.activeRun).toBeNull();
    expect(await client.call('runs.list', {})).toEqual([]);
    const err = await client.call('runs.get', { runId: 424242 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkstationError);
    expect((err as WorkstationError).code).toBe('NOT_FOUND');
    expect(readServiceFile(home)?.pid).toBe(conn.pid());
    // the service writes its output to <dataDir>/logs/service.log, which outlives main
    expect(fs.readFileSync(path.join(home, 'logs', 'service.log'), 'utf8')).toMatch(/workstation service: http:\/\/127\.0\.0\.1:\d+\//);
  });

  it('restarts the service after it is killed and reports it to the UI', async () => {
    const conn = open[0];
    firstStates.length = 0;
    const before = conn.pid()!;
    process.kill(before, 'SIGKILL');
    await waitFor(() => conn.client() !== null && conn.pid() !== before, 'the restarted service');
    expect(isProcessAlive(before)).toBe(false);
    expect((await conn.client()!.call('state.get', {})).activeRun).toBeNull();
    expect(firstStates.map((s) => s.state)).toEqual(['restarting', 'starting', 'ready']);
    expect(firstStates[0].message).toMatch(/stopped \(killed by SIGKILL\); restarting in/);
  });

  it('keeps the service running when the window leaves it in the background, and reattaches', async () => {
    const conn = open.shift()!;
    const pid = conn.pid()!;
    conn.detach();
    stray.push(pid);
    await new Promise((r) => setTimeout(r, 300));
    expect(isProcessAlive(pid)).toBe(true);
    expect(JSON.parse(fs.readFileSync(backgroundMarkerPath(home), 'utf8')).pid).toBe(pid);

    // "reopening the app": service.json names a live service → reattach over WebSocket
    const events: string[] = [];
    const again = await connect([], events);
    open.push(again);
    expect(again.mode).toBe('reattached');
    await again.ready;
    expect(again.pid()).toBe(pid);
    const state = await again.client()!.call('state.get', {});
    expect(state.queue).toEqual([]);
    expect(await again.client()!.call('runs.list', {})).toEqual([]);

    // closing with nothing training: the background service is ours, so it is stopped
    await again.stop(15_000);
    open.pop();
    expect(isProcessAlive(pid)).toBe(false);
    expect(fs.existsSync(backgroundMarkerPath(home))).toBe(false);
  });

  it('starts its own service when the background service it watched dies', async () => {
    const first = await connect();
    await first.ready;
    const bgPid = first.pid()!;
    first.detach();
    stray.push(bgPid);
    const states: { state: SupervisedState; message: string | null }[] = [];
    const conn = await connect(states);
    open.push(conn);
    expect(conn.mode).toBe('reattached');
    process.kill(bgPid, 'SIGKILL');
    await waitFor(() => conn.client() !== null && conn.pid() !== bgPid, 'a fresh service');
    expect(states[1]).toEqual({ state: 'restarting', message: expect.stringMatching(/Lost the background training service/) });
    expect((await conn.client()!.call('state.get', {})).activeRun).toBeNull();
    await conn.stop(15_000);
    open.pop();
  });

  it('a run keeps training in the background and is live again after reattaching', async () => {
    const first = await connect();
    open.push(first);
    await first.ready;
    const c1 = first.client()!;
    const stepped = waitEvent(c1, 'run.step', () => true, 170_000);
    const run = await c1.call('runs.start', { config: tinyConfig({ epochs: 200, steps: 2, name: 'background' }) });
    await stepped;

    // the window closes with "Keep training in the background"
    const pid = first.pid()!;
    first.detach();
    open.pop();
    stray.push(pid);

    // reopening: the renderer's first call is state.get, which shows the live run
    const again = await connect();
    open.push(again);
    expect(again.mode).toBe('reattached');
    const c2 = again.client()!;
    const liveStep = waitEvent(c2, 'run.step', (p) => p.runId === run.id, 170_000);
    const state = await c2.call('state.get', {});
    expect(state.activeRun?.id).toBe(run.id);
    expect(state.activeRun?.status).toBe('running');
    // and events keep coming over the reattached connection
    expect((await liveStep).runId).toBe(run.id);

    // closing again with "Stop the run"
    const stopped = waitStatus(c2, run.id, ['stopped'], 170_000);
    await c2.call('runs.stop', { runId: run.id });
    expect((await stopped).status).toBe('stopped');
    await again.stop(30_000);
    open.pop();
    expect(isProcessAlive(pid)).toBe(false);
  });

  it('ignores a stale service.json and spawns a fresh service', async () => {
    fs.writeFileSync(path.join(home, 'service.json'), JSON.stringify({ pid: 999_999_9, port: 1, token: 'x'.repeat(32), host: '127.0.0.1' }));
    const conn = await connect();
    open.push(conn);
    expect(conn.mode).toBe('spawned');
    await conn.ready;
    expect(readServiceFile(home)?.pid).toBe(conn.pid());
  });
});
