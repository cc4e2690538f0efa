// The run store on real SQLite files: migrations and schema versions, repositories, lineage,
// foreign keys, and that a committed epoch row survives the process being killed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import type { EpochMetrics, StepSample } from '../../src-shared/metrics';
import { isWorkstationError } from '../../src-shared/errors';
import { migrate, openDatabase } from '../../src-main/store/db';
import { openStore, SCHEMA_VERSION, type Store } from '../../src-main/store/index';
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
function open(dbPath = path.join(tempDir('ws-store-'), 'ws.db'), now?: () => Date): Store {
  const s = openStore(dbPath, now ? { now } : {});
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

    const addNotes: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'run-notes',
      up: (db) => db.exec("ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT ''"),
    };
    const db2 = openDatabase(dbPath);
    expect(migrate(db2, [...MIGRATIONS, addNotes], dbPath)).toBe(MIGRATIONS.length + 1);
    expect(db2.prepare('SELECT name, notes FROM runs').all()).toEqual([{ name: 'baseline', notes: '' }]);
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
