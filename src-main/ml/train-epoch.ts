// The step loop of one training epoch: pause/stop gate, pending live augmentation, the
// schedule's lr/momentum, one train step, and a progress event every `train.logEverySteps` steps
// (the only host sync; a non-finite loss there stops the run with DIVERGED).
import type { BatchSource } from '../../src-shared/batch-source';
import { applyAugmentPatch, type AugmentParams, type AugmentPatch } from '../../src-shared/config/augment';
import type { RunConfig } from '../../src-shared/config/run-config';
import { WorkstationError } from '../../src-shared/errors';
import { prepareBatch } from './augment/prepare-batch';
import type { MetricAccumulator } from './metrics';
import type { Model } from './models/index';
import type { SgdOptimizer } from './optim/sgd';
import { progressEvent, type StepEvent } from './progress';
import type { RunControl } from './run-control';
import type { createSchedule } from './schedule/index';
import { trainStep } from './train-step';

/** What the loop changes as it goes; owned by the Trainer, shared with each epoch. */
export interface LoopState {
  globalStep: number;
  augment: AugmentParams;
  pendingAugment: AugmentPatch | null;
  /** recorded live changes to re-apply at their global steps (a resumed run), in step order */
  scheduled: { globalStep: number; patch: AugmentPatch }[];
  /** steps of this trainer and when it started (in RunControl's active time: paused time left out), for the ETA */
  runSteps: number;
  runStart: number;
}

export interface EpochContext {
  cfg: Readonly<RunConfig>;
  model: Model;
  optimizer: SgdOptimizer;
  source: BatchSource;
  control: RunControl;
  schedule: ReturnType<typeof createSchedule>;
  /** global step of the schedule's step 0 */
  scheduleStart: number;
  stepsPerEpoch: number;
  state: LoopState;
  onStep?(p: StepEvent): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void;
  /** after each step (1-based count of steps done in the epoch, seconds waited for data so far); may write a checkpoint */
  afterStep?(epoch: number, stepsDone: number, waitSeconds: number): Promise<void>;
}

export interface EpochTrainResult {
  stopped: boolean;
  /** seconds this loop spent waiting for the next batch (paused time excluded) */
  waitSeconds: number;
  /** the last step's lr and momentum (NaN when no step ran) */
  lr: number;
  momentum: number;
  /** steps done in the epoch when the loop ended */
  stepsDone: number;
}

export async function trainEpoch(ctx: EpochContext, epoch: number, acc: MetricAccumulator, startStep = 0): Promise<EpochTrainResult> {
  const { cfg, state } = ctx;
  const spe = ctx.stepsPerEpoch;
  const target = cfg.train.epochs;
  let lr = NaN;
  let momentum = NaN;
  let stepInEpoch = startStep;
  // wall time minus paused time: a paused run's rate and ETA are about training, not waiting
  const active = () => performance.now() - ctx.control.pausedMs;
  let windowStart = active();
  let windowImages = 0;
  // time blocked on the data loader: from the end of one step's work to the next batch's arrival
  let waitStart = active();
  let waitSeconds = 0;
  let windowWait = 0;
  for await (const batch of ctx.source.batches('train', epoch, { startStep })) {
    const waited = (active() - waitStart) / 1000;
    waitSeconds += waited;
    windowWait += waited;
    if (!(await ctx.control.gate())) return { stopped: true, lr, momentum, stepsDone: stepInEpoch, waitSeconds };
    while (state.scheduled.length && state.scheduled[0].globalStep <= state.globalStep) {
      const c = state.scheduled.shift()!;
      state.augment = applyAugmentPatch(state.augment, c.patch);
      ctx.source.setAugment?.(c.patch);
      ctx.log('info', `recorded augmentation change re-applied at global step ${state.globalStep}`);
    }
    if (state.pendingAugment) {
      state.augment = applyAugmentPatch(state.augment, state.pendingAugment);
      state.pendingAugment = null;
      ctx.log('info', `augmentation updated from global step ${state.globalStep}`);
    }
    ({ lr, momentum } = ctx.schedule.at(state.globalStep - ctx.scheduleStart));
    const x = prepareBatch(batch, { train: true, augment: state.augment, seed: cfg.seed, fusedKernels: cfg.train.fusedKernels });
    try {
      trainStep(ctx.model, ctx.optimizer, { x, labels: batch.labels, lr, momentum, labelSmoothing: cfg.train.labelSmoothing }, acc);
    } finally {
      x.dispose();
    }
    state.globalStep++;
    state.runSteps++;
    windowImages += batch.n;
    const last = stepInEpoch === spe - 1;
    if ((stepInEpoch + 1) % cfg.train.logEverySteps === 0 || last) {
      const totals = acc.read(); // host sync: only here
      // A diverged run must stop loudly, not burn GPU-days on NaN weights; the epoch is not
      // checkpointed, so the last good checkpoint stays the newest one.
      if (!Number.isFinite(totals.loss)) throw diverged(epoch, stepInEpoch + 1, totals.loss, lr, momentum);
      const now = active();
      const rate = state.runSteps / ((now - state.runStart) / 1000);
      const remaining = (target - epoch) * spe + (spe - stepInEpoch - 1);
      ctx.onStep?.(
        progressEvent({
          phase: 'train',
          epoch,
          step: stepInEpoch,
          stepsInEpoch: spe,
          globalStep: state.globalStep,
          totals,
          lr,
          momentum,
          images: windowImages,
          seconds: (now - windowStart) / 1000,
          etaSeconds: rate > 0 ? remaining / rate : null,
          targetEpochs: target,
          waitSeconds: windowWait,
        }),
      );
      windowStart = now;
      windowImages = 0;
      windowWait = 0;
    }
    stepInEpoch++;
    await ctx.afterStep?.(epoch, stepInEpoch, waitSeconds);
    waitStart = active();
  }
  return { stopped: false, lr, momentum, stepsDone: stepInEpoch, waitSeconds };
}

export function diverged(epoch: number, step: number, loss: number, lr: number, momentum: number): WorkstationError {
  return new WorkstationError(
    'DIVERGED',
    `training diverged in epoch ${epoch} by step ${step}: the loss is ${loss} (lr ${lr}, momentum ${momentum}). ` +
      `Nothing of this epoch was saved; resume from the last checkpoint with a lower optimizer.lr (or a gentler schedule)`,
    { field: 'optimizer.lr' },
  );
}
