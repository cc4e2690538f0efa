// The `--db <path>` flag every command that touches the store takes, and its default: the app's
// data directory (the same database the Electron app and `serve` use).
import path from 'node:path';
import type { FlagSpec, ParsedArgs } from '../common/args';
import { str } from '../common/args';
import type { CliIO } from './command';
import { appPaths, defaultDataDir } from '../common/paths';

export const DB_FLAG: Record<'db', FlagSpec> = {
  db: { type: 'string', description: 'SQLite database file (default: <data dir>/workstation.db; data dir = $WORKSTATION_HOME or the OS app-data folder)' },
};

/** --db resolved against the caller's working directory, else the app's default database. */
export function resolveDbPath(args: ParsedArgs, io: Pick<CliIO, 'env' | 'cwd'>): string {
  const given = str(args, 'db');
  if (given !== undefined) return path.resolve(io.cwd, given);
  return appPaths(defaultDataDir(io.env)).dbPath;
}
