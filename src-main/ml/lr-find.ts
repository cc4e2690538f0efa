// The learning-rate range test (Smith 2015, "Cyclical Learning Rates", §3.3; fastai's `lr_find`):
// train N steps from the run's starting weights (fresh, or a checkpoint's) with the lr growing
// geometrically from minLr to maxLr, record the loss of every step, stop early when it diverges,
// and suggest a learning rate. Nothing is saved and nothing is restored: the model lives only
// here (there is no run, no checkpoint, no store row), so a real run is never touched.
//
// - lr of step i (0-based) = minLr · (maxLr / minLr)^(i / (N − 1)): the first step at minLr, the
//   last at maxLr.
// - Smoothed loss: a debiased exponential moving average, avg_i = β·avg_{i−1} + (1 − β)·loss_i,
//   smoothed_i = avg_i / (1 − β^(i+1)), β = 0.98 (fastai's Recorder).
// - Divergence: the loss is not finite, or the smoothed loss exceeds 4× the best smoothed loss so
//   far (fastai's stop_div); the step that diverged is the last entry.
// - Suggestion ("steepest"): where the smoothed loss falls fastest against log lr — the lr at the
//   left end of the most negative forward slope (s_{i+1} − s_i) / (ln lr_{i+1} − ln lr_i), ignoring
//   the first 10 % of the steps (the loss has not started to move) and the last 5 (the blow-up),
//   as fastai does; null when the smoothed loss never falls.
// Momentum is the config's optimizer.momentum throughout; the schedule of the config is ignored.
import type { BatchSource } from '../../src-shared/batch-source';
import type { RunConfig } from '../../src-shared/config/run-config';
import { WorkstationError } from '../../src-shared/errors';
import { prepareBatch } from './augment/prepare-batch';
import type { BackendInfo } from './backend';
import { loadCheckpointInto } from './checkpoint';
import { createMetricAccumulator } from './metrics';
import { scratchTraining } from './scratch-training';
import { trainStep } from './train-step';
import { LR_FIND_DEFAULTS } from './lr-find-defaults';

export { LR_FIND_DEFAULTS };

export interface LrFindOptions {
  config: Readonly<RunConfig>;
  source: BatchSource;
  /** start from this checkpoint's weights and momentum buffers instead of the seeded init */
  resumeFrom?: string;
  steps?: number;
  minLr?: number;
  maxLr?: number;
  /** smoothing factor of the loss (fastai 0.98) */
  beta?: number;
  /** diverged when the smoothed loss exceeds this many times its best (fastai 4) */
  divergeFactor?: number;
  /** after every step */
  onStep?(p: { step: number; steps: number; lr: number; loss: number; smoothedLoss: number }): void;
  /** true = stop at the next step boundary (the result holds the steps taken) */
  shouldStop?(): boolean;
}

export interface LrFindRun {
  lr: number[];
  /** NaN / Infinity where the loss was not finite */
  loss: number[];
  smoothedLoss: number[];
  suggestedLr: number | null;
  stopReason: 'diverged' | 'completed' | 'stopped';
  backend: BackendInfo;
}

/** The lr of each step: geometric from minLr to maxLr. */
export function lrRange(minLr: number, maxLr: number, steps: number): number[] {
  if (!(minLr > 0) || !(maxLr > minLr))
    throw new WorkstationError('INVALID_ARGUMENT', `the range test needs 0 < min lr < max lr (got ${minLr} and ${maxLr})`, { field: 'minLr' });
  if (!Number.isInteger(steps) || steps < 2)
    throw new WorkstationError('INVALID_ARGUMENT', `steps must be an integer of at least 2, got ${steps}`, { field: 'steps' });
  return Array.from({ length: steps }, (_, i) => minLr * (maxLr / minLr) ** (i / (steps - 1)));
}

/** Debiased EMA (TensorBoard / fastai); a non-finite value is carried as is and does not enter the average. */
export function debiasedEma(values: readonly number[], beta: number): number[] {
  let avg = 0;
  let n = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return v;
    avg = beta * avg + (1 - beta) * v;
    n++;
    return beta === 1 ? avg : avg / (1 - beta ** n);
  });
}

/** The steepest-descent suggestion (see the header); null when the smoothed loss never falls. */
export function suggestLr(lrs: readonly number[], smoothed: readonly number[]): number | null {
  const n = Math.min(lrs.length, smoothed.length);
  let from = Math.floor(n / 10);
  let to = n - 5;
  if (to - from < 2) {
    from = 0;
    to = n;
  }
  let best = 0;
  let at: number | null = null;
  for (let i = from; i + 1 < to; i++) {
    const a = smoothed[i];
    const b = smoothed[i + 1];
    if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
    const slope = (b - a) / (Math.log(lrs[i + 1]) - Math.log(lrs[i]));
    if (slope < best) {
      best = slope;
      at = i;
    }
  }
  return at === null ? null : lrs[at];
}

export async function lrFind(opts: LrFindOptions): Promise<LrFindRun> {
  const cfg = opts.config;
  const steps = opts.steps ?? LR_FIND_DEFAULTS.steps;
  const beta = opts.beta ?? LR_FIND_DEFAULTS.beta;
  const divergeFactor = opts.divergeFactor ?? LR_FIND_DEFAULTS.divergeFactor;
  const lrs = lrRange(opts.minLr ?? LR_FIND_DEFAULTS.minLr, opts.maxLr ?? LR_FIND_DEFAULTS.maxLr, steps);
  const { backend, model, optimizer, dispose } = await scratchTraining(cfg, opts.source);
  const acc = createMetricAccumulator();
  const out: LrFindRun = { lr: [], loss: [], smoothedLoss: [], suggestedLr: null, stopReason: 'completed', backend };
  try {
    if (opts.resumeFrom) optimizer.setState(loadCheckpointInto(opts.resumeFrom, model).optimizer);
    let avg = 0;
    let bestSmoothed = Infinity;
    // as many epochs of the training split as the steps need (a capped epoch may be short)
    outer: for (let epoch = 1; out.lr.length < steps; epoch++) {
      let any = false;
      for await (const batch of opts.source.batches('train', epoch)) {
        any = true;
        if (opts.shouldStop?.()) {
          out.stopReason = 'stopped';
          break outer;
        }
        const i = out.lr.length;
        const lr = lrs[i];
        acc.reset();
        const x = prepareBatch(batch, { train: true, augment: cfg.augment, seed: cfg.seed });
        try {
          trainStep(model, optimizer, { x, labels: batch.labels, lr, momentum: cfg.optimizer.momentum, labelSmoothing: cfg.train.labelSmoothing }, acc);
        } finally {
          x.dispose();
        }
        const loss = acc.read().loss; // one host sync per step: the test is about every step's loss
        let smoothed = loss;
        if (Number.isFinite(loss)) {
          avg = beta * avg + (1 - beta) * loss;
          smoothed = avg / (1 - beta ** (i + 1));
        }
        out.lr.push(lr);
        out.loss.push(loss);
        out.smoothedLoss.push(smoothed);
        opts.onStep?.({ step: i + 1, steps, lr, loss, smoothedLoss: smoothed });
        if (!Number.isFinite(loss) || smoothed > divergeFactor * bestSmoothed) {
          out.stopReason = 'diverged';
          break outer;
        }
        bestSmoothed = Math.min(bestSmoothed, smoothed);
        if (out.lr.length >= steps) break outer;
      }
      if (!any) throw new WorkstationError('DATASET_ERROR', `the training split yielded no batch in epoch ${epoch}`);
    }
    out.suggestedLr = suggestLr(out.lr, out.smoothedLoss);
    return out;
  } finally {
    acc.dispose();
    dispose();
  }
}
