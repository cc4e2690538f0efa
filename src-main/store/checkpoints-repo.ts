// Checkpoint records: where each file is, its checksum, whether it is the run's best, and
// whether it still exists (rotation keeps the last K and the best; deletion is explicit).
import type { CheckpointInfo } from '../../src-shared/api/schemas';
import { WorkstationError } from '../../src-shared/errors';
import type { Db } from './db';

export interface CheckpointInput {
  runId: number;
  epoch: number;
  path: string;
  bytes: number;
  sha256: string;
  valTop1: number | null;
  isBest: boolean;
}

export interface CheckpointsRepo {
  /** records a written checkpoint; a new best clears the run's previous best flag */
  add(c: CheckpointInput): CheckpointInfo;
  /** ordered by epoch, then creation */
  list(runId: number): CheckpointInfo[];
  get(id: number): CheckpointInfo | undefined;
  /** the latest checkpoint of the run whose file still exists */
  latest(runId: number): CheckpointInfo | undefined;
  /** the file at path was removed (rotation): the row stays, exists becomes false */
  markRemoved(path: string): void;
  /** removes the row (child runs keep their lineage, their parentCheckpointId becomes null) */
  delete(id: number): CheckpointInfo;
}

interface CheckpointRow {
  id: number;
  run_id: number;
  epoch: number;
  path: string;
  bytes: number;
  sha256: string;
  val_top1: number | null;
  is_best: number;
  created_at: string;
  exists_on_disk: number;
}

function toInfo(r: CheckpointRow): CheckpointInfo {
  return {
    id: r.id,
    runId: r.run_id,
    epoch: r.epoch,
    path: r.path,
    bytes: r.bytes,
    sha256: r.sha256,
    valTop1: r.val_top1,
    isBest: r.is_best === 1,
    createdAt: r.created_at,
    exists: r.exists_on_disk === 1,
  };
}

export function createCheckpointsRepo(db: Db, now: () => string): CheckpointsRepo {
  const insert = db.prepare(`
    INSERT INTO checkpoints (run_id, epoch, path, bytes, sha256, val_top1, is_best, created_at)
    VALUES (@runId, @epoch, @path, @bytes, @sha256, @valTop1, @isBest, @createdAt)`);
  const clearBest = db.prepare('UPDATE checkpoints SET is_best = 0 WHERE run_id = ? AND is_best = 1');
  const byId = db.prepare<[number], CheckpointRow>('SELECT * FROM checkpoints WHERE id = ?');
  const byRun = db.prepare<[number], CheckpointRow>('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY epoch, id');
  const latestOf = db.prepare<[number], CheckpointRow>(
    'SELECT * FROM checkpoints WHERE run_id = ? AND exists_on_disk = 1 ORDER BY epoch DESC, id DESC LIMIT 1',
  );
  const removed = db.prepare('UPDATE checkpoints SET exists_on_disk = 0 WHERE path = ?');
  const remove = db.prepare('DELETE FROM checkpoints WHERE id = ?');
  const runExists = db.prepare<[number], { id: number }>('SELECT id FROM runs WHERE id = ?');

  const addTx = db.transaction((c: CheckpointInput): number => {
    if (c.isBest) clearBest.run(c.runId);
    const info = insert.run({
      runId: c.runId,
      epoch: c.epoch,
      path: c.path,
      bytes: c.bytes,
      sha256: c.sha256,
      valTop1: c.valTop1 === null || Number.isNaN(c.valTop1) ? null : c.valTop1,
      isBest: c.isBest ? 1 : 0,
      createdAt: now(),
    });
    return Number(info.lastInsertRowid);
  });

  function mustGet(id: number): CheckpointInfo {
    const row = byId.get(id);
    if (!row) throw new WorkstationError('NOT_FOUND', `checkpoint ${id} not found`, { field: 'checkpointId' });
    return toInfo(row);
  }

  return {
    add(c) {
      if (!runExists.get(c.runId)) throw new WorkstationError('NOT_FOUND', `run ${c.runId} not found`, { field: 'runId' });
      return mustGet(addTx.immediate(c));
    },
    list(runId) {
      return byRun.all(runId).map(toInfo);
    },
    get(id) {
      const row = byId.get(id);
      return row ? toInfo(row) : undefined;
    },
    latest(runId) {
      const row = latestOf.get(runId);
      return row ? toInfo(row) : undefined;
    },
    markRemoved(path) {
      removed.run(path);
    },
    delete(id) {
      const info = mustGet(id);
      remove.run(id);
      return info;
    },
  };
}
