// <dataDir>/service.json, the one reader: a file a running service wrote is trusted only when
// every field checks out; anything else (half-written, another format, a dead pid) is refused
// with a reason that says what is wrong.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  findLiveService,
  isProcessAlive,
  liveServiceFile,
  loadServiceFile,
  parseServiceFile,
  readServiceFile,
  removeServiceFile,
  serviceFilePath,
  writeServiceFile,
  type ServiceFile,
} from '../../src-main/common/service-file';
import { WorkstationError } from '../../src-shared/errors';
import { tempDir } from '../helpers/samples';

/** A pid that is certainly not running: a child that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(r.stdout);
  expect(isProcessAlive(pid)).toBe(false);
  return pid;
}

/** A live process that is not this one: the parent (vitest's runner). */
const otherLivePid = process.ppid;

function valid(over: Partial<ServiceFile> = {}): ServiceFile {
  return {
    pid: otherLivePid,
    port: 40123,
    host: '127.0.0.1',
    token: 'a'.repeat(32),
    dbPath: '/data/workstation.db',
    startedAt: new Date().toISOString(),
    ...over,
  };
}

function writeRaw(dataDir: string, text: string): void {
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(serviceFilePath(dataDir), text);
}

function parseError(text: string): WorkstationError {
  try {
    parseServiceFile(text, '/d/service.json');
  } catch (e) {
    expect(e).toBeInstanceOf(WorkstationError);
    return e as WorkstationError;
  }
  throw new Error(`accepted: ${text}`);
}

describe('service.json', () => {
  it('round-trips a valid file, written 0600 and atomically', () => {
    const dir = path.join(tempDir('ws-svcfile-'), 'data');
    const info = valid();
    const file = writeServiceFile(dir, info);
    expect(file).toBe(path.join(dir, 'service.json'));
    expect(readServiceFile(dir)).toEqual(info);
    expect(loadServiceFile(dir)).toEqual({ file: info, reason: null });
    if (process.platform !== 'win32') expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['service.json']);
    // unknown extra fields are not carried along
    writeRaw(dir, JSON.stringify({ ...info, extra: 1 }));
    expect(readServiceFile(dir)).toEqual(info);
  });

  it('refuses a file with a missing field, naming the field', () => {
    for (const field of ['pid', 'port', 'host', 'token', 'dbPath', 'startedAt'] as const) {
      const rest: Record<string, unknown> = { ...valid() };
      delete rest[field];
      const err = parseError(JSON.stringify(rest));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.field).toBe(field);
      expect(err.path).toBe('/d/service.json');
      expect(err.message).toBe(`/d/service.json: ${field} is missing`);
    }
  });

  it('refuses a field of the wrong type or range, naming the field and the value', () => {
    const cases: [keyof ServiceFile, unknown][] = [
      ['pid', '123'],
      ['pid', 1.5],
      ['pid', 0],
      ['pid', -4],
      ['port', '8080'],
      ['port', 0],
      ['port', 70000],
      ['port', 80.5],
      ['host', 7],
      ['host', ''],
      ['token', null],
      ['token', ''],
      ['dbPath', ['a']],
      ['startedAt', 'yesterday'],
      ['startedAt', 1700000000],
    ];
    for (const [field, value] of cases) {
      const err = parseError(JSON.stringify({ ...valid(), [field]: value }));
      expect(err.field, `${field}=${JSON.stringify(value)}`).toBe(field);
      expect(err.message).toContain(`${field} must be`);
      expect(err.message).toContain(`got ${JSON.stringify(value)}`);
    }
  });

  it('refuses garbage: not JSON, truncated, not an object', () => {
    expect(parseError('not json at all').message).toMatch(/^\/d\/service\.json is not valid JSON/);
    expect(parseError(JSON.stringify(valid()).slice(0, 30)).message).toMatch(/is not valid JSON/);
    expect(parseError('').message).toMatch(/is not valid JSON/);
    for (const text of ['null', '[]', '42', '"x"']) expect(parseError(text).message, text).toBe('/d/service.json must hold a JSON object');

    const dir = tempDir('ws-svcfile-');
    writeRaw(dir, '{"pid": 12, "port":');
    expect(readServiceFile(dir)).toBeNull();
    expect(loadServiceFile(dir)).toEqual({ file: null, reason: expect.stringMatching(/service\.json is not valid JSON/) });
    expect(liveServiceFile(dir)).toBeNull();
  });

  it('says when there is no file at all', () => {
    const dir = tempDir('ws-svcfile-');
    expect(readServiceFile(dir)).toBeNull();
    expect(loadServiceFile(dir)).toEqual({ file: null, reason: `no ${path.join(dir, 'service.json')}` });
  });

  it('finds a live service, and calls a file naming a dead pid (or this process) stale', () => {
    const dir = tempDir('ws-svcfile-');
    const live = valid();
    writeServiceFile(dir, live);
    expect(liveServiceFile(dir)).toEqual(live);
    expect(isProcessAlive(live.pid)).toBe(true);

    const dead = deadPid();
    writeServiceFile(dir, valid({ pid: dead }));
    expect(readServiceFile(dir)?.pid).toBe(dead); // well-formed…
    expect(liveServiceFile(dir)).toBeNull(); // …but nobody is there
    expect(findLiveService(dir)).toEqual({ file: null, reason: `${path.join(dir, 'service.json')} is stale: pid ${dead} is not running` });

    writeServiceFile(dir, valid({ pid: process.pid }));
    expect(findLiveService(dir)).toEqual({ file: null, reason: expect.stringMatching(/names this process/) });
  });

  it('is removed only by the process it names', () => {
    const dir = tempDir('ws-svcfile-');
    writeServiceFile(dir, valid({ pid: otherLivePid }));
    removeServiceFile(dir);
    expect(fs.existsSync(serviceFilePath(dir))).toBe(true);
    // another service's file is left alone even when this version would refuse its fields
    writeRaw(dir, JSON.stringify({ pid: otherLivePid, port: 1 }));
    removeServiceFile(dir);
    expect(fs.existsSync(serviceFilePath(dir))).toBe(true);
    removeServiceFile(dir, otherLivePid);
    expect(fs.existsSync(serviceFilePath(dir))).toBe(false);
    // garbage is nobody's
    writeRaw(dir, 'garbage');
    removeServiceFile(dir);
    expect(fs.existsSync(serviceFilePath(dir))).toBe(false);
    removeServiceFile(dir); // already gone: no error
  });
});
