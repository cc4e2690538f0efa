// Schema version 2: mid-epoch checkpoints and one owner per run (days-long runs survive crashes).
// Kept forever: later changes go into new numbered files, never edits here.
//
// checkpoints.kind is 'epoch' (written after `epoch` finished) or 'mid-epoch' (written while
// `epoch` was in progress, `step_in_epoch` steps of it done). Rows from version 1 are epoch
// checkpoints whose step counts were never recorded, so step_in_epoch and global_step stay NULL.
//
// runs.owner_*: the process that trains the run (pid, host, when it took it) and its last
// heartbeat. All NULL when nobody holds the run, including every row from version 1: a
// running/paused row without an owner was written by an older build and is left as it reads.
import type { Migration } from './index';

export const migration0002: Migration = {
  version: 2,
  name: 'owners-and-mid-epoch',
  up: (db) => {
    db.exec(`
      ALTER TABLE checkpoints ADD COLUMN kind TEXT NOT NULL DEFAULT 'epoch';
      ALTER TABLE checkpoints ADD COLUMN step_in_epoch INTEGER;
      ALTER TABLE checkpoints ADD COLUMN global_step INTEGER;
      CREATE INDEX checkpoints_run_kind ON checkpoints(run_id, kind);

      ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
      ALTER TABLE runs ADD COLUMN owner_host TEXT;
      ALTER TABLE runs ADD COLUMN owner_started_at TEXT;
      ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;
      -- child runs by the checkpoint they start from (pinning: which files a queued child still needs)
      CREATE INDEX runs_parent_checkpoint ON runs(parent_checkpoint_id);
    `);
  },
};
