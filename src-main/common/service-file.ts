// <dataDir>/service.json: how a later app instance (or script) finds a running service and
// reattaches over WebSocket. Written atomically at start, removed on clean exit (only by the
// process that wrote it, so a second service does not delete the first one's file).
import fs from 'node:fs';
import path from 'node:path';

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

export function readServiceFile(dataDir: string): ServiceFile | null {
  try {
    const v = JSON.parse(fs.readFileSync(serviceFilePath(dataDir), 'utf8')) as ServiceFile;
    return typeof v.pid === 'number' && typeof v.port === 'number' ? v : null;
  } catch {
    return null;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The service.json of a live service on this data dir (not this process), or null. */
export function liveServiceFile(dataDir: string): ServiceFile | null {
  const f = readServiceFile(dataDir);
  return f && f.pid !== process.pid && processAlive(f.pid) ? f : null;
}

export function removeServiceFile(dataDir: string, pid = process.pid): void {
  const f = readServiceFile(dataDir);
  if (f && f.pid !== pid) return;
  try {
    fs.unlinkSync(serviceFilePath(dataDir));
  } catch {
    /* already gone */
  }
}
