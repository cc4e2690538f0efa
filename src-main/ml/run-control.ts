// Pause / resume / stop requests for a training loop, honoured at step boundaries: `gate()`
// waits while paused and says whether the loop may go on. The time spent waiting is counted, so
// rates, ETAs and epoch durations leave paused time out.
export class RunControl {
  private paused = false;
  private stopRequested = false;
  private wake: (() => void) | null = null;
  private waitedMs = 0;

  /** total milliseconds the loop has waited in gate() while paused */
  get pausedMs(): number {
    return this.waitedMs;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  stop(): void {
    this.stopRequested = true;
    this.wake?.();
  }

  get stopping(): boolean {
    return this.stopRequested;
  }

  /** resolves true to go on, false when a stop was requested (also while paused) */
  async gate(): Promise<boolean> {
    if (this.paused && !this.stopRequested) {
      const t0 = performance.now();
      while (this.paused && !this.stopRequested) await new Promise<void>((r) => (this.wake = r));
      this.waitedMs += performance.now() - t0;
    }
    this.wake = null;
    return !this.stopRequested;
  }
}
