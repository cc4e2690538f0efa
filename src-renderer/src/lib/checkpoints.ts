// Where a checkpoint stands in its run: an epoch checkpoint is written after `epoch` finished, a
// mid-epoch one while `epoch` was in progress (`stepInEpoch` steps done). Views order, place and
// label checkpoints with these, so "epoch 3 · step 120/500" means the same everywhere.
import type { CheckpointInfo, RunSummary } from '../../../src-shared/api/schemas';

type Where = Pick<CheckpointInfo, 'kind' | 'epoch' | 'stepInEpoch'>;

/** Position on the epoch axis: E for an epoch checkpoint, E − 1 + S/N for a mid-epoch one. */
export function checkpointX(c: Where, stepsPerEpoch: number | null | undefined): number {
  if (c.kind === 'epoch') return c.epoch;
  const n = stepsPerEpoch && c.stepInEpoch !== null ? Math.max(stepsPerEpoch, c.stepInEpoch) : 0;
  return n > 0 ? c.epoch - 1 + (c.stepInEpoch ?? 0) / n : c.epoch - 1;
}

/** Training order: by epoch, a mid-epoch checkpoint before the end of its epoch, then by step. */
export function compareCheckpoints(a: Where & Pick<CheckpointInfo, 'createdAt'>, b: Where & Pick<CheckpointInfo, 'createdAt'>): number {
  const rank = (c: Where) => (c.kind === 'mid-epoch' ? 0 : 1);
  return a.epoch - b.epoch || rank(a) - rank(b) || (a.stepInEpoch ?? 0) - (b.stepInEpoch ?? 0) || a.createdAt.localeCompare(b.createdAt);
}

/** The run's newest checkpoint whose file still exists (what Resume continues from). */
export function newestCheckpoint(list: CheckpointInfo[]): CheckpointInfo | undefined {
  return list
    .filter((c) => c.exists)
    .sort(compareCheckpoints)
    .at(-1);
}

/** What a run's details say about its epochs' length (RunDetail has these). */
export interface EpochLengthFacts {
  checkpoints: CheckpointInfo[];
  /** steps per epoch from progress events (exact) and step samples (a lower bound) */
  stepsInEpoch: Record<number, number>;
  run: Pick<RunSummary, 'lastEpoch'>;
}

/**
 * Steps in one epoch of the run, or null when not known: an epoch checkpoint records its epoch's
 * step count, a live progress event (`live`, the active run's) carries it, and the step samples of
 * a finished epoch come close. The samples of an epoch in progress say only how far it got.
 */
export function stepsPerEpochOf(d: EpochLengthFacts, live?: number | null): number | null {
  const fromEpochCkpt = d.checkpoints.find((c) => c.kind === 'epoch' && c.stepInEpoch !== null && c.stepInEpoch > 0)?.stepInEpoch;
  if (fromEpochCkpt) return fromEpochCkpt;
  if (live && live > 0) return live;
  const done = d.run.lastEpoch ?? 0;
  const finished = Object.entries(d.stepsInEpoch)
    .filter(([e]) => Number(e) <= done)
    .map(([, n]) => n);
  return finished.length ? Math.max(...finished) : null;
}

/** For placing a marker: the known length, else the most steps seen in any epoch (null: none seen). */
export function approxStepsPerEpoch(d: EpochLengthFacts, live?: number | null): number | null {
  return stepsPerEpochOf(d, live) ?? (Math.max(0, ...Object.values(d.stepsInEpoch)) || null);
}

/** "epoch 3" for an epoch checkpoint; "epoch 3 · step 120/500" (or "… step 120") for a mid-epoch one. */
export function checkpointWhere(c: Where, stepsPerEpoch?: number | null): string {
  if (c.kind === 'epoch' || c.stepInEpoch === null) return `epoch ${c.epoch}`;
  const n = stepsPerEpoch && stepsPerEpoch >= c.stepInEpoch ? `/${stepsPerEpoch}` : '';
  return `epoch ${c.epoch} · step ${c.stepInEpoch}${n}`;
}

export function kindLabel(kind: CheckpointInfo['kind']): string {
  return kind === 'mid-epoch' ? 'mid-epoch' : 'end of epoch';
}

/**
 * Child runs that still need this checkpoint's file: those forked from it that have not finished
 * starting from it (queued, running or paused), the service's rule for refusing a delete.
 */
export function dependentsOf(checkpointId: number, runs: RunSummary[]): RunSummary[] {
  return runs.filter((r) => r.parentCheckpointId === checkpointId && (r.status === 'queued' || r.status === 'running' || r.status === 'paused'));
}
