// Validation of one epoch in eval mode (BN running stats), with the run's test-time augmentation
// (data.valTta, eval/tta.ts) and progress events; honours pause/stop at batch boundaries.
import type { BatchSource } from '../../src-shared/batch-source';
import type { RunConfig } from '../../src-shared/config/run-config';
import type { AugmentParams } from '../../src-shared/config/augment';
import { prepareBatch } from './augment/prepare-batch';
import type { MetricAccumulator } from './metrics';
import type { Model } from './models/index';
import { progressEvent, type StepEvent } from './progress';
import type { RunControl } from './run-control';
import { evalStepTta } from './eval/tta';

export interface ValidateContext {
  cfg: Readonly<RunConfig>;
  model: Model;
  source: BatchSource;
  control: RunControl;
  augment: AugmentParams;
  globalStep: number;
  lr: number;
  momentum: number;
  onStep?(p: StepEvent): void;
}

export type ValidationResult = { loss: number; top1: number; top5: number } | null | 'stopped';

/** Validation metrics; null when the val split is empty, 'stopped' when a stop came first. */
export async function validateEpoch(ctx: ValidateContext, epoch: number, acc: MetricAccumulator): Promise<ValidationResult> {
  const steps = ctx.source.stepsPerEpoch('val');
  if (steps === 0) return null;
  acc.reset();
  let i = 0;
  const active = () => performance.now() - ctx.control.pausedMs;
  const t0 = active();
  for await (const batch of ctx.source.batches('val', epoch)) {
    if (!(await ctx.control.gate())) return 'stopped';
    const x = prepareBatch(batch, { train: false, augment: ctx.augment, seed: ctx.cfg.seed, fusedKernels: ctx.cfg.train.fusedKernels });
    try {
      evalStepTta(ctx.model, x, batch.labels, ctx.cfg.train.labelSmoothing, acc, ctx.cfg.data.valTta ?? 'none');
    } finally {
      x.dispose();
    }
    i++;
    if (i % ctx.cfg.train.logEverySteps === 0 || i === steps) {
      const totals = acc.read();
      ctx.onStep?.(
        progressEvent({
          phase: 'val',
          epoch,
          step: i - 1,
          stepsInEpoch: steps,
          globalStep: ctx.globalStep,
          totals,
          lr: ctx.lr,
          momentum: ctx.momentum,
          images: totals.samples,
          seconds: (active() - t0) / 1000,
          etaSeconds: null,
          targetEpochs: ctx.cfg.train.epochs,
        }),
      );
    }
  }
  const m = acc.read();
  return m.samples > 0 ? { loss: m.loss, top1: m.top1, top5: m.top5 } : null;
}
