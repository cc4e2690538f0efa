// The ordered list of schema migrations. PRAGMA user_version holds the number of the last one
// applied; a migration's number is its position (1-based) and is never reused or reordered.
import type Database from 'better-sqlite3';
import { migration0001 } from './0001-initial';
import { migration0002 } from './0002-owners-and-mid-epoch';
import { migration0003 } from './0003-notes-tags-evaluations';
import { migration0004 } from './0004-data-wait';
import { migration0005 } from './0005-selftests-gpu-samples';

export interface Migration {
  /** equals its 1-based position in MIGRATIONS; stored in PRAGMA user_version once applied */
  version: number;
  name: string;
  /** runs inside a transaction together with the user_version bump */
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [migration0001, migration0002, migration0003, migration0004, migration0005];

/** The schema version this build writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS.length;
