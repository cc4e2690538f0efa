import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, backoffDelay, decideRestart, type BackoffOptions } from '../../src-main/electron/backoff';

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

  it('defaults keep a crash-looping service from spinning (bounded delay, finite attempts)', () => {
    expect(DEFAULT_BACKOFF.maxConsecutiveCrashes).toBeGreaterThan(1);
    expect(backoffDelay(50, DEFAULT_BACKOFF)).toBe(DEFAULT_BACKOFF.maxMs);
  });
});
