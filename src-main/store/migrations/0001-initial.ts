// Schema version 1: runs with lineage, per-epoch metrics, step samples, checkpoints, events.
// Kept forever: later changes go into new numbered files, never edits here.
//
// Enum-like columns (status, kind) carry no CHECK constraint on purpose: SQLite cannot alter a
// CHECK without rebuilding the table, and the repositories validate those values in TypeScript.
// Metric columns are nullable: a diverged run's NaN loss or an imported log's unknown lr must
// still be stored (SQLite stores NaN as NULL); the repositories map NULL back to NaN.
import type { Migration } from './index';

export const migration0001: Migration = {
  version: 1,
  name: 'initial',
  up: (db) => {
    db.exec(`
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        parent_run_id INTEGER REFERENCES runs(id),
        parent_checkpoint_id INTEGER REFERENCES checkpoints(id) ON DELETE SET NULL,
        fork_epoch INTEGER,
        config_json TEXT NOT NULL,
        seed INTEGER NOT NULL,
        target_epochs INTEGER NOT NULL,
        backend TEXT,
        host TEXT,
        created_at TEXT NOT NULL,
        started_at TEXT,
        ended_at TEXT,
        error TEXT
      );
      CREATE INDEX runs_name ON runs(name);
      CREATE INDEX runs_parent ON runs(parent_run_id);

      CREATE TABLE epoch_metrics (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        epoch INTEGER NOT NULL,
        train_loss REAL,
        train_top1 REAL,
        train_top5 REAL,
        val_loss REAL,
        val_top1 REAL,
        val_top5 REAL,
        lr REAL,
        momentum REAL,
        images_per_sec REAL,
        epoch_seconds REAL,
        skipped_files INTEGER NOT NULL DEFAULT 0,
        image_size INTEGER,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (run_id, epoch)
      ) WITHOUT ROWID;

      CREATE TABLE step_samples (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        global_step INTEGER NOT NULL,
        epoch INTEGER NOT NULL,
        step INTEGER NOT NULL,
        loss REAL,
        top1 REAL,
        lr REAL,
        momentum REAL,
        images_per_sec REAL,
        PRIMARY KEY (run_id, global_step)
      ) WITHOUT ROWID;

      CREATE TABLE checkpoints (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        epoch INTEGER NOT NULL,
        path TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        val_top1 REAL,
        is_best INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        exists_on_disk INTEGER NOT NULL DEFAULT 1
      );
      CREATE INDEX checkpoints_run ON checkpoints(run_id, epoch);
      CREATE INDEX checkpoints_path ON checkpoints(path);

      CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        epoch INTEGER,
        global_step INTEGER,
        at TEXT NOT NULL,
        data_json TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX events_run ON events(run_id, id);
    `);
  },
};
