// Schema version 5: backend self-test results, and the GPU samples taken while a run trains.
// Kept forever: later changes go into new numbered files, never edits here.
//
// selftests: the newest self-test result per backend + tfjs version + libtensorflow version (the
// service runs it before a native backend's first run, and by hand: System view, `doctor
// --selftest`). libtensorflow_version is '' for a backend without libtensorflow (pure-JS cpu), so
// the UNIQUE key holds (SQLite's NULLs are all distinct). The checks are JSON in checks_json.
//
// gpu_samples: nvidia-smi's samples (one row per GPU per query) taken while the run trained, so a
// finished run's GPU utilisation can still be shown after a restart. Bounded per run by the
// repository (older samples thinned), deleted with the run.
import type { Migration } from './index';

export const migration0005: Migration = {
  version: 5,
  name: 'selftests-gpu-samples',
  up: (db) => {
    db.exec(`
      CREATE TABLE selftests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        backend TEXT NOT NULL,
        tfjs_version TEXT NOT NULL,
        libtensorflow_version TEXT NOT NULL DEFAULT '',
        native_package TEXT,
        native_version TEXT,
        ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
        precision TEXT NOT NULL,
        checks_json TEXT NOT NULL,
        seconds REAL NOT NULL,
        trigger TEXT NOT NULL,
        run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        UNIQUE (backend, tfjs_version, libtensorflow_version)
      );

      CREATE TABLE gpu_samples (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        gpu_index INTEGER NOT NULL,
        utilization REAL,
        memory_used_mib REAL,
        power_w REAL,
        temperature_c REAL
      );
      CREATE INDEX gpu_samples_run_at ON gpu_samples(run_id, at);
    `);
  },
};
