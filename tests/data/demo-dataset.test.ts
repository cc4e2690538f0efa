// The embedded demo dataset: generated once, atomically, in the ImageNet layout the index reads,
// with the same files on every machine.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEMO_CLASSES, DEMO_TRAIN_PER_CLASS, DEMO_VAL_PER_CLASS, ensureDemoDataset } from '../../src-main/data/demo-dataset';
import { indexDataset } from '../../src-main/data/imagenet-index';
import { tempDir } from '../helpers/samples';

function hashFile(p: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
}

describe('ensureDemoDataset', () => {
  it('generates 10 classes of small JPEGs in the ImageNet layout once, atomically, and the same on every run', async () => {
    const parent = tempDir('ws-demo-');
    const dir = path.join(parent, 'demo-dataset');
    const progress: number[] = [];
    // concurrent callers share one generation
    const [root, again] = await Promise.all([ensureDemoDataset(dir, (done) => progress.push(done)), ensureDemoDataset(dir)]);
    expect(root).toBe(dir);
    expect(again).toBe(dir);
    expect(progress.at(-1)).toBe(DEMO_CLASSES.length * (DEMO_TRAIN_PER_CLASS + DEMO_VAL_PER_CLASS));
    // no temp folder left beside it
    expect(fs.readdirSync(parent)).toEqual(['demo-dataset']);

    const index = await indexDataset(root);
    expect(index.classes.map((c) => c.name)).toEqual([...DEMO_CLASSES]);
    expect(index.classes.map((c) => c.wnid)).toEqual([...index.classes.map((c) => c.wnid)].sort());
    expect(index.train.files.length).toBe(DEMO_CLASSES.length * DEMO_TRAIN_PER_CLASS);
    expect(index.val.files.length).toBe(DEMO_CLASSES.length * DEMO_VAL_PER_CLASS);
    expect(index.valLayout).toBe('folders');
    expect(index.skipped).toEqual([]);
    for (const f of index.train.files.filter((_, i) => i % 97 === 0)) {
      const m = await sharp(path.join(index.train.dir, f)).metadata();
      expect(m.format).toBe('jpeg');
      expect(m.width).toBeGreaterThanOrEqual(64);
      expect(m.width).toBeLessThanOrEqual(128);
      expect(m.height).toBeGreaterThanOrEqual(64);
      expect(m.height).toBeLessThanOrEqual(128);
      expect(m.channels).toBe(3);
    }

    // idempotent: a second call does not rewrite anything
    const probe = path.join(index.train.dir, index.train.files[0]);
    const mtime = fs.statSync(probe).mtimeMs;
    await ensureDemoDataset(dir);
    expect(fs.statSync(probe).mtimeMs).toBe(mtime);

    // deterministic: a second copy elsewhere has identical files
    const other = await ensureDemoDataset(path.join(tempDir('ws-demo-'), 'demo'));
    for (const f of [index.train.files[0], index.train.files[777], index.val.files[123]]) {
      const split = index.train.files.includes(f) ? 'train' : 'val';
      expect(hashFile(path.join(other, split, f))).toBe(hashFile(path.join(root, split, f)));
    }

    // an interrupted generation (folder without the completion marker) is rebuilt
    const broken = path.join(tempDir('ws-demo-'), 'demo');
    fs.mkdirSync(path.join(broken, 'train'), { recursive: true });
    await ensureDemoDataset(broken);
    expect((await indexDataset(broken)).train.files.length).toBe(DEMO_CLASSES.length * DEMO_TRAIN_PER_CLASS);
  });
});
