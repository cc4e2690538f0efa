// Runs and their lineage (a run resumed from a checkpoint as a new experiment is a child run).
// lastEpoch and bestValTop1 are computed from the epoch rows, never stored twice.
//
// One owner per run: the process training a run claims it (pid, host, start time) and refreshes a
// heartbeat. Every read derives the status: a running, paused or queued row whose owner is set but
// gone (ownerAlive) reads as 'interrupted' (endedAt = its last heartbeat) with owner null; nothing
// is written by a read. A service start writes that status for good (markInterrupted). A
// running/paused row without an owner (version-1 rows, older builds) reads as stored.
import { WorkstationError } from '../../src-shared/errors';
import { NOTES_MAX_LENGTH, RUN_STATUSES, TagSchema, TAGS_MAX_PER_RUN, type RunOwner, type RunStatus, type RunSummary } from '../../src-shared/api/schemas';
import type { Db } from './db';
import { defaultOwnerAlive, orphaned, OWNED_STATUSES, ownerIsAlive, storedOwner, type OwnerAlive } from './run-owner';

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

/** what a process records when it takes a run (heartbeatAt is set to the store's now) */
export interface RunOwnerClaim {
  pid: number;
  host: string;
  /** when the owning process started (ISO) */
  startedAt: string;
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
  /**
   * startedAt is set when first running; endedAt on completed/stopped/failed/interrupted (cleared
   * otherwise). A final status clears the owner; any status clears an owner that is gone.
   */
  setStatus(id: number, status: RunStatus, extra?: { error?: string | null }): RunSummary;
  setBackend(id: number, backend: string | null, host: string | null): RunSummary;
  setTargetEpochs(id: number, targetEpochs: number): RunSummary;
  /**
   * At service start: runs whose owner is gone (running, paused or queued) and running/paused runs
   * with no owner at all (older builds) → 'interrupted', endedAt now, owner cleared; returns them.
   * Runs with a live owner and unowned queued runs are untouched.
   */
  markInterrupted(): RunSummary[];
  /**
   * Takes the run for a process: sets the owner and heartbeatAt = now. INVALID_STATE when another
   * owner (a different pid or host) is still alive; the same pid and host may claim again.
   */
  claim(id: number, owner: RunOwnerClaim): RunSummary;
  /** heartbeatAt = now, only while pid owns the run; returns whether it did */
  heartbeat(id: number, pid: number): boolean;
  /** clears the owner, only while pid owns the run; returns whether it did */
  release(id: number, pid: number): boolean;
  /** the stored owner, alive or not (RunSummary.owner shows only a live one); NOT_FOUND for an unknown run */
  owner(id: number): RunOwner | null;
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
  /** replaces the run's notes ('' clears them); INVALID_ARGUMENT beyond NOTES_MAX_LENGTH */
  setNotes(id: number, notes: string): RunSummary;
  /**
   * replaces the run's tags with these (trimmed, duplicates dropped, case kept); INVALID_ARGUMENT
   * for an empty or too long tag, one with a comma, semicolon or control character, or more than
   * TAGS_MAX_PER_RUN tags
   */
  setTags(id: number, tags: readonly string[]): RunSummary;
  /** adds tags the run does not have yet (same rules as setTags) */
  addTags(id: number, tags: readonly string[]): RunSummary;
  /** removes these tags where the run has them (others are ignored) */
  removeTags(id: number, tags: readonly string[]): RunSummary;
  /** every tag in use with the number of runs carrying it, by tag */
  allTags(): { tag: string; runs: number }[];
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
  owner_pid: number | null;
  owner_host: string | null;
  owner_started_at: string | null;
  heartbeat_at: string | null;
  notes: string;
  /** JSON array of the run's tags, sorted */
  tags_json: string;
}

const SELECT = `
  SELECT r.id, r.name, r.status, r.parent_run_id, r.parent_checkpoint_id, r.fork_epoch, r.seed,
         r.backend, r.host, r.created_at, r.started_at, r.ended_at, r.error, r.target_epochs,
         r.owner_pid, r.owner_host, r.owner_started_at, r.heartbeat_at, r.notes,
         (SELECT json_group_array(t.tag) FROM (SELECT tag FROM run_tags WHERE run_id = r.id ORDER BY tag) t) AS tags_json,
         (SELECT MAX(e.epoch) FROM epoch_metrics e WHERE e.run_id = r.id) AS last_epoch,
         (SELECT MAX(e.val_top1) FROM epoch_metrics e WHERE e.run_id = r.id) AS best_val_top1
  FROM runs r`;

/** at: the clock, read only for a row with an owner (reads of ownerless rows do not consume time) */
function toSummary(r: RunRow, ownerAlive: OwnerAlive, at: () => string): RunSummary {
  const owner = storedOwner(r);
  const alive = owner !== null && ownerIsAlive(r, ownerAlive, at());
  const gone = owner !== null && !alive && OWNED_STATUSES.includes(r.status);
  return {
    id: r.id,
    name: r.name,
    status: gone ? 'interrupted' : (r.status as RunStatus),
    parentRunId: r.parent_run_id,
    parentCheckpointId: r.parent_checkpoint_id,
    forkEpoch: r.fork_epoch,
    seed: r.seed,
    backend: r.backend,
    host: r.host,
    createdAt: r.created_at,
    startedAt: r.started_at,
    endedAt: gone ? owner.heartbeatAt : r.ended_at,
    error: r.error,
    lastEpoch: r.last_epoch,
    targetEpochs: r.target_epochs,
    bestValTop1: r.best_val_top1,
    owner: alive ? owner : null,
    notes: r.notes,
    tags: JSON.parse(r.tags_json) as string[],
  };
}

/** Trimmed, validated, duplicates dropped (first spelling kept), in the order given. */
function checkTags(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (const [i, t] of tags.entries()) {
    const r = TagSchema.safeParse(t);
    if (!r.success) throw new WorkstationError('INVALID_ARGUMENT', `tags.${i}: "${t}": ${r.error.issues[0]?.message ?? 'invalid tag'}`, { field: `tags.${i}` });
    if (!out.includes(r.data)) out.push(r.data);
  }
  return out;
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

/** ownerAlive: the liveness check behind the derived 'interrupted' status (default: pid on this host, heartbeat elsewhere) */
export function createRunsRepo(db: Db, now: () => string, ownerAlive: OwnerAlive = defaultOwnerAlive): RunsRepo {
  const onceNow = (): (() => string) => {
    let at: string | undefined;
    return () => (at ??= now());
  };
  const summary = (r: RunRow): RunSummary => toSummary(r, ownerAlive, onceNow());
  const summaries = (rows: RunRow[]): RunSummary[] => {
    const at = onceNow();
    return rows.map((r) => toSummary(r, ownerAlive, at));
  };
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
      error = CASE WHEN @setError THEN @error ELSE error END,
      owner_pid = CASE WHEN @clearOwner THEN NULL ELSE owner_pid END,
      owner_host = CASE WHEN @clearOwner THEN NULL ELSE owner_host END,
      owner_started_at = CASE WHEN @clearOwner THEN NULL ELSE owner_started_at END,
      heartbeat_at = CASE WHEN @clearOwner THEN NULL ELSE heartbeat_at END
    WHERE id = @id`);
  const updateBackend = db.prepare('UPDATE runs SET backend = ?, host = ? WHERE id = ?');
  const updateTarget = db.prepare('UPDATE runs SET target_epochs = ? WHERE id = ?');
  const unfinished = db.prepare<[], RunRow>(`${SELECT} WHERE r.status IN ('running', 'paused', 'queued') ORDER BY r.id`);
  const interrupt = db.prepare(`
    UPDATE runs SET status = 'interrupted', ended_at = ?, owner_pid = NULL, owner_host = NULL, owner_started_at = NULL, heartbeat_at = NULL
    WHERE id = ?`);
  const setOwner = db.prepare('UPDATE runs SET owner_pid = @pid, owner_host = @host, owner_started_at = @startedAt, heartbeat_at = @now WHERE id = @id');
  const beat = db.prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ? AND owner_pid = ?');
  const clearOwner = db.prepare(
    'UPDATE runs SET owner_pid = NULL, owner_host = NULL, owner_started_at = NULL, heartbeat_at = NULL WHERE id = ? AND owner_pid = ?',
  );
  const descendants = db.prepare<[number], { id: number; depth: number }>(`
    WITH RECURSIVE tree(id, depth) AS (
      SELECT id, 0 FROM runs WHERE id = ?
      UNION ALL SELECT r.id, t.depth + 1 FROM runs r JOIN tree t ON r.parent_run_id = t.id
    ) SELECT id, depth FROM tree ORDER BY depth DESC, id DESC`);
  const filesOf = db.prepare<[number], { path: string }>('SELECT path FROM checkpoints WHERE run_id = ? AND exists_on_disk = 1 ORDER BY id');
  const deleteRun = db.prepare('DELETE FROM runs WHERE id = ?');
  const updateNotes = db.prepare('UPDATE runs SET notes = ? WHERE id = ?');
  const tagsOf = db.prepare<[number], { tag: string }>('SELECT tag FROM run_tags WHERE run_id = ? ORDER BY tag');
  const clearTags = db.prepare('DELETE FROM run_tags WHERE run_id = ?');
  const insertTag = db.prepare('INSERT OR IGNORE INTO run_tags (run_id, tag) VALUES (?, ?)');
  const deleteTag = db.prepare('DELETE FROM run_tags WHERE run_id = ? AND tag = ?');
  const tagCounts = db.prepare<[], { tag: string; runs: number }>('SELECT tag, COUNT(*) AS runs FROM run_tags GROUP BY tag ORDER BY tag');
  const writeTags = db.transaction((id: number, tags: string[], replace: boolean) => {
    mustGetRaw(id);
    if (replace) clearTags.run(id);
    const next = new Set([...(replace ? [] : tagsOf.all(id).map((t) => t.tag)), ...tags]);
    if (next.size > TAGS_MAX_PER_RUN)
      throw new WorkstationError('INVALID_ARGUMENT', `tags: a run has at most ${TAGS_MAX_PER_RUN} tags (this would make ${next.size})`, { field: 'tags' });
    for (const t of tags) insertTag.run(id, t);
  });

  function mustGet(id: number): RunSummary {
    const row = byId.get(id);
    if (!row) throw new WorkstationError('NOT_FOUND', `run ${id} not found`, { field: 'runId' });
    return summary(row);
  }

  function mustGetRaw(id: number): RunRow {
    const row = byId.get(id);
    if (!row) throw new WorkstationError('NOT_FOUND', `run ${id} not found`, { field: 'runId' });
    return row;
  }

  const claimTx = db.transaction((id: number, owner: RunOwnerClaim): void => {
    const row = mustGetRaw(id);
    const at = now();
    const cur = storedOwner(row);
    if (cur && (cur.pid !== owner.pid || cur.host !== owner.host) && ownerIsAlive(row, ownerAlive, at)) {
      throw new WorkstationError(
        'INVALID_STATE',
        `run ${id} (${row.name}) is owned by process ${cur.pid} on ${cur.host} (since ${cur.startedAt}, last heartbeat ${cur.heartbeatAt}); stop it there first`,
        { field: 'runId' },
      );
    }
    setOwner.run({ id, pid: owner.pid, host: owner.host, startedAt: owner.startedAt, now: at });
  });

  const repo: RunsRepo = {
    setNotes(id, notes) {
      if (typeof notes !== 'string') throw new WorkstationError('INVALID_ARGUMENT', 'notes must be text', { field: 'notes' });
      if (notes.length > NOTES_MAX_LENGTH)
        throw new WorkstationError('INVALID_ARGUMENT', `notes: at most ${NOTES_MAX_LENGTH} characters (got ${notes.length})`, { field: 'notes' });
      mustGetRaw(id);
      updateNotes.run(notes, id);
      return mustGet(id);
    },
    setTags(id, tags) {
      writeTags.immediate(id, checkTags(tags), true);
      return mustGet(id);
    },
    addTags(id, tags) {
      writeTags.immediate(id, checkTags(tags), false);
      return mustGet(id);
    },
    removeTags(id, tags) {
      mustGetRaw(id);
      db.transaction(() => {
        for (const t of tags) deleteTag.run(id, t.trim());
      }).immediate();
      return mustGet(id);
    },
    allTags() {
      return tagCounts.all();
    },
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
      return row ? summary(row) : undefined;
    },
    getByName(name) {
      const row = byName.get(name);
      return row ? summary(row) : undefined;
    },
    resolve(idOrName) {
      const s = idOrName.trim();
      const found = (/^\d+$/.test(s) ? repo.get(Number(s)) : undefined) ?? repo.getByName(idOrName);
      if (!found) throw new WorkstationError('NOT_FOUND', `no run with id or name "${idOrName}"`, { field: 'run' });
      return found;
    },
    list() {
      return summaries(all.all());
    },
    config(id) {
      const row = configOf.get(id);
      if (!row) throw new WorkstationError('NOT_FOUND', `run ${id} not found`, { field: 'runId' });
      return JSON.parse(row.config_json) as Record<string, unknown>;
    },
    setStatus(id, status, extra) {
      const row = mustGetRaw(id);
      const at = now();
      const terminal = TERMINAL.includes(checkStatus(status));
      updateStatus.run({
        id,
        status,
        now: at,
        terminal: terminal ? 1 : 0,
        setError: extra && 'error' in extra ? 1 : 0,
        error: extra?.error ?? null,
        clearOwner: terminal || (row.owner_pid !== null && !ownerIsAlive(row, ownerAlive, at)) ? 1 : 0,
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
      return db
        .transaction(() => {
          const at = now();
          const ids = unfinished
            .all()
            .filter((r) => (r.owner_pid === null ? r.status === 'running' || r.status === 'paused' : orphaned(r, ownerAlive, at)))
            .map((r) => r.id);
          for (const id of ids) interrupt.run(at, id);
          return ids.map(mustGet);
        })
        .immediate();
    },
    claim(id, owner) {
      checkInt(owner.pid, 'pid');
      if (typeof owner.host !== 'string' || !owner.host) throw new WorkstationError('INVALID_ARGUMENT', 'owner host must not be empty', { field: 'host' });
      claimTx.immediate(id, owner);
      return mustGet(id);
    },
    heartbeat(id, pid) {
      return beat.run(now(), id, pid).changes > 0;
    },
    release(id, pid) {
      return clearOwner.run(id, pid).changes > 0;
    },
    owner(id) {
      return storedOwner(mustGetRaw(id));
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
      return summaries(childrenOf.all(id));
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
