// Schema version 3: notes and tags on runs, and stored evaluations of checkpoints.
// Kept forever: later changes go into new numbered files, never edits here.
//
// runs.notes: free text the user keeps with a run ('' when none). run_tags: one row per
// (run, tag); tags are short labels, case kept, compared as stored.
//
// evaluations: one row per evaluation of a checkpoint (`workstation eval`, the app's Evaluation
// view) with the protocol it used ('run' = the run's own validation transform, 'resize',
// 'center-crop') and test-time augmentation ('none' | 'flip'). The totals are columns; what the
// views need beyond them — per-class counts, (true, predicted) confusion counts and the top
// mistakes per class — is kept as JSON in `details_json` (bounded: it never holds every
// prediction). Deleting a checkpoint row deletes its evaluations.
import type { Migration } from './index';

export const migration0003: Migration = {
  version: 3,
  name: 'notes-tags-evaluations',
  up: (db) => {
    db.exec(`
      ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT '';
      CREATE TABLE run_tags (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        tag TEXT NOT NULL CHECK (length(tag) BETWEEN 1 AND 64),
        PRIMARY KEY (run_id, tag)
      );
      CREATE INDEX run_tags_tag ON run_tags(tag);

      CREATE TABLE evaluations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id) ON DELETE CASCADE,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        split TEXT NOT NULL,
        protocol TEXT NOT NULL CHECK (protocol IN ('run', 'resize', 'center-crop')),
        tta TEXT NOT NULL DEFAULT 'none' CHECK (tta IN ('none', 'flip')),
        data_root TEXT,
        images INTEGER NOT NULL,
        loss REAL,
        top1 REAL,
        top5 REAL,
        details_json TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
      );
      CREATE INDEX evaluations_checkpoint ON evaluations(checkpoint_id);
    `);
  },
};
