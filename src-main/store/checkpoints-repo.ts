// Checkpoint records: where each file is, its checksum, whether it is the run's best, and
// whether it still exists (rotation keeps the last K and the best; deletion is explicit).
//
// Two kinds: 'epoch' checkpoints are written after an epoch finished; 'mid-epoch' ones while it is
// in progress (`epoch` is the epoch being trained, `stepInEpoch` steps of it done), so a days-long
// run loses minutes, not an epoch, to a crash. Only a run's newest mid-epoch checkpoint is kept.
//
// Pinning: a queued, running or paused child run forked from a checkpoint still needs its file
// (it starts from it), so such a checkpoint is a "dependent" one and must not be deleted.
import { CHECKPOINT_KINDS, type CheckpointInfo, type CheckpointKind, type RunSummary } from '../../src-shared/api/schemas';
import { WorkstationError } from '../../src-shared/errors';
import type { Db } from './db';
import type { RunsRepo } from './runs-repo';

export interface CheckpointInput {
  runId: number;
  /** for a mid-epoch checkpoint: the epoch in progress (not the last finished one) */
  epoch: number;
  path: string;
  bytes: number;
  sha256: string;
  valTop1: number | null;
  isBest: boolean;
  /** default 'epoch' */
  kind?: CheckpointKind;
  /** steps of `epoch` done (mid-epoch: required; epoch: the epoch's step count) */
  stepInEpoch?: number | null;
  /** the run's global step at the checkpoint */
  globalStep?: number | null;
}

export interface CheckpointAddResult {
  checkpoint: CheckpointInfo;
  /**
   * for a mid-epoch checkpoint: the run's earlier mid-epoch checkpoints, now exists=false; the
   * caller deletes their files. Empty for an epoch checkpoint. Never lists the new checkpoint's
   * own path (an older row of the same file is superseded silently) nor a pinned one (kept).
   */
  replaced: CheckpointInfo[];
}

export interface CheckpointsRepo {
  /** records a written checkpoint (as addWithReplaced, returning only the new row) */
  add(c: CheckpointInput): CheckpointInfo;
  /**
   * Records a written checkpoint in one transaction: a new best clears the run's previous best
   * flag; a mid-epoch one marks the run's other existing mid-epoch rows exists=false, except those
   * with dependents, and returns them. A mid-epoch checkpoint cannot be the best (no validation).
   */
  addWithReplaced(c: CheckpointInput): CheckpointAddResult;
  /** oldest first, in training order (see byPosition) */
  list(runId: number): CheckpointInfo[];
  get(id: number): CheckpointInfo | undefined;
  /** the newest checkpoint of the run, of either kind, whose file still exists */
  latest(runId: number): CheckpointInfo | undefined;
  /** the file at path was removed (rotation): the row stays, exists becomes false */
  markRemoved(path: string): void;
  /** removes the row (child runs keep their lineage, their parentCheckpointId becomes null) */
  delete(id: number): CheckpointInfo;
  /** child runs starting from this checkpoint that still need its file (queued, running or paused, as read); [] for an unknown id */
  dependents(checkpointId: number): RunSummary[];
  /** paths of this run's existing checkpoints that have dependents (rotation and deletion must keep them) */
  pinnedPaths(runId: number): string[];
}

interface CheckpointRow {
  id: number;
  run_id: number;
  kind: string;
  epoch: number;
  step_in_epoch: number | null;
  global_step: number | null;
  path: string;
  bytes: number;
  sha256: string;
  val_top1: number | null;
  is_best: number;
  created_at: string;
  exists_on_disk: number;
}

/** statuses of a child run that still has to start from (or may restart from) its parent checkpoint */
const NEEDS_PARENT: readonly string[] = ['queued', 'running', 'paused'];
const KIND_RANK: Record<CheckpointKind, number> = { 'mid-epoch': 0, epoch: 1 };

function toInfo(r: CheckpointRow): CheckpointInfo {
  return {
    id: r.id,
    runId: r.run_id,
    kind: r.kind as CheckpointKind,
    epoch: r.epoch,
    stepInEpoch: r.step_in_epoch,
    globalStep: r.global_step,
    path: r.path,
    bytes: r.bytes,
    sha256: r.sha256,
    valTop1: r.val_top1,
    isBest: r.is_best === 1,
    createdAt: r.created_at,
    exists: r.exists_on_disk === 1,
  };
}

/**
 * Training order within a run: by global step when both rows know it; otherwise by epoch, a
 * mid-epoch checkpoint before the epoch checkpoint of the same epoch, then steps into the epoch.
 * Creation order breaks ties. (Rows from before version 2 have no global step.)
 */
export function byPosition(a: CheckpointInfo, b: CheckpointInfo): number {
  if (a.globalStep !== null && b.globalStep !== null && a.globalStep !== b.globalStep) return a.globalStep - b.globalStep;
  return a.epoch - b.epoch || KIND_RANK[a.kind] - KIND_RANK[b.kind] || (a.stepInEpoch ?? 0) - (b.stepInEpoch ?? 0) || a.id - b.id;
}

function checkOptInt(value: number | null | undefined, field: string): number | null {
  if (value == null) return null;
  if (!Number.isSafeInteger(value) || value < 0)
    throw new WorkstationError('INVALID_ARGUMENT', `${field} must be a non-negative integer, got ${value}`, { field });
  return value;
}

function checkInput(c: CheckpointInput): { kind: CheckpointKind; stepInEpoch: number | null; globalStep: number | null } {
  const kind = c.kind ?? 'epoch';
  if (!(CHECKPOINT_KINDS as readonly string[]).includes(kind)) {
    throw new WorkstationError('INVALID_ARGUMENT', `unknown checkpoint kind "${kind}" (one of ${CHECKPOINT_KINDS.join(', ')})`, { field: 'kind' });
  }
  const stepInEpoch = checkOptInt(c.stepInEpoch, 'stepInEpoch');
  const globalStep = checkOptInt(c.globalStep, 'globalStep');
  if (kind === 'mid-epoch') {
    if (stepInEpoch === null) throw new WorkstationError('INVALID_ARGUMENT', 'a mid-epoch checkpoint needs stepInEpoch', { field: 'stepInEpoch' });
    if (c.isBest) throw new WorkstationError('INVALID_ARGUMENT', 'a mid-epoch checkpoint cannot be the best (it has no validation)', { field: 'isBest' });
  }
  return { kind, stepInEpoch, globalStep };
}

export function createCheckpointsRepo(db: Db, now: () => string, runs: Pick<RunsRepo, 'get'>): CheckpointsRepo {
  const insert = db.prepare(`
    INSERT INTO checkpoints (run_id, kind, epoch, step_in_epoch, global_step, path, bytes, sha256, val_top1, is_best, created_at)
    VALUES (@runId, @kind, @epoch, @stepInEpoch, @globalStep, @path, @bytes, @sha256, @valTop1, @isBest, @createdAt)`);
  const clearBest = db.prepare('UPDATE checkpoints SET is_best = 0 WHERE run_id = ? AND is_best = 1');
  const byId = db.prepare<[number], CheckpointRow>('SELECT * FROM checkpoints WHERE id = ?');
  const byRun = db.prepare<[number], CheckpointRow>('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY id');
  const existingOf = db.prepare<[number], CheckpointRow>('SELECT * FROM checkpoints WHERE run_id = ? AND exists_on_disk = 1 ORDER BY id');
  const otherMidEpoch = db.prepare<[number, number], CheckpointRow>(
    "SELECT * FROM checkpoints WHERE run_id = ? AND kind = 'mid-epoch' AND exists_on_disk = 1 AND id != ? ORDER BY id",
  );
  const removedById = db.prepare('UPDATE checkpoints SET exists_on_disk = 0 WHERE id = ?');
  const removed = db.prepare('UPDATE checkpoints SET exists_on_disk = 0 WHERE path = ?');
  const remove = db.prepare('DELETE FROM checkpoints WHERE id = ?');
  const runExists = db.prepare<[number], { id: number }>('SELECT id FROM runs WHERE id = ?');
  // Candidates by stored status; the read-time status (an owner gone → interrupted) filters them.
  const childrenFrom = db.prepare<[number], { id: number }>(
    "SELECT id FROM runs WHERE parent_checkpoint_id = ? AND status IN ('queued', 'running', 'paused') ORDER BY id",
  );
  const pinnedOf = db.prepare<[number], { path: string; child: number }>(`
    SELECT c.path, r.id AS child FROM checkpoints c JOIN runs r ON r.parent_checkpoint_id = c.id
    WHERE c.run_id = ? AND c.exists_on_disk = 1 AND r.status IN ('queued', 'running', 'paused')
    ORDER BY c.id, r.id`);

  const needsParent = (runId: number): boolean => NEEDS_PARENT.includes(runs.get(runId)?.status ?? '');
  const dependents = (checkpointId: number): RunSummary[] =>
    childrenFrom
      .all(checkpointId)
      .map((r) => runs.get(r.id))
      .filter((r): r is RunSummary => r !== undefined && NEEDS_PARENT.includes(r.status));

  const addTx = db.transaction((c: CheckpointInput): { id: number; replaced: number[] } => {
    const { kind, stepInEpoch, globalStep } = checkInput(c);
    if (c.isBest) clearBest.run(c.runId);
    const info = insert.run({
      runId: c.runId,
      kind,
      epoch: c.epoch,
      stepInEpoch,
      globalStep,
      path: c.path,
      bytes: c.bytes,
      sha256: c.sha256,
      valTop1: c.valTop1 === null || Number.isNaN(c.valTop1) ? null : c.valTop1,
      isBest: c.isBest ? 1 : 0,
      createdAt: now(),
    });
    const id = Number(info.lastInsertRowid);
    const replaced: number[] = [];
    if (kind === 'mid-epoch') {
      for (const old of otherMidEpoch.all(c.runId, id)) {
        if (childrenFrom.all(old.id).some((r) => needsParent(r.id))) continue; // pinned: a child still starts from it
        removedById.run(old.id);
        // The same file rewritten in place now belongs to the new row: nothing to delete.
        if (old.path !== c.path) replaced.push(old.id);
      }
    }
    return { id, replaced };
  });

  function mustGet(id: number): CheckpointInfo {
    const row = byId.get(id);
    if (!row) throw new WorkstationError('NOT_FOUND', `checkpoint ${id} not found`, { field: 'checkpointId' });
    return toInfo(row);
  }

  const repo: CheckpointsRepo = {
    add(c) {
      return repo.addWithReplaced(c).checkpoint;
    },
    addWithReplaced(c) {
      if (!runExists.get(c.runId)) throw new WorkstationError('NOT_FOUND', `run ${c.runId} not found`, { field: 'runId' });
      const { id, replaced } = addTx.immediate(c);
      return { checkpoint: mustGet(id), replaced: replaced.map(mustGet) };
    },
    list(runId) {
      return byRun.all(runId).map(toInfo).sort(byPosition);
    },
    get(id) {
      const row = byId.get(id);
      return row ? toInfo(row) : undefined;
    },
    latest(runId) {
      let newest: CheckpointInfo | undefined;
      for (const row of existingOf.all(runId)) {
        const info = toInfo(row);
        if (!newest || byPosition(info, newest) > 0) newest = info;
      }
      return newest;
    },
    markRemoved(path) {
      removed.run(path);
    },
    delete(id) {
      const info = mustGet(id);
      remove.run(id);
      return info;
    },
    dependents,
    pinnedPaths(runId) {
      const paths = new Set<string>();
      for (const p of pinnedOf.all(runId)) if (!paths.has(p.path) && needsParent(p.child)) paths.add(p.path);
      return [...paths];
    },
  };
  return repo;
}
