// `workstation eval` end to end (real processes, real store, real tfjs CPU): on a tiny demo run,
// `--protocol run` gives exactly the trainer's validation loss / top-1 / top-5 of each checkpoint
// and stores the evaluation with the checkpoint; a checkpoint file the store does not know is
// evaluated the same but not stored. On a tree of the shared ImageNet sample photos (class names
// from its LOC_synset_mapping.txt) `--protocol center-crop --tta flip` evaluates at 256/224 with
// the flip; `--data` on another root with a subset of the classes maps its labels to the run's by
// wnid. Bad flags exit 2 naming the flag; Ctrl-C cancels (exit 130, nothing stored).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src-main/store/index';
import { CLASSES_TSV, makeImagenetTree, sampleFiles, tempDir } from '../helpers/samples';

const ROOT = path.resolve(__dirname, '../..');
let dir: string;

interface Cli {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], onStderr?: (text: string, kill: () => void) => void): Promise<Cli> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin/workstation.cjs'), ...args], {
      cwd: dir,
      env: { ...process.env, WORKSTATION_HOME: path.join(dir, 'home') },
    });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    const interrupt = () => {
      if (interrupted) return;
      interrupted = true;
      p.kill('SIGINT');
    };
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr, interrupt);
    });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const store = () => ['--db', path.join(dir, 'eval.db'), '--data-dir', path.join(dir, 'data')];

interface EvalJson {
  evaluationId: number | null;
  checkpoint: { id: number | null; runId: number | null; path: string; epoch: number; kind: string };
  split: string;
  protocol: string;
  tta: string;
  dataRoot: string;
  transform: { mode: string; resize: number; size: number };
  images: number;
  loss: number;
  top1: number;
  top5: number;
  perClass: { classIndex: number; wnid: string; name: string; images: number; top1: number | null; top5: number | null }[];
  confusions: { true: number; predicted: number; count: number }[];
  mistakes: { classIndex: number; predicted: number; confidence: number; path: string }[];
}

function writeConfig(name: string, cfg: Record<string, unknown>): string {
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(cfg));
  return file;
}

async function train(config: string): Promise<{ runId: number; lastCheckpoint: string }> {
  const r = await cli(['train', '--config', config, ...store(), '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { runId: number; lastCheckpoint: string };
}

async function evalJson(args: string[]): Promise<EvalJson> {
  const r = await cli(['eval', ...args, ...store(), '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as EvalJson; // exactly one JSON document
}

/** the counts an evaluation's figures must agree with */
function checkConsistent(e: EvalJson): void {
  const withImages = e.perClass.filter((c) => c.images > 0);
  expect(withImages.reduce((s, c) => s + c.images, 0)).toBe(e.images);
  const hits = withImages.reduce((s, c) => s + Math.round(((c.top1 ?? 0) * c.images) / 100), 0);
  expect((100 * hits) / e.images).toBeCloseTo(e.top1, 10);
  expect(e.confusions.reduce((s, x) => s + x.count, 0)).toBe(e.images - hits);
  for (let i = 1; i < e.confusions.length; i++) expect(e.confusions[i - 1].count).toBeGreaterThanOrEqual(e.confusions[i].count);
  for (const x of e.confusions) expect(x.true).not.toBe(x.predicted);
}

beforeAll(() => {
  dir = tempDir('eval-cli-');
});

describe('workstation eval', () => {
  it("--protocol run equals the trainer's validation of each checkpoint exactly, and is stored with it", async () => {
    const config = writeConfig('demo-tiny', {
      name: 'eval-demo',
      seed: 2,
      backend: 'cpu',
      model: { numClasses: 10, widthMultiplier: 0.03125 },
      // the whole validation split (600 images), so the trainer validates on what eval reads
      data: { root: null, trainSize: 32, valSize: 32, valResize: 36, maxStepsPerEpoch: 8, maxValSteps: null, workers: 1, prefetch: 2 },
      train: { epochs: 2, batchSize: 16, valBatchSize: 40, logEverySteps: 4, labelSmoothing: 0.1 },
      optimizer: { lr: 0.01 },
      schedule: { policy: 'constant' },
    });
    const { runId } = await train(config);
    const db = openStore(path.join(dir, 'eval.db'));
    const [epochs, checkpoints] = [db.metrics.epochs(runId), db.checkpoints.list(runId)];
    db.close();
    expect(checkpoints.map((c) => c.epoch)).toEqual([1, 2]);

    for (const cp of checkpoints) {
      // by id for one, by file for the other: both are the store's checkpoint
      const e = await evalJson(['--checkpoint', cp.epoch === 1 ? String(cp.id) : cp.path]);
      const m = epochs.find((x) => x.epoch === cp.epoch)!;
      expect(e.checkpoint).toMatchObject({ id: cp.id, runId, path: cp.path, epoch: cp.epoch, kind: 'epoch' });
      expect(e).toMatchObject({ protocol: 'run', tta: 'none', split: 'val', images: 600, transform: { mode: 'resize-center-crop', resize: 36, size: 32 } });
      expect(e.top1).toBe(m.valTop1);
      expect(e.top5).toBe(m.valTop5);
      expect(e.loss).toBe(m.valLoss);
      expect(e.perClass.map((c) => c.name)).toEqual(['circle', 'square', 'triangle', 'ring', 'cross', 'frame', 'diamond', 'bars', 'crescent', 'dots']);
      checkConsistent(e);
      expect(e.evaluationId).toBeGreaterThan(0);
      for (const x of e.mistakes) expect(x.path.startsWith(path.join(dir, 'data', 'demo-dataset', 'val') + path.sep)).toBe(true);
    }

    const after = openStore(path.join(dir, 'eval.db'));
    try {
      const stored = after.evaluations.list({ runId });
      expect(stored.map((s) => [s.checkpointId, s.protocol, s.tta, s.split, s.images])).toEqual([
        [checkpoints[1].id, 'run', 'none', 'val', 600],
        [checkpoints[0].id, 'run', 'none', 'val', 600],
      ]);
      expect(stored[1].top1).toBe(epochs[0].valTop1);
    } finally {
      after.close();
    }

    // a copy of the file is not the store's: the same figures, printed only
    const copy = path.join(dir, 'copy.ckpt');
    fs.copyFileSync(checkpoints[0].path, copy);
    const r = await cli(['eval', '--checkpoint', 'copy.ckpt', ...store(), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/not stored/);
    const loose = JSON.parse(r.stdout) as EvalJson;
    expect(loose.evaluationId).toBeNull();
    expect(loose.checkpoint.id).toBeNull();
    expect([loose.top1, loose.top5, loose.loss]).toEqual([epochs[0].valTop1, epochs[0].valTop5, epochs[0].valLoss]);
    const db2 = openStore(path.join(dir, 'eval.db'));
    expect(db2.evaluations.list({ runId }).length).toBe(2);
    db2.close();

    // the readable form names the worst classes and the top confusions
    const text = await cli(['eval', '--checkpoint', String(checkpoints[1].id), ...store()]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/top-1 \d+\.\d\d%/);
    expect(text.stdout).toMatch(/lowest top-1 classes:/);
    expect(text.stderr).toMatch(/eval \d+: 600\/600 images/);
  });

  it('on the shared ImageNet samples: center-crop 256/224 with flip; --data maps a subset of the classes by wnid', async () => {
    const classes = 5;
    const tree = makeImagenetTree(classes, 2);
    const names = fs
      .readFileSync(CLASSES_TSV, 'utf8')
      .split('\n')
      .slice(1, classes + 1)
      .map((l) => l.split('\t'));
    fs.writeFileSync(path.join(tree, 'LOC_synset_mapping.txt'), names.map(([, wnid, name]) => `${wnid} ${name}\n`).join(''));
    const config = writeConfig('samples', {
      name: 'eval-samples',
      seed: 4,
      backend: 'cpu',
      model: { numClasses: classes, widthMultiplier: 0.03125 },
      data: { root: tree, trainSize: 32, valSize: 32, valResize: 40, workers: 1, prefetch: 2 },
      train: { epochs: 1, batchSize: 4, logEverySteps: 1 },
      optimizer: { lr: 0.01 },
      schedule: { policy: 'constant' },
    });
    const { runId } = await train(config);
    const db = openStore(path.join(dir, 'eval.db'));
    const cp = db.checkpoints.list(runId)[0];
    const val = db.metrics.epochs(runId)[0];
    db.close();

    const run = await evalJson(['--checkpoint', String(cp.id)]);
    expect(run.top1).toBe(val.valTop1);
    expect(run.perClass.map((c) => [c.wnid, c.name])).toEqual(names.map(([, wnid, name]) => [wnid, name]));

    const std = await evalJson(['--checkpoint', String(cp.id), '--protocol', 'center-crop', '--tta', 'flip']);
    expect(std).toMatchObject({
      protocol: 'center-crop',
      tta: 'flip',
      images: classes,
      dataRoot: tree,
      transform: { mode: 'resize-center-crop', resize: 256, size: 224 },
    });
    checkConsistent(std);

    // another root holding the 2nd and 4th classes only: labels are the run's class indices
    const other = tempDir('eval-cli-other-');
    const files = sampleFiles();
    for (const c of [1, 3]) {
      const wnid = path.basename(files[c]).split('_')[0];
      for (const split of ['train', 'val']) {
        fs.mkdirSync(path.join(other, split, wnid), { recursive: true });
        fs.symlinkSync(files[c], path.join(other, split, wnid, `${wnid}.JPEG`));
      }
    }
    const sub = await evalJson(['--checkpoint', String(cp.id), '--data', other]);
    expect(sub.dataRoot).toBe(other);
    expect(sub.images).toBe(2);
    expect(sub.perClass.map((c) => c.images)).toEqual([0, 1, 0, 1, 0]);
    // the same images in the run's own tree get the same predictions
    expect(sub.perClass[1].top1).toBe(run.perClass[1].top1);
    expect(sub.perClass[3].top1).toBe(run.perClass[3].top1);
    checkConsistent(sub);

    const list = openStore(path.join(dir, 'eval.db'));
    try {
      expect(list.evaluations.list({ checkpointId: cp.id }).map((e) => [e.protocol, e.tta, e.dataRoot])).toEqual([
        ['run', 'none', other],
        ['center-crop', 'flip', tree],
        ['run', 'none', tree],
      ]);
    } finally {
      list.close();
    }
  });

  it('bad flags exit 2 naming the flag; Ctrl-C cancels and stores nothing', async () => {
    const bad = await cli(['eval', '--checkpoint', '1', '--protocol', 'ten-crop', ...store()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--protocol must be one of run, resize, center-crop/);
    const missing = await cli(['eval', '--checkpoint', '99999', ...store()]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no checkpoint 99999/);

    const db = openStore(path.join(dir, 'eval.db'));
    const cp = db.checkpoints.list(db.runs.resolve('eval-demo').id)[0];
    const before = db.evaluations.list().length;
    db.close();
    // 600 demo images at 224 px with the flip: long enough to be interrupted half-way
    const r = await cli(['eval', '--checkpoint', String(cp.id), '--protocol', 'center-crop', '--tta', 'flip', ...store()], (text, kill) => {
      if (/eval \d+: \d+\/600 images, batch [1-9]/.test(text)) kill();
    });
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/cancelling evaluation/);
    const after = openStore(path.join(dir, 'eval.db'));
    expect(after.evaluations.list().length).toBe(before);
    after.close();
  });
});
