// The run that holds the training slot. Its status lives in the store; what is kept here is what
// only the live process knows: the trainer and batch source handles, the latest progress, the
// augmentation in effect, and the control the user asked for before the trainer existed (a pause
// or stop requested while the dataset is still being indexed is applied as soon as it does).
import type { StepProgress } from '../../src-shared/api/schemas';
import type { AugmentParams } from '../../src-shared/config/augment';
import type { RunConfig } from '../../src-shared/config/run-config';
import type { BatchSource } from '../../src-shared/batch-source';
import type { Trainer } from '../ml/trainer';

export type Control = 'run' | 'pause' | 'stop';

export class ActiveRun {
  trainer: Trainer | null = null;
  source: BatchSource | null = null;
  progress: StepProgress | null = null;
  augment: AugmentParams;
  done: Promise<void> = Promise.resolve();
  private control: Control = 'run';

  constructor(
    readonly runId: number,
    readonly config: Readonly<RunConfig>,
  ) {
    this.augment = config.augment;
  }

  /** the trainer is ready: apply what was asked before it existed */
  attach(trainer: Trainer): void {
    this.trainer = trainer;
    this.apply();
  }

  setControl(c: Control): void {
    if (this.control === 'stop') return; // a stop is final
    this.control = c;
    this.apply();
  }

  get stopping(): boolean {
    return this.control === 'stop';
  }

  /** where the run stands, for events: epoch and global step of the latest progress */
  get at(): { epoch: number | null; globalStep: number | null } {
    return { epoch: this.progress?.epoch ?? null, globalStep: this.progress?.globalStep ?? null };
  }

  private apply(): void {
    const t = this.trainer;
    if (!t) return;
    if (this.control === 'stop') t.stop();
    else if (this.control === 'pause') t.pause();
    else t.resume();
  }
}
