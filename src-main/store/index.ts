// The run store: one SQLite file (better-sqlite3, WAL, foreign keys, numbered migrations) with
// repositories that return the API's typed rows. The only code that touches SQL lives under
// store/. Writes are synchronous: when a repository call returns, its transaction is committed
// (unless the call is nested in store.transaction, which commits when its function returns).
import { createCheckpointsRepo, type CheckpointsRepo } from './checkpoints-repo';
import { migrate, openDatabase, type Db } from './db';
import { createEventsRepo, type EventsRepo } from './events-repo';
import { createEvaluationsRepo, type EvaluationsRepo } from './evaluations-repo';
import { createGpuSamplesRepo, type GpuSamplesRepo } from './gpu-samples-repo';
import { createMetricsRepo, type MetricsRepo } from './metrics-repo';
import { MIGRATIONS } from './migrations/index';
import type { OwnerAlive } from './run-owner';
import { createRunsRepo, type RunsRepo } from './runs-repo';
import { createSelftestsRepo, type SelftestsRepo } from './selftests-repo';

export type { CheckpointAddResult, CheckpointInput, CheckpointsRepo } from './checkpoints-repo';
export { defaultOwnerAlive, OWNER_HEARTBEAT_STALE_MS, pidAlive, type OwnerAlive, type OwnerProbe } from './run-owner';
export type { EventsRepo, RunEventInput, RunEventKind } from './events-repo';
export type { EvaluationInput, EvaluationsRepo } from './evaluations-repo';
export type { MetricsRepo } from './metrics-repo';
export { GPU_SAMPLE_TIMES_PER_RUN, type GpuSamplesRepo } from './gpu-samples-repo';
export type { SelftestInput, SelftestKey, SelftestsRepo } from './selftests-repo';
export type { RunCreateInput, RunDeleteResult, RunOwnerClaim, RunsRepo } from './runs-repo';
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
  /** stored evaluations of checkpoints (`workstation eval`, the Evaluation view) */
  readonly evaluations: EvaluationsRepo;
  /** backend self-test results, one per backend + tfjs + libtensorflow version */
  readonly selftests: SelftestsRepo;
  /** nvidia-smi samples taken while each run trained (bounded per run) */
  readonly gpuSamples: GpuSamplesRepo;
  /** runs fn in one write transaction (all of its repository writes commit together, or none) */
  transaction<T>(fn: () => T): T;
  /** closes the connection (checkpoints the WAL into the main file) */
  close(): void;
}

export interface StoreOptions {
  /** clock for timestamps (tests); default the system clock */
  now?: () => Date;
  /**
   * whether a run's recorded owner is still there (tests); default: the pid on this host, a
   * heartbeat younger than OWNER_HEARTBEAT_STALE_MS from another host
   */
  ownerAlive?: OwnerAlive;
  /** GPU sample times kept per run before older ones are thinned (tests); default GPU_SAMPLE_TIMES_PER_RUN */
  gpuSampleTimesPerRun?: number;
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
  const runs = createRunsRepo(db, now, opts.ownerAlive);
  return {
    path: dbPath,
    schemaVersion,
    runs,
    metrics: createMetricsRepo(db, now),
    checkpoints: createCheckpointsRepo(db, now, runs),
    events: createEventsRepo(db, now),
    evaluations: createEvaluationsRepo(db, now),
    selftests: createSelftestsRepo(db, now),
    gpuSamples: createGpuSamplesRepo(db, { maxTimesPerRun: opts.gpuSampleTimesPerRun }),
    transaction: (fn) => db.transaction(fn).immediate(),
    close() {
      if (!open) return;
      open = false;
      db.close();
    },
  };
}
