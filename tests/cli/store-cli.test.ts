// The store commands as users run them: real processes on the CLI bundle (built by the global
// setup), a real database file, the seed fixture log.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../src-shared/metrics';
import type { RunSummary } from '../../src-shared/api/schemas';
import { nodeBundlePath } from '../../src-main/common/paths';
import { tempDir } from '../helpers/samples';

const FIXTURE = path.resolve(__dirname, '../fixtures/logs/seed-run.log');
const CLI = nodeBundlePath('cli');

function workstation(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const code = `require(${JSON.stringify(CLI)}).main(process.argv.slice(1)).then((c) => { process.exitCode = c; })`;
  const r = spawnSync(process.execPath, ['-e', code, ...args], {
    cwd: opts.cwd ?? tempDir('ws-cli-cwd-'),
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
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
    expect(runs.map((r) => [r.id, r.status, r.lastEpoch, r.bestValTop1 !== null])).toEqual([
      [1, 'completed', 22, true],
      [2, 'completed', 31, true],
      [3, 'completed', 39, true],
    ]);
    const table = workstation(['runs', '--db', db]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATUS\s+PARENT\s+EPOCHS\s+BEST VAL TOP-1/);
    expect(lines[3]).toMatch(/^3\s+seed-run-resume-e30\s+completed\s+#2@29\s+39\/39\s+70\.27/);

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
    expect(first.endsWith(`,${3.03 * 256},3303`)).toBe(true);
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
});
