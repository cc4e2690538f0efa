// <dataDir>/service.json: how a later app instance, the CLI or a script finds a running service
// and reattaches over WebSocket. Written atomically at start, removed on clean exit (only by the
// process that wrote it, so a second service does not delete the first one's file). The one
// reader checks every field: a file another version or a crash left half-written is refused
// with the reason, never half-trusted.
import fs from 'node:fs';
import path from 'node:path';
import { WorkstationError } from '../../src-shared/errors';

export interface ServiceFile {
  pid: number;
  port: number;
  host: string;
  token: string;
  dbPath: string;
  startedAt: string;
}

export function serviceFilePath(dataDir: string): string {
  return path.join(dataDir, 'service.json');
}

export function writeServiceFile(dataDir: string, info: ServiceFile): string {
  const file = serviceFilePath(dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  // 0600: the token in it grants full control of the service.
  fs.writeFileSync(tmp, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
  return file;
}

type FieldCheck = [field: keyof ServiceFile, ok: (v: unknown) => boolean, expected: string];

const isNonEmptyString = (v: unknown): boolean => typeof v === 'string' && v.length > 0;
const FIELDS: readonly FieldCheck[] = [
  ['pid', (v) => Number.isSafeInteger(v) && (v as number) > 0, 'a positive integer'],
  ['port', (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535, 'an integer port (1-65535)'],
  ['host', isNonEmptyString, 'a non-empty string'],
  ['token', isNonEmptyString, 'a non-empty string'],
  ['dbPath', isNonEmptyString, 'a non-empty string'],
  ['startedAt', (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)), 'an ISO date string'],
];

/**
 * Checks the text of a service.json: every field present with its type. Throws INVALID_ARGUMENT
 * naming the field (and the file as `path`) on the first problem.
 */
export function parseServiceFile(text: string, file = 'service.json'): ServiceFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new WorkstationError('INVALID_ARGUMENT', `${file} is not valid JSON (${(e as Error).message})`, { path: file });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new WorkstationError('INVALID_ARGUMENT', `${file} must hold a JSON object`, { path: file });
  }
  const obj = raw as Record<string, unknown>;
  for (const [field, ok, expected] of FIELDS) {
    if (!(field in obj)) throw new WorkstationError('INVALID_ARGUMENT', `${file}: ${field} is missing`, { field, path: file });
    if (!ok(obj[field]))
      throw new WorkstationError('INVALID_ARGUMENT', `${file}: ${field} must be ${expected}, got ${JSON.stringify(obj[field])}`, { field, path: file });
  }
  const { pid, port, host, token, dbPath, startedAt } = obj as unknown as ServiceFile;
  return { pid, port, host, token, dbPath, startedAt };
}

export type ServiceFileLookup = { file: ServiceFile; reason: null } | { file: null; reason: string };

/** The data dir's service.json, checked, or why there is none (missing, unreadable, malformed). */
export function loadServiceFile(dataDir: string): ServiceFileLookup {
  const file = serviceFilePath(dataDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { file: null, reason: code === 'ENOENT' ? `no ${file}` : `cannot read ${file}: ${(e as Error).message}` };
  }
  try {
    return { file: parseServiceFile(text, file), reason: null };
  } catch (e) {
    return { file: null, reason: (e as Error).message };
  }
}

/** The checked service.json, or null when it is missing or malformed. */
export function readServiceFile(dataDir: string): ServiceFile | null {
  return loadServiceFile(dataDir).file;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The service.json of a live service on this data dir (not this process), or why there is none. */
export function findLiveService(dataDir: string): ServiceFileLookup {
  const found = loadServiceFile(dataDir);
  if (!found.file) return found;
  const { pid } = found.file;
  if (pid === process.pid) return { file: null, reason: `${serviceFilePath(dataDir)} names this process (pid ${pid})` };
  if (!isProcessAlive(pid)) return { file: null, reason: `${serviceFilePath(dataDir)} is stale: pid ${pid} is not running` };
  return found;
}

/** The service.json of a live service on this data dir (not this process), or null. */
export function liveServiceFile(dataDir: string): ServiceFile | null {
  return findLiveService(dataDir).file;
}

export function removeServiceFile(dataDir: string, pid = process.pid): void {
  // Ownership goes by the pid alone, so a file that another (say, older) service wrote with
  // fields this version refuses is still left to that service.
  let owner: unknown = null;
  try {
    owner = (JSON.parse(fs.readFileSync(serviceFilePath(dataDir), 'utf8')) as { pid?: unknown } | null)?.pid;
  } catch {
    /* missing or not JSON: nobody's */
  }
  if (typeof owner === 'number' && owner !== pid) return;
  try {
    fs.unlinkSync(serviceFilePath(dataDir));
  } catch {
    /* already gone */
  }
}
