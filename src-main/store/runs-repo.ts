// Runs and their lineage (a run resumed from a checkpoint as a new experiment is a child run).
// lastEpoch and bestValTop1 are computed from the epoch rows, never stored twice.
import { WorkstationError } from '../../src-shared/errors';
import { RUN_STATUSES, type RunStatus, type RunSummary } from '../../src-shared/api/schemas';
import type { Db } from './db';

export interface RunCreateInput {
  name: string;
  /** the resolved config the run actually uses (stored as JSON) */
  config: object;
  seed: number;
  /** the epoch the run ends at (absolute numbering) */
  targetEpochs: number;
  backend?: string | null;
  host?: string | null;
  parentRunId?: number | null;
  parentCheckpointId?: number | null;
  /** the parent's last epoch this run continues from */
  forkEpoch?: number | null;
  /** default 'queued' */
  status?: RunStatus;
}

export interface RunDeleteResult {
  /** the deleted run and its descendants (with cascade), children before parents */
  runIds: number[];
  /** files of their checkpoints still on disk; the caller deletes them only when asked */
  checkpointPaths: string[];
}

export interface RunsRepo {
  create(input: RunCreateInput): RunSummary;
  get(id: number): RunSummary | undefined;
  /** the latest run with that name */
  getByName(name: string): RunSummary | undefined;
  /** a run by id (digits) or name (the latest with that name); NOT_FOUND otherwise */
  resolve(idOrName: string): RunSummary;
  /** all runs, oldest first */
  list(): RunSummary[];
  /** the resolved config JSON stored with the run */
  config(id: number): Record<string, unknown>;
  /** startedAt is set when first running; endedAt on completed/stopped/failed/interrupted (cleared otherwise) */
  setStatus(id: number, status: RunStatus, extra?: { error?: string | null }): RunSummary;
  setBackend(id: number, backend: string | null, host: string | null): RunSummary;
  setTargetEpochs(id: number, targetEpochs: number): RunSummary;
  /** at service start: running and paused runs → interrupted (queued stay queued); returns them */
  markInterrupted(): RunSummary[];
  /** root … id */
  lineage(id: number): RunSummary[];
  /** direct children, oldest first */
  children(id: number): RunSummary[];
  /**
   * Deletes the run with its metrics, steps, checkpoint rows and events. A run with children is
   * refused (INVALID_STATE) unless cascade, which deletes all descendants too; a running or
   * paused run (or descendant) is always refused. Files are never touched here.
   */
  delete(id: number, opts?: { cascade?: boolean }): RunDeleteResult;
}

const TERMINAL: readonly RunStatus[] = ['completed', 'stopped', 'failed', 'interrupted'];

interface RunRow {
  id: number;
  name: string;
  status: string;
  parent_run_id: number | null;
  parent_checkpoint_id: number | null;
  fork_epoch: number | null;
  seed: number;
  backend: string | null;
  host: string | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  error: string | null;
  target_epochs: number;
  last_epoch: number | null;
  best_val_top1: number | null;
}

const SELECT = `
  SELECT r.id, r.name, r.status, r.parent_run_id, r.parent_checkpoint_id, r.fork_epoch, r.seed,
         r.backend, r.host, r.created_at, r.started_at, r.ended_at, r.error, r.target_epochs,
         (SELECT MAX(e.epoch) FROM epoch_metrics e WHERE e.run_id = r.id) AS last_epoch,
         (SELECT MAX(e.val_top1) FROM epoch_metrics e WHERE e.run_id = r.id) AS best_val_top1
  FROM runs r`;

function toSummary(r: RunRow): RunSummary {
  return {
    id: r.id,
    name: r.name,
    status: r.status as RunStatus,
    parentRunId: r.parent_run_id,
    parentCheckpointId: r.parent_checkpoint_id,
    forkEpoch: r.fork_epoch,
    seed: r.seed,
    backend: r.backend,
    host: r.host,
    createdAt: r.created_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    error: r.error,
    lastEpoch: r.last_epoch,
    targetEpochs: r.target_epochs,
    bestValTop1: r.best_val_top1,
  };
}

function checkStatus(status: string): RunStatus {
  if (!(RUN_STATUSES as readonly string[]).includes(status)) {
    throw new WorkstationError('INVALID_ARGUMENT', `unknown run status "${status}" (one of ${RUN_STATUSES.join(', ')})`, { field: 'status' });
  }
  return status as RunStatus;
}

function checkInt(value: number, field: string): number {
  if (!Number.isSafeInteger(value)) throw new WorkstationError('INVALID_ARGUMENT', `${field} must be an integer, got ${value}`, { field });
  return value;
}

export function createRunsRepo(db: Db, now: () => string): RunsRepo {
  const byId = db.prepare<[number], RunRow>(`${SELECT} WHERE r.id = ?`);
  const byName = db.prepare<[string], RunRow>(`${SELECT} WHERE r.name = ? ORDER BY r.id DESC LIMIT 1`);
  const all = db.prepare<[], RunRow>(`${SELECT} ORDER BY r.id`);
  const childrenOf = db.prepare<[number], RunRow>(`${SELECT} WHERE r.parent_run_id = ? ORDER BY r.id`);
  const insert = db.prepare(`
    INSERT INTO runs (name, status, parent_run_id, parent_checkpoint_id, fork_epoch, config_json, seed,
                      target_epochs, backend, host, created_at)
    VALUES (@name, @status, @parentRunId, @parentCheckpointId, @forkEpoch, @config, @seed, @targetEpochs, @backend, @host, @createdAt)`);
  const configOf = db.prepare<[number], { config_json: string }>('SELECT config_json FROM runs WHERE id = ?');
  const updateStatus = db.prepare(`
    UPDATE runs SET status = @status,
      started_at = CASE WHEN @status = 'running' AND started_at IS NULL THEN @now ELSE started_at END,
      ended_at = CASE WHEN @terminal THEN @now ELSE NULL END,
      error = CASE WHEN @setError THEN @error ELSE error END
    WHERE id = @id`);
  const updateBackend = db.prepare('UPDATE runs SET backend = ?, host = ? WHERE id = ?');
  const updateTarget = db.prepare('UPDATE runs SET target_epochs = ? WHERE id = ?');
  const active = db.prepare<[], { id: number }>("SELECT id FROM runs WHERE status IN ('running', 'paused') ORDER BY id");
  const interrupt = db.prepare("UPDATE runs SET status = 'interrupted', ended_at = ? WHERE id = ?");
  const descendants = db.prepare<[number], { id: number; depth: number }>(`
    WITH RECURSIVE tree(id, depth) AS (
      SELECT id, 0 FROM runs WHERE id = ?
      UNION ALL SELECT r.id, t.depth + 1 FROM runs r JOIN tree t ON r.parent_run_id = t.id
    ) SELECT id, depth FROM tree ORDER BY depth DESC, id DESC`);
  const filesOf = db.prepare<[number], { path: string }>('SELECT path FROM checkpoints WHERE run_id = ? AND exists_on_disk = 1 ORDER BY id');
  const deleteRun = db.prepare('DELETE FROM runs WHERE id = ?');

  function mustGet(id: number): RunSummary {
    const row = byId.get(id);
    if (!row) throw new WorkstationError('NOT_FOUND', `run ${id} not found`, { field: 'runId' });
    return toSummary(row);
  }

  const repo: RunsRepo = {
    create(input) {
      if (!input.name || !input.name.trim()) throw new WorkstationError('INVALID_ARGUMENT', 'run name must not be empty', { field: 'name' });
      if (input.parentRunId != null) mustGet(input.parentRunId);
      const info = insert.run({
        name: input.name,
        status: checkStatus(input.status ?? 'queued'),
        parentRunId: input.parentRunId ?? null,
        parentCheckpointId: input.parentCheckpointId ?? null,
        forkEpoch: input.forkEpoch == null ? null : checkInt(input.forkEpoch, 'forkEpoch'),
        config: JSON.stringify(input.config),
        seed: checkInt(input.seed, 'seed'),
        targetEpochs: checkInt(input.targetEpochs, 'targetEpochs'),
        backend: input.backend ?? null,
        host: input.host ?? null,
        createdAt: now(),
      });
      return mustGet(Number(info.lastInsertRowid));
    },
    get(id) {
      const row = byId.get(id);
      return row ? toSummary(row) : undefined;
    },
    getByName(name) {
      const row = byName.get(name);
      return row ? toSummary(row) : undefined;
    },
    resolve(idOrName) {
      const s = idOrName.trim();
      const found = (/^\d+$/.test(s) ? repo.get(Number(s)) : undefined) ?? repo.getByName(idOrName);
      if (!found) throw new WorkstationError('NOT_FOUND', `no run with id or name "${idOrName}"`, { field: 'run' });
      return found;
    },
    list() {
      return all.all().map(toSummary);
    },
    config(id) {
      const row = configOf.get(id);
      if (!row) throw new WorkstationError('NOT_FOUND', `run ${id} not found`, { field: 'runId' });
      return JSON.parse(row.config_json) as Record<string, unknown>;
    },
    setStatus(id, status, extra) {
      mustGet(id);
      updateStatus.run({
        id,
        status: checkStatus(status),
        now: now(),
        terminal: TERMINAL.includes(status) ? 1 : 0,
        setError: extra && 'error' in extra ? 1 : 0,
        error: extra?.error ?? null,
      });
      return mustGet(id);
    },
    setBackend(id, backend, host) {
      mustGet(id);
      updateBackend.run(backend, host, id);
      return mustGet(id);
    },
    setTargetEpochs(id, targetEpochs) {
      mustGet(id);
      updateTarget.run(checkInt(targetEpochs, 'targetEpochs'), id);
      return mustGet(id);
    },
    markInterrupted() {
      return db.transaction(() => {
        const at = now();
        const ids = active.all().map((r) => r.id);
        for (const id of ids) interrupt.run(at, id);
        return ids.map(mustGet);
      })();
    },
    lineage(id) {
      const chain: RunSummary[] = [];
      const seen = new Set<number>();
      let cur: RunSummary | undefined = mustGet(id);
      while (cur && !seen.has(cur.id)) {
        seen.add(cur.id);
        chain.unshift(cur);
        cur = cur.parentRunId == null ? undefined : repo.get(cur.parentRunId);
      }
      return chain;
    },
    children(id) {
      return childrenOf.all(id).map(toSummary);
    },
    delete(id, opts = {}) {
      return db
        .transaction((): RunDeleteResult => {
          const root = mustGet(id);
          const tree = descendants.all(id);
          const runs = tree.map((t) => mustGet(t.id));
          if (tree.length > 1 && !opts.cascade) {
            const kids = repo.children(id).map((c) => `#${c.id} ${c.name}`);
            throw new WorkstationError(
              'INVALID_STATE',
              `run ${id} (${root.name}) has child runs (${kids.join(', ')}): delete the child runs first (their lineage starts at this run)`,
              { field: 'runId' },
            );
          }
          const busy = runs.find((r) => r.status === 'running' || r.status === 'paused');
          if (busy) throw new WorkstationError('INVALID_STATE', `run ${busy.id} (${busy.name}) is ${busy.status}; stop it before deleting`, { field: 'runId' });
          const checkpointPaths = tree.flatMap((t) => filesOf.all(t.id).map((f) => f.path));
          // Deepest first, so no child row ever points at a deleted parent.
          for (const t of tree) deleteRun.run(t.id);
          return { runIds: tree.map((t) => t.id), checkpointPaths };
        })
        .immediate();
    },
  };
  return repo;
}
