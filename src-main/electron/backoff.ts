// Restart policy for the supervised service process: exponential backoff that forgets past
// crashes once the service has stayed up for a while, and gives up after too many quick
// crashes in a row (a service that dies on start would otherwise spin forever). Pure, so the
// supervisor's timing decisions are testable without waiting on real processes.

export interface BackoffOptions {
  /** delay before the first restart */
  initialMs: number;
  /** upper bound for any delay */
  maxMs: number;
  /** growth per consecutive crash */
  factor: number;
  /** a child that ran at least this long counts as healthy: the crash streak resets */
  stableAfterMs: number;
  /** give up (state `failed`) after this many consecutive quick crashes */
  maxConsecutiveCrashes: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  initialMs: 500,
  maxMs: 30_000,
  factor: 2,
  stableAfterMs: 60_000,
  maxConsecutiveCrashes: 8,
});

/** Delay before restart number `attempt` (0-based) of a crash streak. */
export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`attempt must be a non-negative integer, got ${attempt}`);
  return Math.min(opts.maxMs, Math.round(opts.initialMs * opts.factor ** attempt));
}

export type RestartDecision = { action: 'restart'; delayMs: number; attempt: number } | { action: 'give-up'; crashes: number };

/**
 * What to do after a crash, given how long the child ran and how many quick crashes came right
 * before it. Returns the new streak length alongside so the caller keeps no other state.
 */
export function decideRestart(streak: number, uptimeMs: number, opts: BackoffOptions): { decision: RestartDecision; streak: number } {
  const next = uptimeMs >= opts.stableAfterMs ? 1 : streak + 1;
  if (next > opts.maxConsecutiveCrashes) return { decision: { action: 'give-up', crashes: next }, streak: next };
  return { decision: { action: 'restart', delayMs: backoffDelay(next - 1, opts), attempt: next }, streak: next };
}
