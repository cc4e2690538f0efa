// The progress event of a training or validation phase: one shape for both, built in one place.
// Rates cover the window since the previous event (train) or the phase so far (val).
import type { StepProgress } from '../../src-shared/api/schemas';
import type { MetricTotals } from './metrics';

export type StepEvent = Omit<StepProgress, 'runId'>;

export interface ProgressInput {
  phase: StepEvent['phase'];
  epoch: number;
  /** 0-based step within the phase */
  step: number;
  stepsInEpoch: number;
  globalStep: number;
  totals: MetricTotals;
  lr: number;
  momentum: number;
  images: number;
  seconds: number;
  etaSeconds: number | null;
  targetEpochs: number;
  /** seconds of `seconds` spent waiting for the next batch (train) */
  waitSeconds?: number;
}

export function progressEvent(p: ProgressInput): StepEvent {
  return {
    epoch: p.epoch,
    step: p.step,
    stepsInEpoch: p.stepsInEpoch,
    globalStep: p.globalStep,
    loss: p.totals.loss,
    top1: p.totals.top1,
    lr: p.lr,
    momentum: p.momentum,
    imagesPerSec: p.images / Math.max(1e-9, p.seconds),
    etaSeconds: p.etaSeconds,
    targetEpochs: p.targetEpochs,
    phase: p.phase,
    ...(p.waitSeconds !== undefined ? { dataWait: Math.min(1, Math.max(0, p.waitSeconds / Math.max(1e-9, p.seconds))) } : {}),
  };
}
