// Stored evaluations of checkpoints (table `evaluations`, migration 0003): one row per finished
// evaluation with the protocol, test-time augmentation and split it used. The totals are columns;
// what the Evaluation view needs beyond them (the transform, the per-class table, the confusion
// counts and the top mistakes per class, all bounded) is the row's details_json. A row is written
// once, when an evaluation completes; deleting its checkpoint or run deletes it (ON DELETE CASCADE).
import {
  EVAL_PROTOCOLS,
  EVAL_SPLITS,
  EVAL_TTAS,
  type Evaluation,
  type EvaluationSummary,
  type EvalProtocol,
  type EvalSplit,
  type EvalTta,
} from '../../src-shared/api/schemas';
import { WorkstationError } from '../../src-shared/errors';
import type { Db } from './db';

/** what an evaluation adds: everything but the id and the time the store gives it */
export type EvaluationInput = Omit<Evaluation, 'id' | 'createdAt' | 'runId'>;

export interface EvaluationsRepo {
  /** records a finished evaluation of a stored checkpoint (NOT_FOUND when the checkpoint is not) */
  add(e: EvaluationInput): Evaluation;
  get(id: number): Evaluation | undefined;
  /** summaries, newest first; of one checkpoint and/or run when given */
  list(filter?: { checkpointId?: number; runId?: number }): EvaluationSummary[];
  /** removes the row; false when there was none */
  delete(id: number): boolean;
}

interface EvaluationRow {
  id: number;
  checkpoint_id: number;
  run_id: number;
  split: string;
  protocol: string;
  tta: string;
  data_root: string | null;
  images: number;
  loss: number | null;
  top1: number | null;
  top5: number | null;
  details_json: string;
  created_at: string;
}

type Details = Omit<Evaluation, keyof EvaluationSummary>;
const DETAIL_KEYS = [
  'transform',
  'checkpoint',
  'skipped',
  'seconds',
  'perClass',
  'confusions',
  'mistakes',
  'mistakesPerClass',
] as const satisfies readonly (keyof Details)[];

function toSummary(r: EvaluationRow): EvaluationSummary {
  return {
    id: r.id,
    checkpointId: r.checkpoint_id,
    runId: r.run_id,
    split: r.split as EvalSplit,
    protocol: r.protocol as EvalProtocol,
    tta: r.tta as EvalTta,
    dataRoot: r.data_root,
    images: r.images,
    loss: r.loss,
    top1: r.top1,
    top5: r.top5,
    createdAt: r.created_at,
  };
}

/** NaN (an empty split) is stored as NULL: SQLite and JSON have no NaN */
const finiteOrNull = (v: number | null): number | null => (v === null || !Number.isFinite(v) ? null : v);

function check<T extends string>(value: string, allowed: readonly T[], field: string): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new WorkstationError('INVALID_ARGUMENT', `${field} must be one of ${allowed.join(', ')}, got "${value}"`, { field });
  return value as T;
}

export function createEvaluationsRepo(db: Db, now: () => string): EvaluationsRepo {
  const insert = db.prepare(`
    INSERT INTO evaluations (checkpoint_id, run_id, split, protocol, tta, data_root, images, loss, top1, top5, details_json, created_at)
    VALUES (@checkpointId, @runId, @split, @protocol, @tta, @dataRoot, @images, @loss, @top1, @top5, @details, @createdAt)`);
  const byId = db.prepare<[number], EvaluationRow>('SELECT * FROM evaluations WHERE id = ?');
  const checkpointRun = db.prepare<[number], { run_id: number }>('SELECT run_id FROM checkpoints WHERE id = ?');
  const filtered = db.prepare<{ c: number | null; r: number | null }, Omit<EvaluationRow, 'details_json'>>(`
    SELECT id, checkpoint_id, run_id, split, protocol, tta, data_root, images, loss, top1, top5, created_at FROM evaluations
    WHERE (@c IS NULL OR checkpoint_id = @c) AND (@r IS NULL OR run_id = @r) ORDER BY id DESC`);
  const remove = db.prepare('DELETE FROM evaluations WHERE id = ?');

  const repo: EvaluationsRepo = {
    add(e) {
      const cp = checkpointRun.get(e.checkpointId);
      if (!cp) throw new WorkstationError('NOT_FOUND', `checkpoint ${e.checkpointId} not found`, { field: 'checkpointId' });
      const details: Details = Object.fromEntries(DETAIL_KEYS.map((k) => [k, e[k]])) as Details;
      const info = insert.run({
        checkpointId: e.checkpointId,
        runId: cp.run_id,
        split: check(e.split, EVAL_SPLITS, 'split'),
        protocol: check(e.protocol, EVAL_PROTOCOLS, 'protocol'),
        tta: check(e.tta, EVAL_TTAS, 'tta'),
        dataRoot: e.dataRoot,
        images: e.images,
        loss: finiteOrNull(e.loss),
        top1: finiteOrNull(e.top1),
        top5: finiteOrNull(e.top5),
        details: JSON.stringify(details),
        createdAt: now(),
      });
      return repo.get(Number(info.lastInsertRowid))!;
    },
    get(id) {
      const row = byId.get(id);
      if (!row) return undefined;
      const details = JSON.parse(row.details_json) as Partial<Details>;
      return {
        ...toSummary(row),
        transform: details.transform ?? { mode: 'resize-center-crop', resize: 0, size: 0 },
        checkpoint: details.checkpoint ?? { path: '', epoch: 0, kind: 'epoch', stepInEpoch: null },
        skipped: details.skipped ?? 0,
        seconds: details.seconds ?? 0,
        perClass: details.perClass ?? [],
        confusions: details.confusions ?? [],
        mistakes: details.mistakes ?? [],
        mistakesPerClass: details.mistakesPerClass ?? 0,
      };
    },
    list(filter = {}) {
      return filtered.all({ c: filter.checkpointId ?? null, r: filter.runId ?? null }).map((r) => toSummary({ ...r, details_json: '{}' }));
    },
    delete(id) {
      return remove.run(id).changes > 0;
    },
  };
  return repo;
}
