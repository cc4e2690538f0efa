// The supervisor against real child processes: a tiny Node script that dies, or stays up.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../src-main/common/service-file';
import { createSupervisor, type StateDetail, type SupervisedState, type Supervisor } from '../../src-main/electron/supervisor';
import { tempDir } from '../helpers/samples';

const dir = tempDir('ws-supervisor-');
/** Prints its pid, then exits with the given code after `ms` (or stays up with ms < 0). */
const childScript = path.join(dir, 'child.cjs');
fs.writeFileSync(
  childScript,
  `const [ms, code] = process.argv.slice(2).map(Number);
console.log('child ' + process.pid);
console.error('to stderr');
process.on('disconnect', () => {}); // stays up when the parent lets go
if (ms >= 0) setTimeout(() => process.exit(code), ms); else setInterval(() => {}, 1000);`,
);

const live: Supervisor[] = [];
afterEach(async () => {
  for (const s of live.splice(0)) await s.stop(2000);
});

function record() {
  const states: { state: SupervisedState; message: string | null; detail: StateDetail }[] = [];
  const lines: string[] = [];
  return {
    states,
    lines,
    onState: (state: SupervisedState, message: string | null, detail: StateDetail) => states.push({ state, message, detail }),
    onOutput: (line: string) => lines.push(line),
  };
}

function waitFor(pred: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (pred()) return resolve();
      if (Date.now() > until) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

describe('service supervisor', () => {
  it('restarts a crashing child with growing delays, then gives up', async () => {
    const r = record();
    const sup = createSupervisor({
      command: process.execPath,
      args: [childScript, '50', '3'],
      backoff: { initialMs: 20, factor: 2, maxMs: 1000, stableAfterMs: 60_000, maxConsecutiveCrashes: 3 },
      ...r,
    });
    live.push(sup);
    sup.start();
    await waitFor(() => sup.state === 'failed', 'the supervisor to give up');
    expect(sup.spawnCount).toBe(4);
    const restarting = r.states.filter((s) => s.state === 'restarting');
    expect(restarting.map((s) => s.detail.delayMs)).toEqual([20, 40, 80]);
    expect(restarting.map((s) => s.detail.attempt)).toEqual([1, 2, 3]);
    expect(restarting.every((s) => s.detail.exitCode === 3)).toBe(true);
    expect(restarting[0].message).toMatch(/stopped \(exit code 3\); restarting in 0\.02 s \(attempt 1 of 3\)/);
    const failed = r.states.at(-1)!;
    expect(failed.state).toBe('failed');
    expect(failed.message).toMatch(/gave up after 4 crashes/);
    // every spawn was a new process that printed its own pid
    const pids = r.lines.filter((l) => l.startsWith('child ')).map((l) => l.slice(6));
    expect(new Set(pids).size).toBe(4);
    expect(r.lines).toContain('to stderr');
    expect(r.states.filter((s) => s.state === 'ready')).toHaveLength(4);
  });

  it('restarts a child killed from outside and reports ready again', async () => {
    const r = record();
    const sup = createSupervisor({ command: process.execPath, args: [childScript, '-1', '0'], backoff: { initialMs: 20 }, ...r });
    live.push(sup);
    sup.start();
    await waitFor(() => sup.state === 'ready', 'first ready');
    const first = sup.child!.pid!;
    process.kill(first, 'SIGKILL');
    await waitFor(() => sup.state === 'ready' && sup.child?.pid !== first, 'the restarted child');
    expect(isProcessAlive(first)).toBe(false);
    const restart = r.states.find((s) => s.state === 'restarting')!;
    expect(restart.detail.signal).toBe('SIGKILL');
    expect(restart.message).toMatch(/killed by SIGKILL/);
    expect(sup.spawnCount).toBe(2);
  });

  it('waits for onSpawn before ready, and treats a rejection as a crash', async () => {
    const r = record();
    let calls = 0;
    const sup = createSupervisor({
      command: process.execPath,
      args: [childScript, '-1', '0'],
      backoff: { initialMs: 10, maxConsecutiveCrashes: 5 },
      onSpawn: async () => {
        calls++;
        if (calls === 1) throw new Error('not talking');
      },
      ...r,
    });
    live.push(sup);
    sup.start();
    await waitFor(() => sup.state === 'ready', 'ready after one failed handshake');
    expect(calls).toBe(2);
    expect(r.states.map((s) => s.state)).toEqual(['starting', 'restarting', 'starting', 'ready']);
    expect(r.lines.join('\n')).toMatch(/did not become ready: not talking/);
  });

  it('stop() terminates the child and does not restart it', async () => {
    const r = record();
    const sup = createSupervisor({ command: process.execPath, args: [childScript, '-1', '0'], backoff: { initialMs: 10 }, ...r });
    sup.start();
    await waitFor(() => sup.state === 'ready', 'ready');
    const pid = sup.child!.pid!;
    await sup.stop(2000);
    expect(isProcessAlive(pid)).toBe(false);
    await new Promise((res) => setTimeout(res, 100));
    expect(sup.spawnCount).toBe(1);
    expect(r.states.some((s) => s.state === 'restarting')).toBe(false);
  });

  it('detach() leaves a detached child running (keep training in the background)', async () => {
    const logFile = path.join(dir, 'logs', 'child.log');
    const sup = createSupervisor({ command: process.execPath, args: [childScript, '-1', '0'], detached: true, logFile });
    sup.start();
    await waitFor(() => sup.state === 'ready', 'ready');
    const pid = sup.detach()!;
    expect(sup.state).toBe('detached');
    await new Promise((res) => setTimeout(res, 300));
    expect(isProcessAlive(pid)).toBe(true);
    expect(fs.readFileSync(logFile, 'utf8')).toMatch(new RegExp(`child ${pid}`));
    process.kill(pid, 'SIGTERM');
    await waitFor(() => !isProcessAlive(pid), 'the detached child to end');
  });

  it('reports a missing binary as a crash, not an exception', async () => {
    const r = record();
    const sup = createSupervisor({ command: path.join(dir, 'no-such-node'), args: [], backoff: { initialMs: 5, maxConsecutiveCrashes: 1 }, ...r });
    live.push(sup);
    sup.start();
    await waitFor(() => sup.state === 'failed', 'failed');
    expect(r.states.find((s) => s.state === 'restarting')?.message).toMatch(/could not start .*no-such-node/);
  });
});
