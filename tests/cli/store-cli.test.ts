// The store commands as users run them: real processes through bin/workstation.cjs (on the bundle
// the global setup built), a real database file, the seed fixture log. Also what every command
// taking --db says when the database folder cannot be created.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, type EpochMetrics } from '../../src-shared/metrics';
import type { RunSummary } from '../../src-shared/api/schemas';
import { openStore } from '../../src-main/store/index';
import { tempDir } from '../helpers/samples';
import { tinyConfig } from '../service/tiny-config';

const FIXTURE = path.resolve(__dirname, '../fixtures/logs/seed-run.log');
const BIN = path.resolve(__dirname, '../../bin/workstation.cjs');

function workstation(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? tempDir('ws-cli-cwd-'),
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    // a command that hangs must fail the test, not the run: SIGKILL, because a process stuck in a
    // synchronous loop never handles SIGTERM
    timeout: opts.timeoutMs ?? 60_000,
    killSignal: 'SIGKILL',
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

describe('workstation import-log / runs / export-csv', () => {
  it('imports the seed log, lists the runs and exports the lineage CSV to stdout and to a file', () => {
    const dir = tempDir('ws-cli-');
    const db = path.join(dir, 'store', 'ws.db');

    const imported = workstation(['import-log', FIXTURE, '--db', db, '--json']);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    const result = JSON.parse(imported.stdout);
    expect(result.runs.map((r: { name: string; epochs: number; forkEpoch: number | null }) => [r.name, r.epochs, r.forkEpoch])).toEqual([
      ['seed-run', 22, null],
      ['seed-run-resume-e20', 12, 19],
      ['seed-run-resume-e30', 10, 29],
    ]);
    expect(result.unreadable).toEqual([{ line: 22, text: expect.stringContaining('UserWarning') }]);

    const listed = workstation(['runs', '--json', '--db', db]);
    expect(listed.code).toBe(0);
    const runs = JSON.parse(listed.stdout) as RunSummary[];
    expect(runs.map((r) => [r.id, r.status, r.lastEpoch, r.bestValTop1, r.owner])).toEqual([
      [1, 'completed', 22, 62.15, null],
      [2, 'completed', 31, 67.24, null],
      [3, 'completed', 39, 70.27, null],
    ]);
    const table = workstation(['runs', '--db', db]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^#\s+NAME\s+STATUS\s+PROGRESS\s+BEST VAL TOP-1\s+STARTED\s+FORKED FROM\s+BACKEND$/);
    // imported runs never ran here: no start time, no backend
    expect(lines[1]).toMatch(/^1\s+seed-run\s+completed\s+epoch 22\/22\s+62\.1%\s+-\s+-\s+-$/);
    expect(lines[3]).toMatch(/^3\s+seed-run-resume-e30\s+completed\s+epoch 39\/39\s+70\.3%\s+-\s+#2 at epoch 29\s+-$/);

    const csv = workstation(['export-csv', '--run', 'seed-run-resume-e30', '--lineage', '--db', db]);
    expect(csv.code).toBe(0);
    const rows = csv.stdout.split('\r\n');
    expect(rows[0]).toBe(CSV_COLUMNS.join(','));
    expect(rows).toHaveLength(1 + 39 + 1); // header, 39 epochs, empty after the last CRLF
    expect(rows[39]).toMatch(/^3,seed-run-resume-e30,39,1\.8946,74\.81,92\.01,1\.203,70\.27,89\.65,4\.54,,,/);

    const own = workstation(['export-csv', '--run', '3', '--out', 'exports/last.csv', '--db', db], { cwd: dir });
    expect(own.code).toBe(0);
    expect(own.stdout).toBe('');
    expect(own.stderr).toMatch(/wrote 10 rows to .*exports\/last\.csv/);
    const written = fs.readFileSync(path.join(dir, 'exports', 'last.csv'), 'utf8');
    expect(written.split('\r\n')).toHaveLength(12);
    expect(fs.readdirSync(path.join(dir, 'exports'))).toEqual(['last.csv']); // no temp file left behind
  });

  it('prints a readable summary and uses the data directory database by default', () => {
    const home = tempDir('ws-cli-home-');
    const imported = workstation(['import-log', FIXTURE, '--name', 'seed, "v1"', '--batch-size', '256'], { env: { WORKSTATION_HOME: home } });
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('run #1 seed, "v1": 22 epochs (1-22)');
    expect(imported.stdout).toContain('run #3 seed, "v1"-resume-e30: 10 epochs (30-39), forks run #2 at epoch 29, best val top-1 70.27');
    expect(imported.stdout).toContain('warning: line 92: epoch 23 stopped at 3704/10010 steps; not imported');
    expect(imported.stdout).toMatch(/1 unreadable line:\n {2}line 22: \/opt\/conda\/.*UserWarning/);
    expect(fs.existsSync(path.join(home, 'workstation.db'))).toBe(true);

    const csv = workstation(['export-csv', '--run', 'seed, "v1"'], { env: { WORKSTATION_HOME: home } });
    expect(csv.code).toBe(0);
    const first = csv.stdout.split('\r\n')[1];
    expect(first.startsWith('1,"seed, ""v1""",1,4.1308,')).toBe(true);
    // (then run_tags and run_notes: none here)
    expect(first.endsWith(`,${3.03 * 256},3303,,`)).toBe(true);
  });

  it('fails with one clear line for an unknown run, a missing log, a log without epochs and a newer database', () => {
    const dir = tempDir('ws-cli-');
    const db = path.join(dir, 'ws.db');
    const unknown = workstation(['export-csv', '--run', 'nope', '--db', db]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('workstation export-csv: error [NOT_FOUND]: no run with id or name "nope"\n');

    const missing = workstation(['import-log', path.join(dir, 'missing.log'), '--db', db]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/error \[NOT_FOUND\]: cannot read log file .*missing\.log: ENOENT/);

    fs.writeFileSync(path.join(dir, 'empty.log'), 'hello\n');
    const empty = workstation(['import-log', 'empty.log', '--db', db], { cwd: dir });
    expect(empty.code).toBe(1);
    expect(empty.stdout).toContain('no finished epochs found; no runs created');
    expect(empty.stdout).toContain('line 1: hello');

    const needsRun = workstation(['export-csv', '--db', db]);
    expect(needsRun.code).toBe(2);
    expect(needsRun.stderr).toContain('missing required flag --run');

    const newer = path.join(dir, 'newer.db');
    const bump = spawnSync(
      process.execPath,
      ['-e', `const D = require('better-sqlite3'); const d = new D(${JSON.stringify(newer)}); d.pragma('user_version = 999'); d.close();`],
      { cwd: path.resolve(__dirname, '../..') },
    );
    expect(bump.status).toBe(0);
    const refused = workstation(['runs', '--db', newer]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/error \[DB_VERSION\]: database .*newer\.db has schema version 999, this build understands up to \d+; upgrade the app/);
  });

  it('words a live run like the app: status with the process training it, epoch 12/39, 71.2%, start time; --json has the owner', () => {
    const dir = tempDir('ws-cli-');
    const db = path.join(dir, 'ws.db');
    const startedAt = '2024-05-01T10:04:12.000Z';
    const store = openStore(db, { now: () => new Date(startedAt) });
    try {
      const live = store.runs.create({ name: 'live-run', config: {}, seed: 1, targetEpochs: 39, backend: 'cpu' });
      store.runs.setStatus(live.id, 'running');
      // this test process is the owner: alive on this host while the CLI looks
      store.runs.claim(live.id, { pid: process.pid, host: os.hostname(), startedAt });
      for (let epoch = 1; epoch <= 12; epoch++) store.metrics.addEpoch(live.id, epochRow(epoch, epoch === 9 ? 71.23 : 50 + epoch));
      store.runs.create({ name: 'its-fork', config: {}, seed: 1, targetEpochs: 50, parentRunId: live.id, forkEpoch: 12 });
    } finally {
      store.close();
    }
    const env = { TZ: 'UTC' }; // start times print in local time
    const table = workstation(['runs', '--db', db], { env });
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[1]).toMatch(new RegExp(`^1\\s+live-run\\s+running \\(pid ${process.pid}\\)\\s+epoch 12/39\\s+71\\.2%\\s+2024-05-01 10:04\\s+-\\s+cpu$`));
    // a queued fork has not started; it counts from the epoch it forks at
    expect(lines[2]).toMatch(/^2\s+its-fork\s+queued\s+epoch 12\/50\s+-\s+-\s+#1 at epoch 12\s+-$/);

    const json = workstation(['runs', '--json', '--db', db], { env });
    expect(json.code).toBe(0);
    const runs = JSON.parse(json.stdout) as RunSummary[];
    expect(runs[0]).toMatchObject({ status: 'running', lastEpoch: 12, targetEpochs: 39, bestValTop1: 71.23, startedAt });
    expect(runs[0].owner).toEqual({ pid: process.pid, host: os.hostname(), startedAt, heartbeatAt: startedAt });
    expect(runs[1]).toMatchObject({ status: 'queued', lastEpoch: null, owner: null });
  });

  it('every command taking --db says in one line that a database folder under a regular file cannot be created (exit 2)', () => {
    const dir = tempDir('ws-cli-');
    const file = path.join(dir, 'some-file');
    fs.writeFileSync(file, 'not a folder');
    fs.writeFileSync(path.join(dir, 'tiny.json'), JSON.stringify(tinyConfig({ epochs: 1 })));
    const db = path.join(file, 'x.db');
    const commands = [['runs'], ['export-csv', '--run', '1'], ['import-log', FIXTURE], ['train', '--config', 'tiny.json'], ['resume', '--run', '1'], ['serve']];
    for (const args of commands) {
      const r = workstation([...args, '--db', db], { cwd: dir, env: { WORKSTATION_HOME: path.join(dir, 'home') } });
      expect(r.stderr, args[0]).toBe(
        `workstation ${args[0]}: error [INVALID_ARGUMENT]: cannot create the database folder ${file}: ${file} is a file, not a folder\n`,
      );
      expect(r.code, args[0]).toBe(2);
      expect(r.stdout, args[0]).toBe('');
    }
    // deeper below the file: the folder named is the database's, the reason names the file
    const deep = workstation(['runs', '--db', path.join(file, 'a', 'b', 'x.db')]);
    expect(deep.code).toBe(2);
    expect(deep.stderr).toBe(
      `workstation runs: error [INVALID_ARGUMENT]: cannot create the database folder ${path.join(file, 'a', 'b')}: ${file} is a file, not a folder\n`,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('not a folder');
    // a missing folder chain under a real folder is still created
    const fresh = workstation(['runs', '--db', path.join(dir, 'new', 'deep', 'x.db')]);
    expect(fresh.code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'new', 'deep', 'x.db'))).toBe(true);
  });

  // Node's recursive mkdir spins forever under /proc (mkdir there answers ENOENT): the process must
  // refuse at once. Bounded by the helper's timeout with SIGKILL, since the spin ignores SIGTERM.
  // (Linux, where the app trains; /proc is the pseudo file system this guards against.)
  it('refuses a database folder or data directory under /proc promptly (exit 2), for every command taking --db / --data-dir', () => {
    const dir = tempDir('ws-cli-');
    fs.writeFileSync(path.join(dir, 'tiny.json'), JSON.stringify(tinyConfig({ epochs: 1 })));
    for (const args of [['runs'], ['export-csv', '--run', '1'], ['train', '--config', 'tiny.json'], ['serve']]) {
      const r = workstation([...args, '--db', '/proc/nope/x.db'], { cwd: dir, env: { WORKSTATION_HOME: path.join(dir, 'home') }, timeoutMs: 20_000 });
      expect(r.signal, `${args[0]} was killed after ${r.ms} ms`).toBeNull();
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr, args[0]).toBe(
        `workstation ${args[0]}: error [INVALID_ARGUMENT]: cannot create the database folder /proc/nope: /proc is on the proc pseudo file system, where folders cannot be created\n`,
      );
    }
    for (const args of [['train', '--config', 'tiny.json'], ['serve'], ['resume', '--run', '1']]) {
      const r = workstation([...args, '--db', path.join(dir, 'ok.db'), '--data-dir', '/proc/nope/data'], { cwd: dir, timeoutMs: 20_000 });
      expect(r.signal, `${args[0]} was killed after ${r.ms} ms`).toBeNull();
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr, args[0]).toContain('cannot create the data directory /proc/nope/data: /proc is on the proc pseudo file system');
    }
    expect(fs.existsSync('/proc/nope')).toBe(false);
  });
});

function epochRow(epoch: number, valTop1: number): EpochMetrics {
  return {
    epoch,
    trainLoss: 2,
    trainTop1: 40,
    trainTop5: 70,
    valLoss: 2.1,
    valTop1,
    valTop5: 90,
    lr: 0.01,
    momentum: 0.9,
    imagesPerSec: 100,
    epochSeconds: 10,
    skippedFiles: 0,
    imageSize: 32,
  };
}
