// Chart series derived from a run's metrics: epoch points at x = epoch (end of that epoch), step
// points at x = epoch - 1 + (step + 1) / stepsInEpoch, so live steps fill in the current epoch.
import type { EpochMetrics, StepSample } from '../../../src-shared/metrics';
import type { Point } from './chart';

export function stepX(s: { epoch: number; step: number }, stepsInEpoch: Record<number, number>): number {
  const n = Math.max(stepsInEpoch[s.epoch] ?? 0, s.step + 1, 1);
  return s.epoch - 1 + (s.step + 1) / n;
}

export function stepPoints(steps: StepSample[], stepsInEpoch: Record<number, number>, y: (s: StepSample) => number): Point[] {
  return steps.map((s) => ({ x: stepX(s, stepsInEpoch), y: y(s) }));
}

export function epochPoints(epochs: EpochMetrics[], y: (m: EpochMetrics) => number | null): Point[] {
  const out: Point[] = [];
  for (const m of epochs) {
    const v = y(m);
    if (v !== null && Number.isFinite(v)) out.push({ x: m.epoch, y: v });
  }
  return out.sort((a, b) => a.x - b.x);
}
