// Schema version 4: how much of an epoch's training time the trainer spent waiting for the next
// batch (data_wait_fraction, 0..1; NULL for rows of older builds). A high share means the data
// pipeline, not the GPU, sets the pace.
// Kept forever: later changes go into new numbered files, never edits here.
import type { Migration } from './index';

export const migration0004: Migration = {
  version: 4,
  name: 'data-wait',
  up: (db) => {
    db.exec(`ALTER TABLE epoch_metrics ADD COLUMN data_wait_fraction REAL;`);
  },
};
