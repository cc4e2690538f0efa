// Early stopping (train.earlyStopping): after each epoch, has the watched metric improved by more
// than minDelta on the best so far? After `patience` epochs in a row without, the run ends — it
// completes (its last epoch checkpoint is written first), with the reason as a sentence.
// Keras' EarlyStopping semantics: val top-1 / top-5 must rise above best + minDelta, a loss
// must fall below best − minDelta. An epoch without the metric (no validation) counts neither way.
// A resumed run replays the epochs it already has (`history`), so stopping does not depend on
// where the run was interrupted.
import type { EarlyStoppingConfig } from '../../src-shared/config/run-config';
import type { EpochMetrics } from '../../src-shared/metrics';

export interface EarlyStopVerdict {
  metric: EarlyStoppingConfig['metric'];
  patience: number;
  minDelta: number;
  /** the best value and the epoch it was reached at */
  best: number;
  bestEpoch: number;
  /** the epoch after which the run stops */
  stoppedAfterEpoch: number;
  /** e.g. "early stopping: val top-1 did not improve by 0.1 for 3 epochs (best 42.1 % at epoch 5)" */
  message: string;
}

export interface EarlyStopping {
  /** takes one finished epoch; returns the verdict when the run should stop now, else null */
  update(m: EpochMetrics): EarlyStopVerdict | null;
}

const LABELS: Record<EarlyStoppingConfig['metric'], { label: string; higherIsBetter: boolean; unit: string }> = {
  valTop1: { label: 'val top-1', higherIsBetter: true, unit: ' %' },
  valTop5: { label: 'val top-5', higherIsBetter: true, unit: ' %' },
  valLoss: { label: 'val loss', higherIsBetter: false, unit: '' },
  trainLoss: { label: 'train loss', higherIsBetter: false, unit: '' },
};

function read(m: EpochMetrics, metric: EarlyStoppingConfig['metric']): number | null {
  const v = m[metric];
  return v === null || !Number.isFinite(v) ? null : v;
}

function fmt(v: number, unit: string): string {
  return unit ? `${v.toFixed(1)}${unit}` : String(Number(v.toPrecision(4)));
}

/** null config → a checker that never stops. `history`: epochs the run finished before this trainer started. */
export function createEarlyStopping(cfg: EarlyStoppingConfig | null, history: readonly EpochMetrics[] = []): EarlyStopping {
  if (!cfg) return { update: () => null };
  const { label, higherIsBetter, unit } = LABELS[cfg.metric];
  let best: number | null = null;
  let bestEpoch = 0;
  let wait = 0;
  const improves = (v: number): boolean => best === null || (higherIsBetter ? v > best + cfg.minDelta : v < best - cfg.minDelta);
  const step = (m: EpochMetrics): EarlyStopVerdict | null => {
    const v = read(m, cfg.metric);
    if (v === null) return null;
    if (improves(v)) {
      best = v;
      bestEpoch = m.epoch;
      wait = 0;
      return null;
    }
    // a value equal to the best at a later epoch is not an improvement, but the best stays the first
    wait++;
    if (wait < cfg.patience) return null;
    const delta = cfg.minDelta > 0 ? ` by ${cfg.minDelta}` : '';
    return {
      metric: cfg.metric,
      patience: cfg.patience,
      minDelta: cfg.minDelta,
      best: best as number,
      bestEpoch,
      stoppedAfterEpoch: m.epoch,
      message: `early stopping: ${label} did not improve${delta} for ${cfg.patience} epoch${cfg.patience === 1 ? '' : 's'} (best ${fmt(best as number, unit)} at epoch ${bestEpoch})`,
    };
  };
  for (const m of [...history].sort((a, b) => a.epoch - b.epoch)) step(m);
  return { update: step };
}
