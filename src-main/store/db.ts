// The SQLite connection: pragmas and the migration runner. The only place that opens the file.
//
// Durability: WAL with synchronous=NORMAL. A transaction is durable against a crash of this
// process (SIGKILL, exceptions) as soon as it commits, because the commit is in the WAL file the
// OS already holds; only an OS crash or power loss may roll back the last transactions (NORMAL
// skips the fsync per commit). That is the failure model we design for (a killed service); an
// epoch row lost to power failure is recomputed by resuming from the previous checkpoint.
import Database from 'better-sqlite3';
import { WorkstationError } from '../../src-shared/errors';
import { createDatabaseFolder } from '../common/make-folder';
import type { Migration } from './migrations/index';

export type Db = Database.Database;

export function openDatabase(dbPath: string): Db {
  const inMemory = dbPath === ':memory:';
  // never a recursive mkdir: it spins forever under /proc (see common/make-folder.ts)
  if (!inMemory) createDatabaseFolder(dbPath);
  let db: Db;
  try {
    db = new Database(dbPath);
    // Fails here (not at the first query) when the file is not a SQLite database.
    db.pragma('journal_mode = WAL');
  } catch (e) {
    throw new WorkstationError('INVALID_ARGUMENT', `cannot open database ${dbPath}: ${(e as Error).message}`, { path: dbPath, field: 'db', cause: e });
  }
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  // The CLI and the service may use the same file at once; wait for a writer instead of failing.
  db.pragma('busy_timeout = 5000');
  return db;
}

export function userVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the schema up to date: each pending migration runs in its own transaction together with
 * its user_version bump, so a failure leaves the database at the previous version. A database
 * newer than this build is refused untouched.
 */
export function migrate(db: Db, migrations: readonly Migration[], dbPath: string): number {
  const current = userVersion(db);
  const latest = migrations.length;
  if (current > latest) {
    throw new WorkstationError('DB_VERSION', `database ${dbPath} has schema version ${current}, this build understands up to ${latest}; upgrade the app`, {
      path: dbPath,
    });
  }
  for (const m of migrations.slice(current)) {
    if (m.version !== userVersion(db) + 1) throw new Error(`migration ${m.name} is numbered ${m.version}, expected ${userVersion(db) + 1}`);
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return userVersion(db);
}
