// The run store on real SQLite files: migrations and schema versions, repositories, lineage,
// foreign keys, mid-epoch checkpoints, pinned checkpoints, run owners (a dead owner reads as
// interrupted), and that a committed epoch row survives the process being killed.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import type { EpochMetrics, StepSample } from '../../src-shared/metrics';
import { isWorkstationError } from '../../src-shared/errors';
import { migrate, openDatabase } from '../../src-main/store/db';
import { openStore, SCHEMA_VERSION, type CheckpointInput, type Store, type StoreOptions } from '../../src-main/store/index';
import { MIGRATIONS, type Migration } from '../../src-main/store/migrations/index';
import { tempDir } from '../helpers/samples';

const ROOT = path.resolve(__dirname, '../..');

function epoch(n: number, over: Partial<EpochMetrics> = {}): EpochMetrics {
  return {
    epoch: n,
    trainLoss: 4 - n * 0.1,
    trainTop1: 10 + n,
    trainTop5: 30 + n,
    valLoss: 3.5 - n * 0.1,
    valTop1: 12 + n,
    valTop5: 33 + n,
    lr: 0.1 / (n + 1),
    momentum: 0.9,
    imagesPerSec: 380 + n,
    epochSeconds: 3300 - n,
    skippedFiles: 0,
    imageSize: 224,
    ...over,
  };
}

function expectError(fn: () => unknown, code: string, message?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(isWorkstationError(thrown), `expected a WorkstationError ${code}, got ${String(thrown)}`).toBe(true);
  expect((thrown as { code: string }).code).toBe(code);
  if (message) expect((thrown as Error).message).toMatch(message);
}

const opened: Store[] = [];
function open(dbPath = path.join(tempDir('ws-store-'), 'ws.db'), now?: () => Date, opts: Omit<StoreOptions, 'now'> = {}): Store {
  const s = openStore(dbPath, now ? { now, ...opts } : opts);
  opened.push(s);
  return s;
}
afterEach(() => {
  while (opened.length) opened.pop()!.close();
});

function newRun(store: Store, name = 'baseline', extra: Partial<Parameters<Store['runs']['create']>[0]> = {}) {
  return store.runs.create({ name, config: { model: { arch: 'resnet50' }, seed: 7 }, seed: 7, targetEpochs: 40, ...extra });
}

describe('schema and migrations', () => {
  it('creates the file and parent directories, applies all migrations and sets WAL + foreign keys', () => {
    const dbPath = path.join(tempDir('ws-store-'), 'nested', 'deeper', 'ws.db');
    const store = open(dbPath);
    expect(fs.existsSync(dbPath)).toBe(true);
    expect(store.schemaVersion).toBe(MIGRATIONS.length);
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
    store.close();
    const raw = new Database(dbPath, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = raw
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((r: any) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['checkpoints', 'epoch_metrics', 'events', 'runs', 'step_samples']));
    raw.close();
  });

  it('upgrades a database at version 0 (created before any migration) and keeps its other content', () => {
    const dbPath = path.join(tempDir('ws-store-'), 'old.db');
    const raw = new Database(dbPath);
    raw.exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('kept')");
    expect(raw.pragma('user_version', { simple: true })).toBe(0);
    raw.close();
    const store = open(dbPath);
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    expect(newRun(store).id).toBe(1);
    store.close();
    const check = new Database(dbPath, { readonly: true });
    expect(check.prepare('SELECT text FROM notes').get()).toEqual({ text: 'kept' });
    check.close();
  });

  it('runs a later migration on an existing database, each migration in a transaction with user_version', () => {
    const dbPath = path.join(tempDir('ws-store-'), 'ws.db');
    const store = open(dbPath);
    const run = newRun(store);
    store.metrics.addEpoch(run.id, epoch(1));
    store.close();

    const failing: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'broken',
      up: (db) => {
        db.exec('CREATE TABLE half_done (x INTEGER)');
        throw new Error('disk full halfway');
      },
    };
    const db1 = openDatabase(dbPath);
    expect(() => migrate(db1, [...MIGRATIONS, failing], dbPath)).toThrow('disk full halfway');
    expect(db1.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db1.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").get()).toBeUndefined();
    db1.close();

    const addColour: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'run-colour',
      up: (db) => db.exec("ALTER TABLE runs ADD COLUMN colour TEXT NOT NULL DEFAULT ''"),
    };
    const db2 = openDatabase(dbPath);
    expect(migrate(db2, [...MIGRATIONS, addColour], dbPath)).toBe(MIGRATIONS.length + 1);
    expect(db2.prepare('SELECT name, colour FROM runs').all()).toEqual([{ name: 'baseline', colour: '' }]);
    expect(db2.prepare('SELECT COUNT(*) AS n FROM epoch_metrics').get()).toEqual({ n: 1 });
    db2.close();
  });

  it('refuses a database written by a newer build and leaves it untouched', () => {
    const dbPath = path.join(tempDir('ws-store-'), 'future.db');
    const raw = new Database(dbPath);
    raw.exec('CREATE TABLE runs_v9 (id INTEGER)');
    raw.pragma(`user_version = ${SCHEMA_VERSION + 7}`);
    raw.close();
    expectError(
      () => openStore(dbPath),
      'DB_VERSION',
      new RegExp(
        `${dbPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} has schema version ${SCHEMA_VERSION + 7}, this build understands up to ${SCHEMA_VERSION}; upgrade the app`,
      ),
    );
    const check = new Database(dbPath, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 7);
    expect(check.prepare("SELECT name FROM sqlite_master WHERE name = 'runs'").get()).toBeUndefined();
    check.close();
  });

  it('says which file is not a database', () => {
    const dbPath = path.join(tempDir('ws-store-'), 'notes.db');
    fs.writeFileSync(dbPath, 'this is a text file, not SQLite '.repeat(64));
    expectError(() => openStore(dbPath), 'INVALID_ARGUMENT', /notes\.db/);
  });
});

describe('runs', () => {
  it('creates, finds by id or name, lists and returns the stored config', () => {
    const store = open();
    const a = newRun(store, 'baseline');
    const b = newRun(store, 'baseline', { seed: 8, backend: 'tensorflow', host: 'gpu-box' });
    const c = newRun(store, '42');
    expect(a).toMatchObject({
      id: 1,
      name: 'baseline',
      status: 'queued',
      parentRunId: null,
      forkEpoch: null,
      seed: 7,
      targetEpochs: 40,
      lastEpoch: null,
      bestValTop1: null,
      startedAt: null,
      endedAt: null,
      error: null,
    });
    expect(b).toMatchObject({ backend: 'tensorflow', host: 'gpu-box', seed: 8 });
    expect(store.runs.get(2)).toEqual(b);
    expect(store.runs.get(99)).toBeUndefined();
    expect(store.runs.getByName('baseline')!.id).toBe(b.id); // the latest with that name
    expect(store.runs.resolve('1').id).toBe(a.id);
    expect(store.runs.resolve('baseline').id).toBe(b.id);
    expect(store.runs.resolve('42').id).toBe(c.id); // no run 42: falls back to the name
    expectError(() => store.runs.resolve('nope'), 'NOT_FOUND', /"nope"/);
    expect(store.runs.list().map((r) => r.id)).toEqual([1, 2, 3]);
    expect(store.runs.config(a.id)).toEqual({ model: { arch: 'resnet50' }, seed: 7 });
    expectError(() => store.runs.config(99), 'NOT_FOUND');
    expectError(() => newRun(store, '  '), 'INVALID_ARGUMENT');
    expectError(() => newRun(store, 'x', { status: 'sleeping' as never }), 'INVALID_ARGUMENT', /sleeping/);
  });

  it('sets startedAt on first running and endedAt on terminal statuses, with the error text', () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const store = open(undefined, () => new Date((t += 1000)));
    const run = newRun(store);
    expect(run.createdAt).toBe('2026-01-01T00:00:01.000Z');
    const running = store.runs.setStatus(run.id, 'running');
    expect(running.startedAt).toBe('2026-01-01T00:00:02.000Z');
    expect(running.endedAt).toBeNull();
    const paused = store.runs.setStatus(run.id, 'paused');
    expect(paused.startedAt).toBe(running.startedAt);
    const again = store.runs.setStatus(run.id, 'running');
    expect(again.startedAt).toBe(running.startedAt); // first start kept
    const failed = store.runs.setStatus(run.id, 'failed', { error: 'out of memory at step 1234' });
    expect(failed).toMatchObject({ status: 'failed', error: 'out of memory at step 1234', endedAt: '2026-01-01T00:00:05.000Z' });
    const resumed = store.runs.setStatus(run.id, 'running', { error: null });
    expect(resumed).toMatchObject({ status: 'running', error: null, endedAt: null, startedAt: running.startedAt });
    expect(store.runs.setStatus(run.id, 'completed').error).toBeNull();
    expectError(() => store.runs.setStatus(99, 'running'), 'NOT_FOUND');
    expect(store.runs.setBackend(run.id, 'cpu', 'laptop')).toMatchObject({ backend: 'cpu', host: 'laptop' });
    expect(store.runs.setTargetEpochs(run.id, 90).targetEpochs).toBe(90);
  });

  it('marks running and paused runs interrupted at startup, queued ones stay queued', () => {
    const store = open();
    const running = store.runs.setStatus(newRun(store, 'a').id, 'running');
    const paused = store.runs.setStatus(newRun(store, 'b').id, 'paused');
    const queued = newRun(store, 'c');
    const done = store.runs.setStatus(newRun(store, 'd').id, 'completed');
    const marked = store.runs.markInterrupted();
    expect(marked.map((r) => [r.id, r.status])).toEqual([
      [running.id, 'interrupted'],
      [paused.id, 'interrupted'],
    ]);
    expect(marked.every((r) => r.endedAt !== null)).toBe(true);
    expect(store.runs.get(queued.id)!.status).toBe('queued');
    expect(store.runs.get(done.id)!.status).toBe('completed');
    expect(store.runs.markInterrupted()).toEqual([]);
  });

  it('keeps lineage: parents, fork epochs, children, and refuses unknown parents', () => {
    const store = open();
    const root = newRun(store, 'root');
    const ckpt = store.checkpoints.add({ runId: root.id, epoch: 19, path: '/ck/root-19.ckpt', bytes: 100, sha256: 'a'.repeat(64), valTop1: 55, isBest: true });
    const child = newRun(store, 'lr-drop', { parentRunId: root.id, parentCheckpointId: ckpt.id, forkEpoch: 19 });
    const grandchild = newRun(store, 'longer', { parentRunId: child.id, forkEpoch: 29 });
    const sibling = newRun(store, 'other', { parentRunId: root.id, forkEpoch: 9 });
    expect(child).toMatchObject({ parentRunId: root.id, parentCheckpointId: ckpt.id, forkEpoch: 19 });
    expect(store.runs.lineage(grandchild.id).map((r) => r.id)).toEqual([root.id, child.id, grandchild.id]);
    expect(store.runs.lineage(root.id).map((r) => r.id)).toEqual([root.id]);
    expect(store.runs.children(root.id).map((r) => r.id)).toEqual([child.id, sibling.id]);
    expect(store.runs.children(grandchild.id)).toEqual([]);
    expectError(() => newRun(store, 'orphan', { parentRunId: 999 }), 'NOT_FOUND');
    expectError(() => store.runs.lineage(999), 'NOT_FOUND');
  });

  it('deletes a run with its rows; refuses children unless cascade and active runs always', () => {
    const dir = tempDir('ws-store-');
    const dbPath = path.join(dir, 'ws.db');
    const store = open(dbPath);
    const root = newRun(store, 'root');
    store.metrics.addEpoch(root.id, epoch(1));
    const kept = store.checkpoints.add({ runId: root.id, epoch: 1, path: '/ck/r1.ckpt', bytes: 1, sha256: 'b'.repeat(64), valTop1: 13, isBest: true });
    store.checkpoints.add({ runId: root.id, epoch: 0, path: '/ck/r0.ckpt', bytes: 1, sha256: 'c'.repeat(64), valTop1: 12, isBest: false });
    store.checkpoints.markRemoved('/ck/r0.ckpt');
    const child = newRun(store, 'child', { parentRunId: root.id, parentCheckpointId: kept.id, forkEpoch: 1 });
    store.metrics.addEpoch(child.id, epoch(2));
    store.metrics.addSteps(child.id, [{ epoch: 2, step: 0, globalStep: 10, loss: 3, top1: 20, lr: 0.1, momentum: 0.9, imagesPerSec: 300 }]);
    store.checkpoints.add({ runId: child.id, epoch: 2, path: '/ck/c2.ckpt', bytes: 1, sha256: 'd'.repeat(64), valTop1: 14, isBest: true });
    store.events.add({ runId: child.id, kind: 'fork', epoch: 2, data: { diff: [] } });
    const other = newRun(store, 'other');

    expectError(() => store.runs.delete(root.id), 'INVALID_STATE', /child runs \(#2 child\)/);
    store.runs.setStatus(child.id, 'running');
    expectError(() => store.runs.delete(root.id, { cascade: true }), 'INVALID_STATE', /run 2 \(child\) is running/);
    store.runs.setStatus(child.id, 'stopped');

    const result = store.runs.delete(root.id, { cascade: true });
    expect(result.runIds).toEqual([child.id, root.id]);
    expect(result.checkpointPaths.sort()).toEqual(['/ck/c2.ckpt', '/ck/r1.ckpt']); // r0 was already removed
    expect(store.runs.list().map((r) => r.id)).toEqual([other.id]);
    expectError(() => store.runs.delete(root.id), 'NOT_FOUND');
    store.close();

    const raw = new Database(dbPath, { readonly: true });
    for (const table of ['epoch_metrics', 'step_samples', 'checkpoints', 'events']) {
      expect(raw.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get(), table).toEqual({ n: 0 });
    }
    raw.close();
  });
});

describe('metrics', () => {
  it('upserts epoch rows and computes lastEpoch and bestValTop1 from them', () => {
    const store = open();
    const run = newRun(store);
    store.metrics.addEpoch(run.id, epoch(2, { valTop1: 40.5 }));
    store.metrics.addEpoch(run.id, epoch(1, { valTop1: 30.25 }));
    store.metrics.addEpoch(run.id, epoch(3, { valTop1: 39 }));
    expect(store.runs.get(run.id)).toMatchObject({ lastEpoch: 3, bestValTop1: 40.5 });
    store.metrics.addEpoch(run.id, epoch(3, { valTop1: 41.125, trainLoss: 1.2345678901234567 }));
    const rows = store.metrics.epochs(run.id);
    expect(rows.map((r) => r.epoch)).toEqual([1, 2, 3]);
    expect(rows[2]).toEqual(epoch(3, { valTop1: 41.125, trainLoss: 1.2345678901234567 }));
    expect(store.runs.get(run.id)!.bestValTop1).toBe(41.125);
    expectError(() => store.metrics.addEpoch(999, epoch(1)), 'NOT_FOUND');
  });

  it('stores a diverged NaN loss and skipped validation without failing the run', () => {
    const store = open();
    const run = newRun(store);
    store.metrics.addEpoch(run.id, epoch(1, { trainLoss: NaN, valLoss: null, valTop1: null, valTop5: null }));
    const [row] = store.metrics.epochs(run.id);
    expect(row.trainLoss).toBeNaN();
    expect(row).toMatchObject({ valLoss: null, valTop1: null, valTop5: null, trainTop1: 11 });
    expect(store.runs.get(run.id)).toMatchObject({ lastEpoch: 1, bestValTop1: null });
  });

  it('keeps every step sample and reads them incrementally', () => {
    const store = open();
    const run = newRun(store);
    const samples: StepSample[] = Array.from({ length: 500 }, (_, i) => ({
      epoch: Math.floor(i / 100),
      step: i % 100,
      globalStep: i,
      loss: 7 - i / 100,
      top1: i / 10,
      lr: 0.1,
      momentum: 0.9,
      imagesPerSec: 300 + i,
    }));
    store.metrics.addSteps(run.id, samples.slice(0, 250));
    store.metrics.addSteps(run.id, samples.slice(250));
    store.metrics.addSteps(run.id, []);
    expect(store.metrics.steps(run.id)).toEqual(samples);
    expect(store.metrics.steps(run.id, { afterGlobalStep: 489 }).map((s) => s.globalStep)).toEqual([490, 491, 492, 493, 494, 495, 496, 497, 498, 499]);
    expect(store.metrics.steps(run.id, { afterGlobalStep: 499 })).toEqual([]);
  });
});

describe('checkpoints and events', () => {
  it('keeps one best per run, tracks removed files and returns the latest existing one', () => {
    const store = open();
    const run = newRun(store);
    const other = newRun(store, 'other');
    const add = (runId: number, e: number, valTop1: number, isBest: boolean) =>
      store.checkpoints.add({ runId, epoch: e, path: `/ck/${runId}-${e}.ckpt`, bytes: 1000 + e, sha256: String(e).padStart(64, '0'), valTop1, isBest });
    const c1 = add(run.id, 1, 20, true);
    const o1 = add(other.id, 1, 99, true);
    const c2 = add(run.id, 2, 25, true);
    const c3 = add(run.id, 3, 24, false);
    expect(c1).toMatchObject({ runId: run.id, epoch: 1, bytes: 1001, isBest: true, exists: true, valTop1: 20 });
    expect(store.checkpoints.list(run.id).map((c) => [c.epoch, c.isBest])).toEqual([
      [1, false],
      [2, true],
      [3, false],
    ]);
    expect(store.checkpoints.get(o1.id)!.isBest).toBe(true); // another run's best is untouched
    expect(store.checkpoints.latest(run.id)!.id).toBe(c3.id);
    store.checkpoints.markRemoved(c3.path);
    expect(store.checkpoints.get(c3.id)!.exists).toBe(false);
    expect(store.checkpoints.latest(run.id)!.id).toBe(c2.id);
    const child = newRun(store, 'child', { parentRunId: run.id, parentCheckpointId: c2.id, forkEpoch: 2 });
    expect(store.checkpoints.delete(c2.id).id).toBe(c2.id);
    expect(store.checkpoints.get(c2.id)).toBeUndefined();
    expect(store.runs.get(child.id)).toMatchObject({ parentCheckpointId: null, parentRunId: run.id, forkEpoch: 2 });
    expectError(() => store.checkpoints.delete(c2.id), 'NOT_FOUND');
    expectError(() => add(999, 1, 1, false), 'NOT_FOUND');
    expect(store.checkpoints.latest(999)).toBeUndefined();
  });

  it('records events in order with their payload', () => {
    const store = open();
    const run = newRun(store);
    const e1 = store.events.add({ runId: run.id, kind: 'augment', epoch: 3, globalStep: 1234, data: { patch: { flip: false } } });
    const e2 = store.events.add({ runId: run.id, kind: 'pause' });
    expect(e1).toMatchObject({ runId: run.id, kind: 'augment', epoch: 3, globalStep: 1234, data: { patch: { flip: false } } });
    expect(e2).toMatchObject({ kind: 'pause', epoch: null, globalStep: null, data: {} });
    expect(store.events.list(run.id)).toEqual([e1, e2]);
    expectError(() => store.events.add({ runId: run.id, kind: 'party' as never }), 'INVALID_ARGUMENT', /party/);
    expectError(() => store.events.add({ runId: 999, kind: 'note' }), 'NOT_FOUND');
  });

  it('commits all writes of a transaction together or none', () => {
    const store = open();
    expect(() =>
      store.transaction(() => {
        const run = newRun(store, 'half');
        store.metrics.addEpoch(run.id, epoch(1));
        throw new Error('crash between writes');
      }),
    ).toThrow('crash between writes');
    expect(store.runs.list()).toEqual([]);
  });
});

describe('migration 2: owners and mid-epoch checkpoints', () => {
  it('upgrades a version-1 database with a run and a checkpoint, keeping its rows', () => {
    const dbPath = path.join(tempDir('ws-store-'), 'v1.db');
    const db = openDatabase(dbPath);
    expect(migrate(db, MIGRATIONS.slice(0, 1), dbPath)).toBe(1);
    db.prepare(
      `INSERT INTO runs (name, status, config_json, seed, target_epochs, created_at, started_at)
       VALUES ('old-run', 'running', '{"seed":3}', 3, 90, '2025-12-01T00:00:00.000Z', '2025-12-01T00:00:01.000Z')`,
    ).run();
    db.prepare(
      `INSERT INTO checkpoints (run_id, epoch, path, bytes, sha256, val_top1, is_best, created_at)
       VALUES (1, 4, '/ck/old-4.ckpt', 123, '${'e'.repeat(64)}', 31.5, 1, '2025-12-01T04:00:00.000Z')`,
    ).run();
    db.close();

    const store = open(dbPath);
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    // No owner recorded (an older build): the row reads as stored.
    expect(store.runs.get(1)).toMatchObject({ name: 'old-run', status: 'running', seed: 3, targetEpochs: 90, owner: null });
    expect(store.runs.owner(1)).toBeNull();
    expect(store.runs.config(1)).toEqual({ seed: 3 });
    expect(store.checkpoints.list(1)).toEqual([
      {
        id: 1,
        runId: 1,
        kind: 'epoch',
        epoch: 4,
        stepInEpoch: null,
        globalStep: null,
        path: '/ck/old-4.ckpt',
        bytes: 123,
        sha256: 'e'.repeat(64),
        valTop1: 31.5,
        isBest: true,
        createdAt: '2025-12-01T04:00:00.000Z',
        exists: true,
      },
    ]);
    // The old epoch checkpoint without a global step still orders before a new mid-epoch one.
    const mid = store.checkpoints.add({ ...ck(1, 5, 'mid'), kind: 'mid-epoch', stepInEpoch: 10, globalStep: 510 });
    expect(store.checkpoints.latest(1)!.id).toBe(mid.id);
    store.close();

    const raw = new Database(dbPath, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const cols = (table: string) => (raw.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
    expect(cols('checkpoints')).toEqual(expect.arrayContaining(['kind', 'step_in_epoch', 'global_step']));
    expect(cols('runs')).toEqual(expect.arrayContaining(['owner_pid', 'owner_host', 'owner_started_at', 'heartbeat_at']));
    raw.close();
  });
});

function ck(runId: number, e: number, tag = 'ep', over: Partial<CheckpointInput> = {}): CheckpointInput {
  return {
    runId,
    epoch: e,
    path: `/ck/${runId}-${tag}-${e}.ckpt`,
    bytes: 1000 + e,
    sha256: String(e).padStart(64, '0'),
    valTop1: null,
    isBest: false,
    ...over,
  };
}

describe('mid-epoch checkpoints', () => {
  it('keeps only the newest mid-epoch checkpoint of a run and returns the replaced ones', () => {
    const store = open();
    const run = newRun(store);
    const other = newRun(store, 'other');
    const e1 = store.checkpoints.add({ ...ck(run.id, 1), stepInEpoch: 100, globalStep: 100, valTop1: 20, isBest: true });
    expect(e1).toMatchObject({ kind: 'epoch', stepInEpoch: 100, globalStep: 100 });
    const om = store.checkpoints.add({ ...ck(other.id, 1, 'mid'), kind: 'mid-epoch', stepInEpoch: 5, globalStep: 5 });

    const first = store.checkpoints.addWithReplaced({ ...ck(run.id, 2, 'mid-a'), kind: 'mid-epoch', stepInEpoch: 30, globalStep: 130 });
    expect(first.checkpoint).toMatchObject({ kind: 'mid-epoch', epoch: 2, stepInEpoch: 30, globalStep: 130, exists: true, isBest: false });
    expect(first.replaced).toEqual([]);
    const second = store.checkpoints.addWithReplaced({ ...ck(run.id, 2, 'mid-b'), kind: 'mid-epoch', stepInEpoch: 60, globalStep: 160 });
    expect(second.replaced.map((c) => [c.id, c.path, c.exists])).toEqual([[first.checkpoint.id, '/ck/1-mid-a-2.ckpt', false]]);
    expect(store.checkpoints.get(first.checkpoint.id)!.exists).toBe(false);
    expect(store.checkpoints.get(e1.id)).toMatchObject({ exists: true, isBest: true }); // epoch checkpoints untouched
    expect(store.checkpoints.get(om.id)!.exists).toBe(true); // another run's mid-epoch untouched
    expect(store.checkpoints.latest(run.id)!.id).toBe(second.checkpoint.id);

    // The same file rewritten in place: the old row is superseded, but its path is the new file's.
    const third = store.checkpoints.addWithReplaced({ ...ck(run.id, 2, 'mid-b'), kind: 'mid-epoch', stepInEpoch: 90, globalStep: 190 });
    expect(third.replaced).toEqual([]);
    expect(store.checkpoints.get(second.checkpoint.id)!.exists).toBe(false);
    expect(store.checkpoints.latest(run.id)!.id).toBe(third.checkpoint.id);

    // An epoch checkpoint replaces nothing (the caller decides what rotation removes).
    const e2 = store.checkpoints.addWithReplaced({ ...ck(run.id, 2), stepInEpoch: 100, globalStep: 200 });
    expect(e2.replaced).toEqual([]);
    expect(store.checkpoints.get(third.checkpoint.id)!.exists).toBe(true);
    expect(store.checkpoints.latest(run.id)!.id).toBe(e2.checkpoint.id);

    expectError(() => store.checkpoints.add({ ...ck(run.id, 3, 'm'), kind: 'mid-epoch' }), 'INVALID_ARGUMENT', /stepInEpoch/);
    expectError(() => store.checkpoints.add({ ...ck(run.id, 3, 'm'), kind: 'mid-epoch', stepInEpoch: 1, isBest: true }), 'INVALID_ARGUMENT', /best/);
    expectError(() => store.checkpoints.add({ ...ck(run.id, 3, 'm'), kind: 'half' as never }), 'INVALID_ARGUMENT', /half/);
    expectError(() => store.checkpoints.add({ ...ck(run.id, 3, 'm'), globalStep: 1.5 }), 'INVALID_ARGUMENT', /globalStep/);
    expect(store.checkpoints.list(run.id)).toHaveLength(5); // the refused ones left no row
  });

  it('returns the latest checkpoint of either kind and lists them in training order', () => {
    const store = open();
    const run = newRun(store);
    // Without global steps (older rows): by epoch, a mid-epoch one before its epoch's end checkpoint.
    const e1 = store.checkpoints.add(ck(run.id, 1));
    const m2 = store.checkpoints.add({ ...ck(run.id, 2, 'mid'), kind: 'mid-epoch', stepInEpoch: 40 });
    expect(store.checkpoints.latest(run.id)!.id).toBe(m2.id);
    const e2 = store.checkpoints.add(ck(run.id, 2));
    expect(store.checkpoints.latest(run.id)!.id).toBe(e2.id);
    // With global steps: by global step.
    const m3 = store.checkpoints.add({ ...ck(run.id, 3, 'mid'), kind: 'mid-epoch', stepInEpoch: 10, globalStep: 210 });
    expect(store.checkpoints.latest(run.id)!.id).toBe(m3.id);
    expect(store.checkpoints.get(m2.id)!.exists).toBe(false);
    const e3 = store.checkpoints.add({ ...ck(run.id, 3), stepInEpoch: 100, globalStep: 300 });
    const m4 = store.checkpoints.add({ ...ck(run.id, 4, 'mid'), kind: 'mid-epoch', stepInEpoch: 50, globalStep: 350 });
    expect(store.checkpoints.latest(run.id)!.id).toBe(m4.id);
    expect(store.checkpoints.list(run.id).map((c) => c.id)).toEqual([e1.id, m2.id, e2.id, m3.id, e3.id, m4.id]);
    store.checkpoints.markRemoved(m4.path);
    expect(store.checkpoints.latest(run.id)!.id).toBe(e3.id);
  });
});

describe('pinned checkpoints', () => {
  it('lists the child runs that still start from a checkpoint and pins their paths', () => {
    const store = open();
    const root = newRun(store, 'root');
    const c1 = store.checkpoints.add(ck(root.id, 1));
    const c2 = store.checkpoints.add(ck(root.id, 2));
    const c3 = store.checkpoints.add(ck(root.id, 3));
    expect(store.checkpoints.dependents(c1.id)).toEqual([]);
    expect(store.checkpoints.pinnedPaths(root.id)).toEqual([]);

    const queued = newRun(store, 'queued-child', { parentRunId: root.id, parentCheckpointId: c1.id, forkEpoch: 1 });
    const paused = store.runs.setStatus(newRun(store, 'paused-child', { parentRunId: root.id, parentCheckpointId: c1.id, forkEpoch: 1 }).id, 'paused');
    store.runs.setStatus(newRun(store, 'done-child', { parentRunId: root.id, parentCheckpointId: c2.id, forkEpoch: 2 }).id, 'completed');
    const running = newRun(store, 'running-child', { parentRunId: root.id, parentCheckpointId: c3.id, forkEpoch: 3 });
    store.runs.setStatus(running.id, 'running');
    store.runs.claim(running.id, { pid: process.pid, host: os.hostname(), startedAt: '2026-01-01T00:00:00.000Z' });

    expect(store.checkpoints.dependents(c1.id).map((r) => [r.id, r.name, r.status])).toEqual([
      [queued.id, 'queued-child', 'queued'],
      [paused.id, 'paused-child', 'paused'],
    ]);
    expect(store.checkpoints.dependents(c2.id)).toEqual([]); // a completed child needs nothing
    expect(store.checkpoints.dependents(c3.id).map((r) => r.id)).toEqual([running.id]);
    expect(store.checkpoints.dependents(999)).toEqual([]);
    expect(store.checkpoints.pinnedPaths(root.id)).toEqual([c1.path, c3.path]);
    expect(store.checkpoints.pinnedPaths(queued.id)).toEqual([]);

    // A child whose owner is gone reads as interrupted: no longer a dependent.
    store.runs.release(running.id, process.pid);
    store.runs.claim(running.id, { pid: deadPid(), host: os.hostname(), startedAt: '2026-01-01T00:00:00.000Z' });
    expect(store.checkpoints.dependents(c3.id)).toEqual([]);
    expect(store.checkpoints.pinnedPaths(root.id)).toEqual([c1.path]);
    store.runs.setStatus(queued.id, 'stopped');
    store.runs.setStatus(paused.id, 'failed');
    expect(store.checkpoints.pinnedPaths(root.id)).toEqual([]);
  });

  it('does not replace a mid-epoch checkpoint that a queued child run starts from', () => {
    const store = open();
    const root = newRun(store, 'root');
    const m1 = store.checkpoints.add({ ...ck(root.id, 1, 'mid-a'), kind: 'mid-epoch', stepInEpoch: 10, globalStep: 10 });
    const child = newRun(store, 'child', { parentRunId: root.id, parentCheckpointId: m1.id, forkEpoch: 0 });
    const m2 = store.checkpoints.addWithReplaced({ ...ck(root.id, 1, 'mid-b'), kind: 'mid-epoch', stepInEpoch: 20, globalStep: 20 });
    expect(m2.replaced).toEqual([]);
    expect(store.checkpoints.get(m1.id)!.exists).toBe(true);
    expect(store.checkpoints.pinnedPaths(root.id)).toEqual([m1.path]);
    // Once the child is done with it, the next mid-epoch checkpoint replaces both older ones.
    store.runs.setStatus(child.id, 'completed');
    const m3 = store.checkpoints.addWithReplaced({ ...ck(root.id, 1, 'mid-c'), kind: 'mid-epoch', stepInEpoch: 30, globalStep: 30 });
    expect(m3.replaced.map((c) => c.id)).toEqual([m1.id, m2.checkpoint.id]);
  });
});

/** the pid of a process that has exited (reaped), so nothing answers to it */
function deadPid(): number {
  const r = spawnSync('true');
  expect(r.status).toBe(0);
  expect(r.pid).toBeGreaterThan(0);
  return r.pid!;
}

describe('run owners', () => {
  const host = os.hostname();
  const started = '2026-01-01T00:00:00.000Z';

  it('claims, heartbeats and releases a run; a final status clears the owner', () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const store = open(undefined, () => new Date(t));
    const run = newRun(store);
    expect(run.owner).toBeNull();
    t += 1000;
    const claimed = store.runs.claim(run.id, { pid: process.pid, host, startedAt: started });
    const owner = { pid: process.pid, host, startedAt: started, heartbeatAt: '2026-01-01T00:00:01.000Z' };
    expect(claimed.owner).toEqual(owner);
    expect(store.runs.owner(run.id)).toEqual(owner);
    expect(store.runs.setStatus(run.id, 'running')).toMatchObject({ status: 'running', owner });

    t += 5000;
    expect(store.runs.heartbeat(run.id, process.pid + 1)).toBe(false); // not the owner
    expect(store.runs.owner(run.id)!.heartbeatAt).toBe('2026-01-01T00:00:01.000Z');
    expect(store.runs.heartbeat(run.id, process.pid)).toBe(true);
    expect(store.runs.get(run.id)!.owner!.heartbeatAt).toBe('2026-01-01T00:00:06.000Z');

    // One owner per run: another live process cannot take it; the owner itself may claim again.
    const rival = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      expectError(
        () => store.runs.claim(run.id, { pid: rival.pid!, host, startedAt: started }),
        'INVALID_STATE',
        new RegExp(`owned by process ${process.pid}`),
      );
      expectError(() => store.runs.claim(run.id, { pid: process.pid, host: 'elsewhere', startedAt: started }), 'INVALID_STATE');
    } finally {
      rival.kill('SIGKILL');
    }
    expect(store.runs.claim(run.id, { pid: process.pid, host, startedAt: started }).owner!.pid).toBe(process.pid);

    expect(store.runs.release(run.id, process.pid + 1)).toBe(false);
    expect(store.runs.owner(run.id)).not.toBeNull();
    expect(store.runs.release(run.id, process.pid)).toBe(true);
    expect(store.runs.owner(run.id)).toBeNull();
    expect(store.runs.get(run.id)).toMatchObject({ status: 'running', owner: null }); // no owner: reads as stored
    expect(store.runs.heartbeat(run.id, process.pid)).toBe(false);

    store.runs.claim(run.id, { pid: process.pid, host, startedAt: started });
    expect(store.runs.setStatus(run.id, 'completed').owner).toBeNull();
    expect(store.runs.owner(run.id)).toBeNull();

    // A dead owner does not block a new claim.
    const other = newRun(store, 'other');
    store.runs.claim(other.id, { pid: deadPid(), host, startedAt: started });
    expect(store.runs.claim(other.id, { pid: process.pid, host, startedAt: started }).owner!.pid).toBe(process.pid);

    expectError(() => store.runs.claim(999, { pid: process.pid, host, startedAt: started }), 'NOT_FOUND');
    expectError(() => store.runs.claim(run.id, { pid: 1.5, host, startedAt: started }), 'INVALID_ARGUMENT', /pid/);
    expectError(() => store.runs.claim(run.id, { pid: process.pid, host: '', startedAt: started }), 'INVALID_ARGUMENT', /host/);
    expectError(() => store.runs.owner(999), 'NOT_FOUND');
  });

  it('reads a run whose owner process is dead as interrupted, without writing it', () => {
    let t = Date.parse('2026-01-02T00:00:00Z');
    const dbPath = path.join(tempDir('ws-store-'), 'ws.db');
    const store = open(dbPath, () => new Date((t += 1000)));
    const root = newRun(store, 'root');
    const dead = deadPid();
    const run = newRun(store, 'orphan', { parentRunId: root.id });
    store.runs.setStatus(run.id, 'running');
    store.runs.claim(run.id, { pid: dead, host, startedAt: started });
    const heartbeatAt = store.runs.owner(run.id)!.heartbeatAt;

    const read = store.runs.get(run.id)!;
    expect(read).toMatchObject({ status: 'interrupted', owner: null, endedAt: heartbeatAt });
    expect(store.runs.list().find((r) => r.id === run.id)!.status).toBe('interrupted');
    expect(store.runs.lineage(run.id).map((r) => r.status)).toEqual(['queued', 'interrupted']);
    expect(store.runs.children(root.id).map((r) => r.status)).toEqual(['interrupted']);
    expect(store.runs.resolve('orphan').status).toBe('interrupted');
    expect(store.runs.getByName('orphan')!.status).toBe('interrupted');
    expect(store.runs.owner(run.id)).toMatchObject({ pid: dead, host }); // the stored owner, for diagnostics

    const paused = newRun(store, 'paused');
    store.runs.setStatus(paused.id, 'paused');
    store.runs.claim(paused.id, { pid: dead, host, startedAt: started });
    expect(store.runs.get(paused.id)!.status).toBe('interrupted');
    const queuedOwned = newRun(store, 'queued-owned');
    store.runs.claim(queuedOwned.id, { pid: dead, host, startedAt: started });
    expect(store.runs.get(queuedOwned.id)!.status).toBe('interrupted');
    const done = store.runs.setStatus(newRun(store, 'done').id, 'stopped');
    expect(store.runs.get(done.id)!.status).toBe('stopped');

    // The same rows with the live current process as owner read as stored.
    const live = newRun(store, 'live');
    store.runs.setStatus(live.id, 'running');
    store.runs.claim(live.id, { pid: process.pid, host, startedAt: started });
    expect(store.runs.get(live.id)).toMatchObject({ status: 'running', endedAt: null, owner: { pid: process.pid, host } });

    store.close();
    const raw = new Database(dbPath, { readonly: true });
    expect(raw.prepare('SELECT id, status, owner_pid FROM runs WHERE id IN (?, ?, ?) ORDER BY id').all(run.id, paused.id, queuedOwned.id)).toEqual([
      { id: run.id, status: 'running', owner_pid: dead },
      { id: paused.id, status: 'paused', owner_pid: dead },
      { id: queuedOwned.id, status: 'queued', owner_pid: dead },
    ]);
    raw.close();

    // A derived interrupted run may be deleted (nothing trains it any more); a live one may not.
    const again = open(dbPath);
    expect(again.runs.delete(run.id).runIds).toEqual([run.id]);
    expectError(() => again.runs.delete(live.id), 'INVALID_STATE', /running/);
  });

  it('clears a dead owner when the status is set again, so a resumed run reads as what it is', () => {
    const store = open();
    const run = newRun(store);
    store.runs.setStatus(run.id, 'running');
    store.runs.claim(run.id, { pid: deadPid(), host, startedAt: started });
    expect(store.runs.get(run.id)!.status).toBe('interrupted');
    expect(store.runs.setStatus(run.id, 'queued')).toMatchObject({ status: 'queued', owner: null });
    expect(store.runs.owner(run.id)).toBeNull();
  });

  it('judges an owner on another host by its heartbeat (10 minutes)', () => {
    let t = Date.parse('2026-01-03T00:00:00Z');
    const store = open(undefined, () => new Date(t));
    const run = newRun(store);
    store.runs.setStatus(run.id, 'running');
    store.runs.claim(run.id, { pid: 4242, host: 'gpu-box-elsewhere', startedAt: started });
    t += 9 * 60_000;
    expect(store.runs.get(run.id)).toMatchObject({ status: 'running', owner: { pid: 4242, host: 'gpu-box-elsewhere' } });
    t += 2 * 60_000;
    expect(store.runs.get(run.id)).toMatchObject({ status: 'interrupted', owner: null, endedAt: '2026-01-03T00:00:00.000Z' });
    expect(store.runs.heartbeat(run.id, 4242)).toBe(true); // it was only slow
    expect(store.runs.get(run.id)).toMatchObject({ status: 'running', owner: { heartbeatAt: '2026-01-03T00:11:00.000Z' } });
    t += 10 * 60_000 + 1;
    expect(store.runs.markInterrupted().map((r) => [r.id, r.status])).toEqual([[run.id, 'interrupted']]);
  });

  it('uses the injected liveness check', () => {
    const seen: unknown[] = [];
    const store = open(undefined, () => new Date('2026-01-04T00:00:00Z'), {
      ownerAlive: (owner, nowIso) => {
        seen.push([owner.pid, owner.host, nowIso]);
        return owner.pid === 1;
      },
    });
    const a = store.runs.setStatus(newRun(store, 'a').id, 'running');
    const b = store.runs.setStatus(newRun(store, 'b').id, 'running');
    store.runs.claim(a.id, { pid: 1, host: 'h', startedAt: started });
    store.runs.claim(b.id, { pid: 2, host: 'h', startedAt: started });
    expect(store.runs.list().map((r) => r.status)).toEqual(['running', 'interrupted']);
    expect(seen).toContainEqual([2, 'h', '2026-01-04T00:00:00.000Z']);
  });

  it('markInterrupted leaves runs with a live owner alone and interrupts dead-owned and ownerless ones', () => {
    const store = open();
    const live = store.runs.setStatus(newRun(store, 'live').id, 'running');
    store.runs.claim(live.id, { pid: process.pid, host, startedAt: started });
    const livePaused = store.runs.setStatus(newRun(store, 'live-paused').id, 'paused');
    store.runs.claim(livePaused.id, { pid: process.pid, host, startedAt: started });
    const liveQueued = newRun(store, 'live-queued');
    store.runs.claim(liveQueued.id, { pid: process.pid, host, startedAt: started });
    const dead = store.runs.setStatus(newRun(store, 'dead').id, 'running');
    store.runs.claim(dead.id, { pid: deadPid(), host, startedAt: started });
    const deadQueued = newRun(store, 'dead-queued');
    store.runs.claim(deadQueued.id, { pid: deadPid(), host, startedAt: started });
    const ownerless = store.runs.setStatus(newRun(store, 'old-build').id, 'paused');
    const queued = newRun(store, 'queued');

    const marked = store.runs.markInterrupted();
    expect(marked.map((r) => [r.name, r.status, r.owner])).toEqual([
      ['dead', 'interrupted', null],
      ['dead-queued', 'interrupted', null],
      ['old-build', 'interrupted', null],
    ]);
    expect(marked.every((r) => r.endedAt !== null)).toBe(true);
    expect(store.runs.owner(dead.id)).toBeNull(); // written: the owner is cleared
    expect(store.runs.get(live.id)).toMatchObject({ status: 'running', owner: { pid: process.pid } });
    expect(store.runs.get(livePaused.id)!.status).toBe('paused');
    expect(store.runs.get(liveQueued.id)!.status).toBe('queued');
    expect(store.runs.get(queued.id)!.status).toBe('queued');
    expect(store.runs.get(ownerless.id)!.status).toBe('interrupted');
    expect(store.runs.markInterrupted()).toEqual([]);
  });
});

describe('crash safety', () => {
  it('keeps epoch rows committed before the process is SIGKILLed; the open transaction is rolled back', async () => {
    const dir = tempDir('ws-store-kill-');
    const dbPath = path.join(dir, 'ws.db');
    // A real child process using the store code (bundled like the app's own entries).
    const childJs = path.join(dir, 'child.cjs');
    await build({
      stdin: {
        contents: `
          import fs from 'node:fs';
          import { openStore } from './src-main/store/index';
          const store = openStore(process.argv[2]);
          const run = store.runs.create({ name: 'doomed', config: {}, seed: 1, targetEpochs: 10 });
          store.runs.setStatus(run.id, 'running');
          const m = (epoch) => ({ epoch, trainLoss: 2, trainTop1: 50 + epoch, trainTop5: 80, valLoss: 1.5, valTop1: 55 + epoch, valTop5: 82, lr: 0.1, momentum: 0.9, imagesPerSec: 400, epochSeconds: 3300, skippedFiles: 0, imageSize: 224 });
          store.metrics.addEpoch(run.id, m(1));
          store.metrics.addEpoch(run.id, m(2));
          fs.writeSync(1, 'committed\\n');
          store.transaction(() => {
            store.metrics.addEpoch(run.id, m(3));
            fs.writeSync(1, 'in-transaction\\n');
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // blocks until killed
          });
        `,
        resolveDir: ROOT,
        sourcefile: 'kill-child.ts',
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      packages: 'external',
      outfile: childJs,
      logLevel: 'warning',
    });
    const child = spawn(process.execPath, [childJs, dbPath], {
      env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('in-transaction\n')) resolve();
      });
      child.on('exit', () => reject(new Error(`child exited early: ${out} ${err}`)));
    });
    expect(out).toContain('committed\n');
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(fs.existsSync(`${dbPath}-wal`)).toBe(true); // the rows live in the WAL nobody checkpointed

    const store = open(dbPath);
    expect(store.metrics.epochs(1).map((e) => [e.epoch, e.valTop1])).toEqual([
      [1, 56],
      [2, 57],
    ]);
    expect(store.runs.get(1)).toMatchObject({ status: 'running', lastEpoch: 2 });
    expect(store.runs.markInterrupted().map((r) => [r.id, r.status])).toEqual([[1, 'interrupted']]);
  });
});
