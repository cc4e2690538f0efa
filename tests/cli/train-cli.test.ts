// `workstation train` end to end (real process, real store, real tfjs CPU on the demo dataset):
// 2 epochs straight vs 1 epoch then `--resume <checkpoint> --epochs 2` give the same weights
// (bit-exact resume through the CLI and the store); the resumed run is a child run in the store;
// invalid config fields are rejected before training, naming the field and the file; with
// --json stdout is exactly one JSON document.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src-main/store/index';
import { tempDir } from '../helpers/samples';
import { tinyConfig } from '../service/tiny-config';

const ROOT = path.resolve(__dirname, '../..');
let dir: string;
let configFile: string;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin/workstation.cjs'), ...args], {
      cwd: dir,
      env: { ...process.env, WORKSTATION_HOME: path.join(dir, 'home') },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface TrainJson {
  runId: number;
  status: string;
  parentRunId: number | null;
  epochs: { epoch: number; trainLoss: number }[];
  lastCheckpoint: string;
  weightsSha256: string;
  backend: string;
}

function parseOne(stdout: string): TrainJson {
  // exactly one JSON document: JSON.parse of the whole stdout must succeed
  return JSON.parse(stdout) as TrainJson;
}

const common = () => ['--db', path.join(dir, 'cli.db'), '--data-dir', path.join(dir, 'data'), '--json'];

beforeAll(() => {
  dir = tempDir('train-cli-');
  fs.mkdirSync(path.join(dir, 'configs'));
  configFile = path.join(dir, 'configs', 'tiny.json');
  fs.writeFileSync(configFile, JSON.stringify(tinyConfig({ name: 'cli-tiny', epochs: 2, steps: 3 }), null, 2));
});

describe('workstation train', () => {
  it('2 epochs straight and 1 epoch + --resume --epochs 2 give identical weights; the resume is a child run', async () => {
    const straight = await cli(['train', '--config', 'configs/tiny.json', '--out', 'ck-straight', ...common()]);
    expect(straight.code, straight.stderr).toBe(0);
    const a = parseOne(straight.stdout);
    expect(a.status).toBe('completed');
    expect(a.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(a.backend).toBe('cpu');
    expect(a.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(path.dirname(a.lastCheckpoint)).toBe(path.join(dir, 'ck-straight'));
    expect(straight.stderr).toMatch(/epoch 1\/2 train step 1\/3/); // progress on stderr

    const one = await cli(['train', '--config', configFile, '--epochs', '1', '--out', 'ck-one', '--name', 'first-half', ...common()]);
    expect(one.code, one.stderr).toBe(0);
    const b = parseOne(one.stdout);
    expect(b.epochs.map((e) => e.epoch)).toEqual([1]);
    expect(b.epochs[0].trainLoss).toBe(a.epochs[0].trainLoss);

    const resumed = await cli([
      'train',
      '--config',
      configFile,
      '--resume',
      b.lastCheckpoint,
      '--epochs',
      '2',
      '--out',
      'ck-resumed',
      '--name',
      'second-half',
      ...common(),
    ]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const c = parseOne(resumed.stdout);
    expect(c.epochs.map((e) => e.epoch)).toEqual([2]);
    expect(c.weightsSha256).toBe(a.weightsSha256);
    expect(c.epochs[0].trainLoss).toBe(a.epochs[1].trainLoss);
    expect(c.parentRunId).toBe(b.runId);

    // CLI runs are in the store the app reads, with their lineage.
    const store = openStore(path.join(dir, 'cli.db'));
    try {
      const runs = store.runs.list();
      expect(runs.map((r) => [r.name, r.status, r.lastEpoch])).toEqual([
        ['cli-tiny', 'completed', 2],
        ['first-half', 'completed', 1],
        ['second-half', 'completed', 2],
      ]);
      expect(runs[2]).toMatchObject({ parentRunId: b.runId, forkEpoch: 1 });
      expect(store.checkpoints.list(a.runId).map((cp) => cp.epoch)).toEqual([1, 2]);
    } finally {
      store.close();
    }
  });

  it('Ctrl-C inside an epoch writes a mid-epoch checkpoint (exit 130, status stopped); `workstation resume --run <name>` continues at the next step and ends on the uninterrupted weights', async () => {
    const cfg = path.join(dir, 'configs', 'three.json');
    fs.writeFileSync(cfg, JSON.stringify(tinyConfig({ name: 'to-resume', epochs: 3, steps: 3 })));
    const p = spawn(process.execPath, [path.join(ROOT, 'bin/workstation.cjs'), 'train', '--config', cfg, ...common()], { cwd: dir });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/epoch 2\/3 train step 1\/3/.test(stderr) && !p.killed) p.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => p.on('close', (c) => resolve(c)));
    expect(code, stderr).toBe(130);
    const stopped = parseOne(stdout);
    expect(stopped.status).toBe('stopped');
    expect(stderr).toContain(`workstation resume --run ${stopped.runId}`);
    let newest: string;
    const store0 = openStore(path.join(dir, 'cli.db'));
    try {
      newest = store0.checkpoints.latest(stopped.runId)!.path;
    } finally {
      store0.close();
    }
    const inspected = await cli(['checkpoint', 'inspect', newest, '--json']);
    expect(inspected.code, inspected.stderr).toBe(0);
    const info = JSON.parse(inspected.stdout) as { kind: string; stepInEpoch: number; epoch: number };
    expect(info.kind).toBe('mid-epoch');
    expect(info.epoch).toBe(2);
    expect(info.stepInEpoch).toBeGreaterThanOrEqual(1);

    const r = await cli(['resume', '--run', 'to-resume', ...common()]);
    expect(r.code, r.stderr).toBe(0);
    const done = JSON.parse(r.stdout) as TrainJson & { resumedFrom: { epoch: number; stepInEpoch: number; checkpoint: string } };
    expect(done.runId).toBe(stopped.runId);
    expect(done.status).toBe('completed');
    expect(done.resumedFrom).toEqual({ epoch: 2, stepInEpoch: info.stepInEpoch, checkpoint: newest });
    expect(done.epochs.map((e) => e.epoch)).toEqual([2, 3]);
    const straight = parseOne((await cli(['train', '--config', cfg, '--name', 'straight-three', ...common()])).stdout);
    expect(done.weightsSha256).toBe(straight.weightsSha256);
    expect(done.epochs.map((e) => e.trainLoss)).toEqual(straight.epochs.slice(1).map((e) => e.trainLoss));
    const store = openStore(path.join(dir, 'cli.db'));
    try {
      expect(store.metrics.epochs(stopped.runId).map((e) => e.epoch)).toEqual([1, 2, 3]);
    } finally {
      store.close();
    }
  });

  it('rejects an unknown config field before training, naming the field and the file', async () => {
    const bad = path.join(dir, 'configs', 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ ...tinyConfig(), train: { epocs: 2 } }));
    const r = await cli(['train', '--config', bad, ...common()]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('train.epocs');
    expect(r.stderr).toContain(bad);
    const invalid = path.join(dir, 'configs', 'invalid.json');
    fs.writeFileSync(invalid, JSON.stringify({ ...tinyConfig(), optimizer: { lr: 'fast' } }));
    const r2 = await cli(['train', '--config', invalid, ...common()]);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain('optimizer.lr');
    // nothing was created for either
    const store = openStore(path.join(dir, 'cli.db'));
    try {
      expect(store.runs.list().map((r) => r.name)).not.toContain('tiny');
    } finally {
      store.close();
    }
  });
});
