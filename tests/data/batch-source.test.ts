// The batch source end to end on real JPEGs through the real decode worker bundle: seeded order,
// identical bytes whatever the worker count, resume by startStep, caps, progressive resizing,
// corrupt files skipped and counted, live augmentation changes.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Batch, BatchSource } from '../../src-shared/batch-source';
import { resolveRunConfig, type RunConfigInput } from '../../src-shared/config/run-config';
import { createRng, permutation, RNG_PURPOSE } from '../../src-shared/random';
import { createBatchSource } from '../../src-main/data/batch-source';
import { splitFilePath } from '../../src-main/data/imagenet-index';
import { applyTrainTransform, orientedSize } from '../../src-main/data/transform';
import { makeImagenetTree, sampleFiles, tempDir } from '../helpers/samples';

const open: BatchSource[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

function config(over: RunConfigInput = {}) {
  const base: RunConfigInput = {
    seed: 5,
    model: { numClasses: 4 },
    data: { workers: 1, trainSize: 32, valSize: 32, valResize: 40, prefetch: 2 },
    train: { batchSize: 5 },
  };
  return resolveRunConfig([base, over]);
}

async function source(root: string, over: RunConfigInput = {}, onLog?: (l: string, m: string) => void) {
  const s = await createBatchSource({ config: config(over), root, cacheDir: tempDir('ws-bs-cache-'), onLog });
  open.push(s);
  return s;
}

async function collect(it: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

function digest(batches: Batch[]): string {
  const h = crypto.createHash('sha256');
  for (const b of batches) {
    h.update(`${b.index}:${b.n}:${b.width}x${b.height}`);
    h.update(b.images);
    h.update(new Uint8Array(b.labels.buffer, b.labels.byteOffset, b.labels.byteLength));
    h.update(new Uint8Array(b.sampleIds.buffer, b.sampleIds.byteOffset, b.sampleIds.byteLength));
  }
  return h.digest('hex');
}

describe('createBatchSource', () => {
  it('yields seeded, shuffled uint8 NHWC batches, the last one partial, with labels and sampleIds from the index', async () => {
    const root = makeImagenetTree(4, 6); // 24 train images, 4 val
    const src = await source(root);
    expect(src.numClasses).toBe(4);
    expect(src.stepsPerEpoch('train')).toBe(5);
    expect(src.stepsPerEpoch('val')).toBe(1);
    const batches = await collect(src.batches('train', 1));
    expect(batches.map((b) => b.n)).toEqual([5, 5, 5, 5, 4]);
    expect(batches.map((b) => b.index)).toEqual([0, 1, 2, 3, 4]);
    const ids = batches.flatMap((b) => Array.from(b.sampleIds));
    expect(ids).toEqual(Array.from(permutation(24, createRng(5, RNG_PURPOSE.shuffle, 1))));
    const index = (src as Awaited<ReturnType<typeof createBatchSource>>).index;
    for (const b of batches) {
      expect(b.images).toBeInstanceOf(Uint8Array);
      expect(b.images.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(b.images.length).toBe(b.n * 32 * 32 * 3);
      expect([b.split, b.epoch, b.width, b.height]).toEqual(['train', 1, 32, 32]);
      b.sampleIds.forEach((id, k) => expect(b.labels[k]).toBe(index.train.labels[id]));
    }
    // each sample is exactly the training transform of its file with its (seed, epoch, sampleId) draw
    const b0 = batches[0];
    const file = splitFilePath(index.train, b0.sampleIds[1]);
    const { drawTrainTransform } = await import('../../src-main/data/transform');
    const s = await orientedSize(file);
    const draw = drawTrainTransform(s.width, s.height, config().augment, createRng(5, RNG_PURPOSE.crop, 1, b0.sampleIds[1]));
    const expected = await applyTrainTransform(file, draw, 32);
    expect(Buffer.from(b0.images.subarray(32 * 32 * 3, 2 * 32 * 32 * 3)).equals(Buffer.from(expected.data))).toBe(true);
    // another epoch, another order; same epoch again, same bytes
    const e2 = await collect(src.batches('train', 2));
    expect(e2.flatMap((b) => Array.from(b.sampleIds))).not.toEqual(ids);
    expect(digest(await collect(src.batches('train', 1)))).toBe(digest(batches));
    const val = await collect(src.batches('val', 1));
    expect(val).toHaveLength(1);
    expect(Array.from(val[0].sampleIds)).toEqual([0, 1, 2, 3]);
    expect(Array.from(val[0].labels)).toEqual([0, 1, 2, 3]);
    expect(src.stats('train', 1)).toMatchObject({ split: 'train', epoch: 1, images: 24, skipped: 0, size: 32 });
  });

  it('gives identical bytes with 1 and 2 workers, and a resumed epoch (startStep) equals the tail of a full one', async () => {
    const root = makeImagenetTree(4, 6);
    const one = await source(root, { data: { workers: 1 } });
    const two = await source(root, { data: { workers: 2, prefetch: 3 } });
    expect(two.stepsPerEpoch('train')).toBe(5);
    const a = await collect(one.batches('train', 3));
    const b = await collect(two.batches('train', 3));
    expect(digest(b)).toBe(digest(a));
    expect(digest(await collect(two.batches('val', 1)))).toBe(digest(await collect(one.batches('val', 1))));
    const resumed = await collect(two.batches('train', 3, { startStep: 3 }));
    expect(resumed.map((x) => x.index)).toEqual([3, 4]);
    expect(digest(resumed)).toBe(digest(a.slice(3)));
  });

  it('caps steps, follows the progressive size schedule, and uses valBatchSize', async () => {
    const root = makeImagenetTree(4, 6);
    const src = await source(root, { data: { maxStepsPerEpoch: 2, maxValSteps: 1, trainSizeSchedule: [{ epoch: 2, size: 48 }] }, train: { valBatchSize: 3 } });
    expect(src.stepsPerEpoch('train')).toBe(2);
    expect(src.stepsPerEpoch('val')).toBe(1);
    expect(src.imageSize('train', 1)).toBe(32);
    expect(src.imageSize('train', 2)).toBe(48);
    expect(src.imageSize('val', 2)).toBe(32);
    const e1 = await collect(src.batches('train', 1));
    const e2 = await collect(src.batches('train', 2));
    expect(e1.map((b) => b.width)).toEqual([32, 32]);
    expect(e2.map((b) => [b.width, b.height, b.images.length])).toEqual([
      [48, 48, 5 * 48 * 48 * 3],
      [48, 48, 5 * 48 * 48 * 3],
    ]);
    expect(src.stats('train', 2)?.size).toBe(48);
    const val = await collect(src.batches('val', 2));
    expect(val.map((b) => [b.n, b.width])).toEqual([[3, 32]]);
    // a capped val set is a seeded subset across classes (files are sorted by class), the same every epoch
    const valIds = Array.from(val[0].sampleIds);
    expect(valIds).toEqual(Array.from(permutation(4, createRng(5, RNG_PURPOSE.shuffle, -1)).slice(0, 3)));
    expect(Array.from((await collect(src.batches('val', 5)))[0].sampleIds)).toEqual(valIds);
  });

  it('skips files that fail to decode (0 bytes, truncated, not an image): logged with path, counted, the epoch goes on', async () => {
    const root = makeImagenetTree(4, 6);
    const wnid = fs.readdirSync(path.join(root, 'train')).sort()[2];
    const dir = path.join(root, 'train', wnid);
    const real = fs.readFileSync(sampleFiles()[3]);
    const bad = { empty: path.join(dir, 'zzz_empty.JPEG'), half: path.join(dir, 'zzz_half.JPEG'), text: path.join(dir, 'zzz_text.JPEG') };
    fs.writeFileSync(bad.empty, '');
    fs.writeFileSync(bad.half, real.subarray(0, Math.floor(real.length / 2)));
    fs.writeFileSync(bad.text, 'not a JPEG at all\n');
    const logs: string[] = [];
    const src = await source(root, {}, (_l, m) => logs.push(m));
    expect(src.stepsPerEpoch('train')).toBe(6); // 27 files
    const batches = await collect(src.batches('train', 1));
    const total = batches.reduce((a, b) => a + b.n, 0);
    expect(total).toBe(24);
    const stats = src.stats('train', 1)!;
    expect(stats.skipped).toBe(3);
    expect(stats.images).toBe(24);
    expect(stats.skippedFiles.map((f) => f.path).sort()).toEqual([bad.empty, bad.half, bad.text].sort());
    expect(stats.skippedFiles.find((f) => f.path === bad.empty)!.reason).toMatch(/empty/);
    expect(stats.skippedFiles.find((f) => f.path === bad.half)!.reason).toMatch(/truncated/i);
    for (const p of Object.values(bad)) expect(logs.some((m) => m.includes(p))).toBe(true);
    // the shortened batches hold the good samples only, packed, with matching labels
    const index = (src as Awaited<ReturnType<typeof createBatchSource>>).index;
    for (const b of batches) {
      expect(b.images.length).toBe(b.n * 32 * 32 * 3);
      b.sampleIds.forEach((id) => expect(index.train.files[id]).not.toMatch(/zzz_/));
    }
    // the same epoch with 2 workers: same bytes
    const two = await source(root, { data: { workers: 2 } });
    expect(digest(await collect(two.batches('train', 1)))).toBe(digest(batches));
  });

  it('setAugment applies to batches not yet started; prefetched batches keep their parameters', async () => {
    const root = makeImagenetTree(4, 6);
    const src = await source(root, { data: { prefetch: 1 } });
    const index = (src as Awaited<ReturnType<typeof createBatchSource>>).index;
    const plain = async (b: Batch, k: number) => {
      const file = splitFilePath(index.train, b.sampleIds[k]);
      const s = await orientedSize(file);
      return Buffer.from((await applyTrainTransform(file, { crop: { x: 0, y: 0, width: s.width, height: s.height }, flip: false }, 32)).data);
    };
    const sample = (b: Batch, k: number) => Buffer.from(b.images.subarray(k * 32 * 32 * 3, (k + 1) * 32 * 32 * 3));
    const seen: Batch[] = [];
    for await (const b of src.batches('train', 1)) {
      seen.push(b);
      // batch 1 is already with the workers when batch 0 arrives (prefetch 1)
      if (b.index === 0) src.setAugment!({ randomResizedCrop: { enabled: false }, hflip: 0 });
    }
    const isPlain = async (b: Batch) => {
      for (let k = 0; k < b.n; k++) if (!sample(b, k).equals(await plain(b, k))) return false;
      return true;
    };
    expect(await isPlain(seen[0])).toBe(false);
    expect(await isPlain(seen[1])).toBe(false);
    expect(await isPlain(seen[2])).toBe(true);
    expect(await isPlain(seen[4])).toBe(true);
  });

  it('refuses a dataset with more classes than the model has outputs, naming the folder', async () => {
    const root = makeImagenetTree(3, 1);
    await expect(createBatchSource({ config: config({ model: { numClasses: 2 } }), root, cacheDir: tempDir() })).rejects.toMatchObject({
      code: 'DATASET_ERROR',
      field: 'model.numClasses',
    });
  });
});

describe('createWorkerPool', () => {
  it('runs tasks on all workers; a worker that dies fails only its task and is replaced', async () => {
    const { createWorkerPool, defaultWorkerCount } = await import('../../src-main/data/worker-pool');
    expect(defaultWorkerCount(0, 8)).toBe(7);
    expect(defaultWorkerCount(0, 1)).toBe(1);
    expect(defaultWorkerCount(3, 8)).toBe(3);
    const file = path.join(tempDir('ws-pool-'), 'worker.cjs');
    fs.writeFileSync(
      file,
      `const { parentPort, threadId } = require('node:worker_threads');
       parentPort.on('message', ({ id, task }) => {
         if (task.crash) process.exit(3);
         if (task.fail) return parentPort.postMessage({ id, ok: false, error: 'bad task' });
         setTimeout(() => parentPort.postMessage({ id, ok: true, result: { x: task.x * 2, threadId } }), 5);
       });`,
    );
    const pool = createWorkerPool<{ x?: number; crash?: boolean; fail?: boolean }, { x: number; threadId: number }>({ file, size: 2 });
    try {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => pool.run({ x: i })));
      expect(results.map((r) => r.x)).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
      expect(new Set(results.map((r) => r.threadId)).size).toBe(2);
      await expect(pool.run({ fail: true })).rejects.toThrow(/bad task/);
      await expect(pool.run({ crash: true })).rejects.toThrow(/died/);
      const after = await Promise.all(Array.from({ length: 4 }, (_, i) => pool.run({ x: i })));
      expect(after.map((r) => r.x)).toEqual([0, 2, 4, 6]);
    } finally {
      await pool.close();
    }
    await expect(pool.run({ x: 1 })).rejects.toMatchObject({ code: 'INVALID_STATE' });
  });
});
