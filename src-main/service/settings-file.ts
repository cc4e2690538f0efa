// <dataDir>/settings.json: the app settings of a data directory (src-shared/config/settings.ts).
// A missing file means the defaults; an invalid one is an error naming the file and the field,
// never silently replaced. Written atomically (temp + rename).
import fs from 'node:fs';
import path from 'node:path';
import { SettingsSchema, type Settings } from '../../src-shared/config/settings';
import { zodIssueToError } from '../../src-shared/config/run-config';
import { WorkstationError } from '../../src-shared/errors';

export function settingsPath(dataDir: string): string {
  return path.join(dataDir, 'settings.json');
}

export function readSettings(dataDir: string): Settings {
  const file = settingsPath(dataDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return SettingsSchema.parse({});
    throw new WorkstationError('INVALID_CONFIG', `cannot read ${file}: ${(e as Error).message}`, { path: file });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new WorkstationError('INVALID_CONFIG', `${file}: not valid JSON: ${(e as Error).message}`, { path: file });
  }
  const parsed = SettingsSchema.safeParse(json);
  if (!parsed.success) {
    const err = zodIssueToError(parsed.error, 'INVALID_CONFIG');
    throw new WorkstationError('INVALID_CONFIG', `${file}: ${err.message}`, { path: file, field: err.field });
  }
  return parsed.data;
}

export function writeSettings(dataDir: string, s: Settings): void {
  const file = settingsPath(dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n');
  fs.renameSync(tmp, file);
}
