// Chart series derived from a run's metrics: epoch points at x = epoch (end of that epoch), step
// points at x = epoch - 1 + (step + 1) / stepsInEpoch, so live steps fill in the current epoch.
// Also where a run starts on that axis (its fork point) and what an empty chart says instead.
import type { RunEvent, RunStatus, RunSummary } from '../../../src-shared/api/schemas';
import type { EpochMetrics, StepSample } from '../../../src-shared/metrics';
import type { Point } from './chart';
import { checkpointX } from './checkpoints';

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

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Where a run starts on the epoch axis: 0, or the parent's checkpoint it was forked from (its fork
 * event's, inside epoch forkEpoch for a mid-epoch one; the child's steps measure the parent's epoch).
 */
export function runStartX(run: Pick<RunSummary, 'forkEpoch'>, events: readonly RunEvent[], stepsPerEpoch: number | null): number {
  const fork = events.find((e) => e.kind === 'fork');
  const epoch = num(fork?.data.forkEpoch) ?? run.forkEpoch;
  if (epoch === null) return 0;
  const kind = fork?.data.checkpointKind === 'mid-epoch' ? 'mid-epoch' : 'epoch';
  return checkpointX({ kind, epoch, stepInEpoch: num(fork?.data.stepInEpoch) }, stepsPerEpoch);
}

/** What an empty chart's text is made of. */
export interface EmptyChartFacts {
  status: RunStatus;
  /** the run's train.logEverySteps (null when its config has none) */
  logEverySteps: number | null;
  /** the newest finished epoch, else the fork epoch, else 0 */
  epoch: number;
  /** epoch rows the run has (an empty chart despite them: they carry no validation / no steps came with them) */
  epochRows: number;
}

function ended(status: RunStatus): string | null {
  if (status === 'failed') return 'failed';
  if (status === 'interrupted') return 'was interrupted';
  if (status === 'stopped' || status === 'completed') return 'stopped';
  return null;
}

/**
 * The text an empty chart shows instead of a bare grid: when its first points will appear. 'steps'
 * charts fill from progress events (every logEverySteps steps), 'validation' ones at epoch ends.
 */
export function emptyChartText(kind: 'steps' | 'validation', f: EmptyChartFacts): string {
  const end = ended(f.status);
  if (kind === 'validation') {
    if (f.epochRows > 0) return `No validation results: the run's ${f.epochRows === 1 ? 'epoch has' : `${f.epochRows} epochs have`} no validation pass`;
    if (end !== null) return `No validation points — the run ${end} before the end of epoch ${f.epoch + 1}`;
    return `No data yet — validation points appear at the end of epoch ${f.epoch + 1}`;
  }
  // (epoch rows but no steps: a run imported from a log or a scale-out continuation)
  if (f.epochRows > 0) return `No step progress recorded: the run's ${f.epochRows === 1 ? 'epoch has' : `${f.epochRows} epochs have`} no per-step samples`;
  const n = f.logEverySteps;
  const every = n !== null ? ` (progress every ${n} step${n === 1 ? '' : 's'})` : '';
  if (end !== null) return `No data — the run ${end} before its first progress point${every}`;
  const after = n !== null ? ` ${n} step${n === 1 ? '' : 's'}` : '';
  if (f.status === 'queued') return `No data yet — the run is queued; its first points appear${after ? `${after} after it starts` : ' once it trains'}${every}`;
  return `No data yet — the first points appear${after ? ` after${after}` : ' as the run trains'}${every}`;
}
