// The embedded demo dataset: generated once, atomically, in the ImageNet layout the index reads,
// with the same files on every machine, regenerated when its version changes; and the demo preset
// learns on it (the speed and the ≥ 80 % are measured by `npm run bench:demo`, not here).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEMO_PRESET } from '../../src-shared/config/demo-preset';
import { resolveRunConfig } from '../../src-shared/config/run-config';
import type { EpochMetrics } from '../../src-shared/metrics';
import { createBatchSource } from '../../src-main/data/batch-source';
import {
  DEMO_CLASSES,
  DEMO_DATASET_VERSION,
  DEMO_MAX_SIDE,
  DEMO_MIN_SIDE,
  DEMO_TRAIN_PER_CLASS,
  DEMO_VAL_PER_CLASS,
  ensureDemoDataset,
} from '../../src-main/data/demo-dataset';
import { indexDataset } from '../../src-main/data/imagenet-index';
import { Trainer } from '../../src-main/ml/trainer';
import { tempDir } from '../helpers/samples';

/** sha256 over every file of a tree: relative path and bytes, in sorted order. */
function treeDigest(root: string): { files: number; digest: string } {
  const h = crypto.createHash('sha256');
  let files = 0;
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else {
        h.update(`${r}\n`).update(fs.readFileSync(path.join(root, r)));
        files++;
      }
    }
  };
  walk('');
  return { files, digest: h.digest('hex') };
}

const TOTAL = DEMO_CLASSES.length * (DEMO_TRAIN_PER_CLASS + DEMO_VAL_PER_CLASS);
const shared = path.join(tempDir('ws-demo-'), 'demo-dataset');

describe('ensureDemoDataset', () => {
  it('generates 10 classes of small JPEGs in the ImageNet layout once, atomically, byte for byte the same on every run', async () => {
    const dir = shared;
    const parent = path.dirname(dir);
    const progress: number[] = [];
    // concurrent callers share one generation
    const [root, again] = await Promise.all([ensureDemoDataset(dir, (done) => progress.push(done)), ensureDemoDataset(dir)]);
    expect(root).toBe(dir);
    expect(again).toBe(dir);
    expect(progress.at(-1)).toBe(TOTAL);
    // no temp folder left beside it
    expect(fs.readdirSync(parent)).toEqual(['demo-dataset']);
    expect(JSON.parse(fs.readFileSync(path.join(root, 'demo-dataset.json'), 'utf8'))).toMatchObject({ version: DEMO_DATASET_VERSION, classes: 10 });

    const index = await indexDataset(root);
    expect(index.classes.map((c) => c.name)).toEqual([...DEMO_CLASSES]);
    expect(index.classes.map((c) => c.wnid)).toEqual([...index.classes.map((c) => c.wnid)].sort());
    expect(index.train.files.length).toBe(DEMO_CLASSES.length * DEMO_TRAIN_PER_CLASS);
    expect(index.val.files.length).toBe(DEMO_CLASSES.length * DEMO_VAL_PER_CLASS);
    expect(index.val.files.length).toBeGreaterThanOrEqual(500); // a validation top-1 that does not swing by ±8 points
    expect(index.valLayout).toBe('folders');
    expect(index.skipped).toEqual([]);
    for (const f of index.train.files.filter((_, i) => i % 197 === 0)) {
      const m = await sharp(path.join(index.train.dir, f)).metadata();
      expect(m.format).toBe('jpeg');
      for (const side of [m.width!, m.height!]) {
        expect(side).toBeGreaterThanOrEqual(DEMO_MIN_SIDE);
        expect(side).toBeLessThanOrEqual(DEMO_MAX_SIDE);
      }
      expect(m.channels).toBe(3);
    }

    // idempotent: a second call does not rewrite anything
    const probe = path.join(index.train.dir, index.train.files[0]);
    const mtime = fs.statSync(probe).mtimeMs;
    await ensureDemoDataset(dir);
    expect(fs.statSync(probe).mtimeMs).toBe(mtime);

    // deterministic: a second generation elsewhere has the same files, byte for byte
    const first = treeDigest(root);
    expect(first.files).toBe(TOTAL + 2); // + LOC_synset_mapping.txt and the marker
    const other = await ensureDemoDataset(path.join(tempDir('ws-demo-'), 'demo'));
    expect(treeDigest(other)).toEqual(first);
  });

  it('regenerates a folder of another version or an interrupted generation, dropping what was there', async () => {
    // a dataset cached by an older version of the app: its marker says so, and its files are stale
    const old = path.join(tempDir('ws-demo-'), 'demo');
    fs.mkdirSync(path.join(old, 'train', 'n00000001'), { recursive: true });
    fs.writeFileSync(path.join(old, 'train', 'n00000001', 'stale.JPEG'), 'stale');
    fs.writeFileSync(path.join(old, 'demo-dataset.json'), JSON.stringify({ version: DEMO_DATASET_VERSION - 1 }));
    await ensureDemoDataset(old);
    expect(fs.existsSync(path.join(old, 'train', 'n00000001', 'stale.JPEG'))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(old, 'demo-dataset.json'), 'utf8')).version).toBe(DEMO_DATASET_VERSION);
    expect((await indexDataset(old)).train.files.length).toBe(DEMO_CLASSES.length * DEMO_TRAIN_PER_CLASS);
    // a folder without the marker (a generation killed half-way) reads as not there
    fs.rmSync(path.join(old, 'demo-dataset.json'));
    fs.rmSync(path.join(old, 'val'), { recursive: true });
    await ensureDemoDataset(old);
    expect((await indexDataset(old)).val.files.length).toBe(DEMO_CLASSES.length * DEMO_VAL_PER_CLASS);
  });
});

describe('the demo preset on the demo dataset', () => {
  it('learns well above chance in 80 steps (2 short epochs, pure-JS backend)', async () => {
    const root = await ensureDemoDataset(shared);
    // the preset as shipped, shortened: its OneCycle then spans these 80 steps
    const config = resolveRunConfig([DEMO_PRESET, { backend: 'cpu', train: { epochs: 2 }, data: { maxStepsPerEpoch: 40, maxValSteps: 8 } }]);
    const source = await createBatchSource({ config, root, cacheDir: tempDir('ws-demo-cache-') });
    const epochs: EpochMetrics[] = [];
    const trainer = await Trainer.create({ config, source, checkpointDir: tempDir('ws-demo-ckpt-'), events: { onEpochEnd: (m) => void epochs.push(m) } });
    try {
      expect(trainer.backend.name).toBe('cpu');
      await trainer.run();
    } finally {
      trainer.dispose();
      await source.close();
    }
    expect(epochs).toHaveLength(2);
    const [e1, e2] = epochs;
    // 8 batches of 32: 256 validation images (a seeded subset over all classes); chance is 10 %
    expect(e2.trainLoss).toBeLessThan(e1.trainLoss);
    expect(e2.trainLoss).toBeLessThan(Math.log(10));
    expect(e2.valTop1).toBeGreaterThan(30); // measured 61 % (seed 0); chance ± 4σ is 10 ± 7.5 %
    expect(e2.valTop1!).toBeGreaterThan(e1.valTop1!);
  });
});
