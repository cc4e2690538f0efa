// Creates a folder the app needs (the database's, the data directory), or says in one line why it
// cannot be created.
//
// Not `fs.mkdirSync(dir, { recursive: true })`: under a regular file that throws a bare EEXIST,
// and under /proc (where mkdir answers ENOENT although the parent exists) Node's recursive
// mkdir retries forever at 100 % CPU, synchronously, so not even SIGTERM gets through. Instead:
// walk up to the first existing ancestor, which must be a writable folder on a file system that
// holds folders, then create the missing levels one at a time.
import fs from 'node:fs';
import path from 'node:path';
import { WorkstationError } from '../../src-shared/errors';

/** Linux pseudo file systems (statfs f_type) that never hold a user's folders */
const PSEUDO_FS: Record<number, string> = {
  0x9fa0: 'proc',
  0x62656572: 'sysfs',
  0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x73636673: 'securityfs',
};

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many symbolic links',
};

function reasonOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code !== undefined && REASONS[code] ? `${REASONS[code]} (${code})` : (e as Error).message;
}

function pseudoFs(dir: string): string | null {
  if (process.platform !== 'linux') return null;
  try {
    return PSEUDO_FS[fs.statfsSync(dir).type] ?? null;
  } catch {
    return null;
  }
}

/** Makes sure the folder of dbPath exists; WorkstationError INVALID_ARGUMENT (field db) naming the folder and why otherwise. */
export function createDatabaseFolder(dbPath: string): void {
  makeFolder(path.dirname(path.resolve(dbPath)), 'database folder', 'db');
}

/** Makes sure `folder` exists; WorkstationError INVALID_ARGUMENT naming it ("cannot create the <what> <folder>: <why>") otherwise. */
export function makeFolder(folder: string, what: string, field: string): void {
  folder = path.resolve(folder);
  const fail = (reason: string, cause?: unknown): never => {
    throw new WorkstationError('INVALID_ARGUMENT', `cannot create the ${what} ${folder}: ${reason}`, { field, path: folder, cause });
  };
  const missing: string[] = [];
  let dir = folder;
  for (;;) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') {
        // a parent is a file: keep walking up to say which one
      } else if (code !== 'ENOENT') fail(`${dir}: ${reasonOf(e)}`, e);
    }
    if (st) {
      if (!st.isDirectory()) fail(st.isFile() ? `${dir} is a file, not a folder` : `${dir} is not a folder`);
      break;
    }
    const up = path.dirname(dir);
    if (up === dir) fail(`${dir} does not exist`); // a missing drive or share root
    missing.unshift(dir);
    dir = up;
  }
  if (missing.length === 0) return;
  const kind = pseudoFs(dir);
  if (kind) fail(`${dir} is on the ${kind} pseudo file system, where folders cannot be created`);
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (e) {
    fail(`${dir} is not writable: ${reasonOf(e)}`, e);
  }
  for (const level of missing) {
    try {
      fs.mkdirSync(level);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // created meanwhile by another process: fine as long as it is a folder
      if (code === 'EEXIST' && fs.statSync(level, { throwIfNoEntry: false })?.isDirectory()) continue;
      // ENOENT although the parent exists: a file system that does not take new folders
      fail(code === 'ENOENT' ? `${path.dirname(level)} does not allow creating folders in it` : `${level}: ${reasonOf(e)}`, e);
    }
  }
}
