// The run store: one SQLite file (better-sqlite3, WAL, foreign keys, numbered migrations) with
// repositories that return the API's typed rows. The only code that touches SQL lives under
// store/. Writes are synchronous: when a repository call returns, its transaction is committed
// (unless the call is nested in store.transaction, which commits when its function returns).
import { createCheckpointsRepo, type CheckpointsRepo } from './checkpoints-repo';
import { migrate, openDatabase, type Db } from './db';
import { createEventsRepo, type EventsRepo } from './events-repo';
import { createMetricsRepo, type MetricsRepo } from './metrics-repo';
import { MIGRATIONS } from './migrations/index';
import { createRunsRepo, type RunsRepo } from './runs-repo';

export type { CheckpointInput, CheckpointsRepo } from './checkpoints-repo';
export type { EventsRepo, RunEventInput, RunEventKind } from './events-repo';
export type { MetricsRepo } from './metrics-repo';
export type { RunCreateInput, RunDeleteResult, RunsRepo } from './runs-repo';
export { SCHEMA_VERSION } from './migrations/index';

export interface Store {
  /** the database file (':memory:' for an in-memory store) */
  readonly path: string;
  /** PRAGMA user_version after migrations (= SCHEMA_VERSION) */
  readonly schemaVersion: number;
  readonly runs: RunsRepo;
  readonly metrics: MetricsRepo;
  readonly checkpoints: CheckpointsRepo;
  readonly events: EventsRepo;
  /** runs fn in one write transaction (all of its repository writes commit together, or none) */
  transaction<T>(fn: () => T): T;
  /** closes the connection (checkpoints the WAL into the main file) */
  close(): void;
}

export interface StoreOptions {
  /** clock for timestamps (tests); default the system clock */
  now?: () => Date;
}

/**
 * Opens (creating parent directories and the file when missing) and migrates the database.
 * Throws WorkstationError DB_VERSION for a database written by a newer build (left untouched),
 * INVALID_ARGUMENT when the file is not a SQLite database.
 */
export function openStore(dbPath: string, opts: StoreOptions = {}): Store {
  const db: Db = openDatabase(dbPath);
  let schemaVersion: number;
  try {
    schemaVersion = migrate(db, MIGRATIONS, dbPath);
  } catch (e) {
    db.close();
    throw e;
  }
  const clock = opts.now ?? (() => new Date());
  const now = () => clock().toISOString();
  let open = true;
  return {
    path: dbPath,
    schemaVersion,
    runs: createRunsRepo(db, now),
    metrics: createMetricsRepo(db, now),
    checkpoints: createCheckpointsRepo(db, now),
    events: createEventsRepo(db, now),
    transaction: (fn) => db.transaction(fn).immediate(),
    close() {
      if (!open) return;
      open = false;
      db.close();
    },
  };
}
