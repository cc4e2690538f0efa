// Pause / resume / stop requests for a training loop, honoured at step boundaries: `gate()`
// waits while paused and says whether the loop may go on.
export class RunControl {
  private paused = false;
  private stopRequested = false;
  private wake: (() => void) | null = null;

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
    while (this.paused && !this.stopRequested) await new Promise<void>((r) => (this.wake = r));
    this.wake = null;
    return !this.stopRequested;
  }
}
