// `workstation runs --tag/--untag/--note/--filter-tag` and `workstation lr-find --json` as users
// run them: real processes through bin/workstation.cjs, a real database file, the demo dataset.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LrFindResult, RunSummary } from '../../src-shared/api/schemas';
import { CSV_COLUMNS, type EpochMetrics } from '../../src-shared/metrics';
import { openStore } from '../../src-main/store/index';
import { parseCsv } from '../e2e/helpers';
import { tempDir } from '../helpers/samples';
import { tinyConfig } from '../service/tiny-config';

const BIN = path.resolve(__dirname, '../../bin/workstation.cjs');

function workstation(args: string[], opts: { timeoutMs?: number } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: tempDir('ws-cli-cwd-'),
    env: { ...process.env, WORKSTATION_HOME: tempDir('ws-cli-home-') },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
    killSignal: 'SIGKILL',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function epoch(n: number, valTop1: number): EpochMetrics {
  return {
    epoch: n,
    trainLoss: 2,
    trainTop1: 20,
    trainTop5: 50,
    valLoss: 2.1,
    valTop1,
    valTop5: 55,
    lr: 0.1,
    momentum: 0.9,
    imagesPerSec: 100,
    epochSeconds: 60,
    skippedFiles: 0,
    imageSize: 224,
  };
}

describe('workstation runs --tag / --untag / --note / --filter-tag', () => {
  it('labels a run, lists it with its tags and notes (JSON and CSV), filters by tag, and refuses bad input naming the flag', () => {
    const db = path.join(tempDir('ws-cli-labels-'), 'ws.db');
    const store = openStore(db);
    const a = store.runs.create({ name: 'baseline', config: { name: 'baseline' }, seed: 1, targetEpochs: 2, status: 'completed' });
    store.runs.create({ name: 'other', config: { name: 'other' }, seed: 2, targetEpochs: 2, status: 'completed' });
    store.metrics.addEpoch(a.id, epoch(1, 30));
    store.close();

    const note = 'lr 0.1, "warm" start\nsecond line';
    const labelled = workstation(['runs', '--run', 'baseline', '--tag', 'sweep-lr', '--tag', 'Baseline', '--note', note, '--json', '--db', db]);
    expect(labelled.stderr).toBe('');
    expect(labelled.code).toBe(0);
    const one = JSON.parse(labelled.stdout) as RunSummary[];
    expect(one).toHaveLength(1);
    expect(one[0]).toMatchObject({ id: a.id, name: 'baseline', tags: ['Baseline', 'sweep-lr'], notes: note });
    workstation(['runs', '--run', '2', '--tag', 'sweep-lr', '--db', db]);

    const removed = JSON.parse(workstation(['runs', '--run', String(a.id), '--untag', 'sweep-lr', '--json', '--db', db]).stdout) as RunSummary[];
    expect(removed[0].tags).toEqual(['Baseline']);
    // every run, with notes and tags, in `runs --json`
    const all = JSON.parse(workstation(['runs', '--json', '--db', db]).stdout) as RunSummary[];
    expect(all.map((r) => [r.name, r.tags, r.notes])).toEqual([
      ['baseline', ['Baseline'], note],
      ['other', ['sweep-lr'], ''],
    ]);
    const filtered = JSON.parse(workstation(['runs', '--filter-tag', 'sweep-lr', '--json', '--db', db]).stdout) as RunSummary[];
    expect(filtered.map((r) => r.name)).toEqual(['other']);
    expect(JSON.parse(workstation(['runs', '--filter-tag', 'sweep-lr', '--filter-tag', 'Baseline', '--json', '--db', db]).stdout)).toEqual([]);

    // the CSV export carries them in its last two columns
    const csv = parseCsv(workstation(['export-csv', '--run', 'baseline', '--db', db]).stdout);
    expect(csv[0].slice(-2)).toEqual(['run_tags', 'run_notes']);
    expect(csv[1][CSV_COLUMNS.indexOf('run_tags')]).toBe('Baseline');
    expect(csv[1][CSV_COLUMNS.indexOf('run_notes')]).toBe(note);

    const noRun = workstation(['runs', '--tag', 'x', '--db', db]);
    expect(noRun.code).toBe(2);
    expect(noRun.stderr).toMatch(/--tag needs --run <id\|name>/);
    const bad = workstation(['runs', '--run', 'baseline', '--tag', 'a,b', '--db', db]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--tag: tags\.0: "a,b": a tag must not contain commas/);
    const unknown = workstation(['runs', '--run', 'nope', '--note', 'x', '--db', db]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/NOT_FOUND.*"nope"/);
    // a refused call changed nothing
    expect((JSON.parse(workstation(['runs', '--json', '--db', db]).stdout) as RunSummary[])[0].tags).toEqual(['Baseline']);
  });
});

describe('workstation lr-find', () => {
  it('--json: one entry per step of a geometric lr ramp, a suggestion, and no run, database or checkpoint anywhere', () => {
    const dataDir = tempDir('ws-cli-lrfind-');
    const cfgFile = path.join(tempDir('ws-cli-lrcfg-'), 'tiny.json');
    fs.writeFileSync(cfgFile, JSON.stringify(tinyConfig({ name: 'lr-find', steps: 4 })));
    const r = workstation(['lr-find', '--config', cfgFile, '--steps', '12', '--min-lr', '1e-5', '--max-lr', '1', '--data-dir', dataDir, '--json'], {
      timeoutMs: 170_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as LrFindResult;
    expect(Object.keys(out).sort()).toEqual(['backend', 'loss', 'lr', 'smoothedLoss', 'steps', 'stopReason', 'suggestedLr']);
    expect(out.backend).toBe('cpu');
    const n = out.lr.length;
    expect(out.steps).toBe(n);
    expect(out.loss).toHaveLength(n);
    expect(out.smoothedLoss).toHaveLength(n);
    if (out.stopReason === 'completed') expect(n).toBe(12);
    else expect(out.stopReason).toBe('diverged');
    expect(out.lr[0]).toBeCloseTo(1e-5, 15);
    for (let i = 1; i < n; i++) expect(out.lr[i] / out.lr[i - 1]).toBeCloseTo(10 ** (5 / 11), 9);
    expect(out.loss.slice(0, -1).every((l) => typeof l === 'number' && l > 0)).toBe(true);
    expect(out.suggestedLr === null || out.lr.includes(out.suggestedLr)).toBe(true);
    expect(r.stderr).toMatch(/step 12\/12|step \d+\/12/);
    // it trained on the demo dataset in the data dir, and left no run behind
    expect(fs.existsSync(path.join(dataDir, 'demo-dataset'))).toBe(true);
    expect(fs.existsSync(path.join(dataDir, 'workstation.db'))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'runs'))).toBe(false);
  });

  it('refuses a bad range naming the flag', () => {
    const cfgFile = path.join(tempDir('ws-cli-lrcfg-'), 'tiny.json');
    fs.writeFileSync(cfgFile, JSON.stringify(tinyConfig()));
    const r = workstation(['lr-find', '--config', cfgFile, '--min-lr', '1', '--max-lr', '0.1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--max-lr \(0\.1\) must be greater than --min-lr \(1\)/);
  });
});
