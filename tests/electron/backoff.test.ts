// The service restart policy: the arithmetic on small numbers, then the documented defaults the
// app runs with (README: "after 0.5 s, 1 s, 2 s, … up to 30 s; it gives up after 8 quick crashes
// in a row"), pinned, and a real supervisor started the way Electron main starts it (no backoff
// option) applying them to a real crashing child.
import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, backoffDelay, decideRestart, type BackoffOptions } from '../../src-main/electron/backoff';
import { createSupervisor, type StateDetail, type SupervisedState } from '../../src-main/electron/supervisor';

const opts: BackoffOptions = { initialMs: 100, maxMs: 1000, factor: 2, stableAfterMs: 5000, maxConsecutiveCrashes: 5 };

describe('service restart backoff', () => {
  it('doubles the delay per consecutive crash up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, opts))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('rejects a negative or fractional attempt', () => {
    expect(() => backoffDelay(-1, opts)).toThrow(/attempt/);
    expect(() => backoffDelay(1.5, opts)).toThrow(/attempt/);
  });

  it('grows a streak of quick crashes, then gives up', () => {
    let streak = 0;
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = decideRestart(streak, 10, opts);
      streak = r.streak;
      expect(r.decision.action).toBe('restart');
      if (r.decision.action === 'restart') {
        expect(r.decision.attempt).toBe(i + 1);
        delays.push(r.decision.delayMs);
      }
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000]);
    const last = decideRestart(streak, 10, opts);
    expect(last.decision).toEqual({ action: 'give-up', crashes: 6 });
  });

  it('forgets the streak once the service ran long enough', () => {
    const r = decideRestart(4, 5000, opts);
    expect(r.streak).toBe(1);
    expect(r.decision).toEqual({ action: 'restart', delayMs: 100, attempt: 1 });
  });
});

describe('the documented defaults', () => {
  it('are 0.5 s first, doubling, capped at 30 s, 8 restarts in a row at most, a streak forgotten after 60 s up', () => {
    expect(DEFAULT_BACKOFF).toEqual({ initialMs: 500, factor: 2, maxMs: 30_000, maxConsecutiveCrashes: 8, stableAfterMs: 60_000 });
    expect(Object.isFrozen(DEFAULT_BACKOFF)).toBe(true);
  });

  it('a service that keeps dying at once is restarted after 0.5, 1, 2, 4, 8, 16, 30, 30 s, then given up on', () => {
    let streak = 0;
    const delays: number[] = [];
    for (let crash = 1; crash <= 8; crash++) {
      const r = decideRestart(streak, 200, DEFAULT_BACKOFF);
      streak = r.streak;
      expect(r.decision).toMatchObject({ action: 'restart', attempt: crash });
      if (r.decision.action === 'restart') delays.push(r.decision.delayMs);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(decideRestart(streak, 200, DEFAULT_BACKOFF)).toEqual({ decision: { action: 'give-up', crashes: 9 }, streak: 9 });
    // however long the streak, no delay exceeds the cap
    expect(backoffDelay(40, DEFAULT_BACKOFF)).toBe(30_000);
  });

  it('a crash after a minute up starts a new streak at 0.5 s; one just before keeps counting', () => {
    expect(decideRestart(8, 60_000, DEFAULT_BACKOFF)).toEqual({ decision: { action: 'restart', delayMs: 500, attempt: 1 }, streak: 1 });
    expect(decideRestart(7, 59_999, DEFAULT_BACKOFF)).toEqual({ decision: { action: 'restart', delayMs: 30_000, attempt: 8 }, streak: 8 });
  });

  it('are what a supervisor started without a backoff option (as Electron main starts it) applies to a real crash', async () => {
    const states: { state: SupervisedState; message: string | null; detail: StateDetail }[] = [];
    let restarting: () => void = () => {};
    const firstRestart = new Promise<void>((r) => (restarting = r));
    const sup = createSupervisor({
      command: process.execPath,
      args: ['-e', 'process.exit(3)'],
      onState: (state, message, detail) => {
        states.push({ state, message, detail });
        if (state === 'restarting') restarting();
      },
    });
    try {
      sup.start();
      await firstRestart;
      const r = states.find((s) => s.state === 'restarting')!;
      expect(r.detail).toMatchObject({ exitCode: 3, attempt: 1, delayMs: 500 });
      expect(r.message).toMatch(/restarting in 0\.50 s \(attempt 1 of 8\)/);
    } finally {
      await sup.stop(2000);
    }
  });
});
