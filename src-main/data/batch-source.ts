// The BatchSource over an ImageNet folder tree: seeded epoch order, decode + geometric
// augmentation in a pool of worker threads, batches prefetched `data.prefetch` ahead.
//
// - Order: train = permutation(n, rng(seed, shuffle, epoch)); val = index order. Batches keep the
//   last partial batch (PyTorch's drop_last=False). Batch.sampleIds = positions in the split's
//   file list; each sample's crop/flip comes from rng(seed, crop, epoch, sampleId), so batches are
//   identical whatever the worker count, and a resumed epoch (startStep) sees the same data.
// - Memory: every batch gets its own SharedArrayBuffer; workers write pixels into it directly,
//   the main thread copies nothing (a consumer may keep batches as long as it likes).
// - Files that fail to decode are dropped from their batch (the batch is shorter, the epoch goes
//   on), logged with path and reason, and counted in stats(). A batch whose files all failed is
//   not yielded (its index is missing from the sequence).
// - setAugment(): applies to batches not yet handed to the workers; the `prefetch` batches
//   already in flight keep the parameters they were started with.
import os from 'node:os';
import type { Batch, BatchSource, EpochDataStats, Split } from '../../src-shared/batch-source';
import { applyAugmentPatch, type AugmentParams, type AugmentPatch } from '../../src-shared/config/augment';
import { trainSizeForEpoch, type RunConfig } from '../../src-shared/config/run-config';
import { WorkstationError } from '../../src-shared/errors';
import { createRng, permutation, RNG_PURPOSE } from '../../src-shared/random';
import { nodeBundlePath } from '../common/paths';
import type { DecodeResult, DecodeTask } from './decode-task';
import { indexDataset, splitFilePath, type DatasetIndex, type IndexProgress } from './imagenet-index';
import { createWorkerPool, defaultWorkerCount, type WorkerPool } from './worker-pool';

export interface BatchSourceOptions {
  config: Readonly<RunConfig>;
  /** ImageNet root holding config.data.trainDir and valDir */
  root: string;
  cacheDir: string;
  onLog?(level: 'info' | 'warn' | 'error', msg: string): void;
  onIndexProgress?(p: IndexProgress): void;
}

export interface ImageNetBatchSource extends BatchSource {
  readonly index: DatasetIndex;
  readonly workers: number;
  setAugment(patch: AugmentPatch): void;
}

export async function createBatchSource(opts: BatchSourceOptions): Promise<ImageNetBatchSource> {
  const { config } = opts;
  const data = config.data;
  const index = await indexDataset(opts.root, { trainDir: data.trainDir, valDir: data.valDir, cacheDir: opts.cacheDir, onProgress: opts.onIndexProgress });
  // more model outputs than classes still trains; fewer would index out of range
  if (index.classes.length > config.model.numClasses) {
    throw new WorkstationError(
      'DATASET_ERROR',
      `the dataset has ${index.classes.length} classes but model.numClasses is ${config.model.numClasses}: ${index.train.dir}`,
      {
        field: 'model.numClasses',
        path: index.train.dir,
      },
    );
  }
  if (data.valTransform === 'resize-center-crop' && data.valResize < data.valSize) {
    throw new WorkstationError('INVALID_CONFIG', `data.valResize (${data.valResize}) must be at least data.valSize (${data.valSize})`, {
      field: 'data.valResize',
    });
  }
  const workers = defaultWorkerCount(data.workers, os.availableParallelism());
  const pool: WorkerPool<DecodeTask, DecodeResult> = createWorkerPool({ file: nodeBundlePath('decode-worker'), size: workers });
  let augment: AugmentParams = config.augment;
  const stats = new Map<string, EpochDataStats>();
  const batchSize = (split: Split) => (split === 'train' ? config.train.batchSize : (config.train.valBatchSize ?? config.train.batchSize));
  const splitIndex = (split: Split) => (split === 'train' ? index.train : index.val);
  const log = (level: 'info' | 'warn' | 'error', msg: string) => opts.onLog?.(level, msg);

  const stepsPerEpoch = (split: Split): number => {
    const full = Math.ceil(splitIndex(split).files.length / batchSize(split));
    const cap = split === 'train' ? data.maxStepsPerEpoch : data.maxValSteps;
    return cap === null ? full : Math.min(full, cap);
  };
  const imageSize = (split: Split, epoch: number): number => (split === 'train' ? trainSizeForEpoch(data, epoch) : data.valSize);

  /** Samples (positions in the split's file list) of batch `b` of an epoch. */
  const orderOf = (split: Split, epoch: number): Int32Array | null => {
    if (split === 'train') return permutation(index.train.files.length, createRng(config.seed, RNG_PURPOSE.shuffle, epoch));
    // A capped validation set must still cover the classes (files are sorted by class): take the
    // same seeded subset every epoch (key -1, never a real epoch) so epochs stay comparable.
    const capped = data.maxValSteps !== null && data.maxValSteps * batchSize('val') < index.val.files.length;
    return capped ? permutation(index.val.files.length, createRng(config.seed, RNG_PURPOSE.shuffle, -1)) : null;
  };

  async function produce(split: Split, epoch: number, order: Int32Array | null, b: number, params: AugmentParams, acc: EpochDataStats): Promise<Batch | null> {
    const si = splitIndex(split);
    const bs = batchSize(split);
    const start = b * bs;
    const n = Math.min(bs, si.files.length - start);
    const size = imageSize(split, epoch);
    const bytes = size * size * 3;
    const buffer = new SharedArrayBuffer(n * bytes);
    const ids = new Int32Array(n);
    for (let k = 0; k < n; k++) ids[k] = order ? order[start + k] : start + k;
    // split the batch over all workers (a few tasks each, for load balance)
    const chunk = Math.max(1, Math.min(16, Math.ceil(n / (pool.size * 2))));
    const tasks: Promise<DecodeResult>[] = [];
    for (let s = 0; s < n; s += chunk) {
      const positions: number[] = [];
      for (let k = s; k < Math.min(n, s + chunk); k++) positions.push(k);
      tasks.push(
        pool.run({
          kind: split,
          files: positions.map((k) => splitFilePath(si, ids[k])),
          sampleIds: positions.map((k) => ids[k]),
          positions,
          buffer,
          size,
          seed: config.seed,
          epoch,
          augment: split === 'train' ? params : undefined,
          val: split === 'val' ? { mode: data.valTransform, resize: data.valResize, size: data.valSize } : undefined,
        }),
      );
    }
    const failed = (await Promise.all(tasks)).flatMap((r) => r.failed);
    let images = new Uint8Array(buffer);
    let keep = Array.from({ length: n }, (_, k) => k);
    if (failed.length > 0) {
      const bad = new Set(failed.map((f) => f.position));
      for (const f of failed) {
        log('warn', `skipped ${f.path}: ${f.reason}`);
        acc.skippedFiles.push({ path: f.path, reason: f.reason });
      }
      acc.skipped += failed.length;
      keep = keep.filter((k) => !bad.has(k));
      // close the gaps (memmove inside the shared buffer; only for batches that lost files)
      keep.forEach((k, j) => {
        if (k !== j) images.copyWithin(j * bytes, k * bytes, (k + 1) * bytes);
      });
      images = new Uint8Array(buffer, 0, keep.length * bytes);
    }
    acc.images += keep.length;
    if (keep.length === 0) return null;
    const sampleIds = Int32Array.from(keep, (k) => ids[k]);
    const labels = Int32Array.from(sampleIds, (id) => si.labels[id]);
    return { split, epoch, index: b, n: keep.length, height: size, width: size, images, labels, sampleIds };
  }

  async function* batches(split: Split, epoch: number, o: { startStep?: number } = {}): AsyncGenerator<Batch> {
    const steps = stepsPerEpoch(split);
    const startStep = o.startStep ?? 0;
    if (!Number.isInteger(startStep) || startStep < 0)
      throw new WorkstationError('INVALID_ARGUMENT', `startStep must be a non-negative integer, got ${startStep}`, { field: 'startStep' });
    const order = orderOf(split, epoch);
    const acc: EpochDataStats = { split, epoch, images: 0, skipped: 0, skippedFiles: [], size: imageSize(split, epoch), seconds: 0 };
    const t0 = performance.now();
    const inflight: Promise<Batch | null>[] = [];
    let next = startStep;
    const submit = () => {
      const p = produce(split, epoch, order, next++, augment, acc);
      p.catch(() => undefined); // awaited below; avoids an unhandled rejection if the consumer stops early
      inflight.push(p);
    };
    try {
      while (next < steps && inflight.length < data.prefetch) submit();
      while (inflight.length > 0) {
        const batch = await inflight.shift()!;
        if (next < steps) submit();
        if (batch) yield batch;
      }
      acc.seconds = (performance.now() - t0) / 1000;
      stats.set(`${split}:${epoch}`, acc);
      if (acc.skipped > 0) log('warn', `${split} epoch ${epoch}: ${acc.skipped} file(s) could not be decoded and were skipped`);
    } finally {
      // a consumer that stops early leaves at most `prefetch` batches decoding; let them finish quietly
      await Promise.allSettled(inflight);
    }
  }

  return {
    index,
    workers: pool.size,
    numClasses: index.classes.length,
    stepsPerEpoch,
    imageSize,
    batches,
    stats: (split, epoch) => stats.get(`${split}:${epoch}`),
    setAugment(patch: AugmentPatch) {
      augment = applyAugmentPatch(augment, patch);
    },
    close: () => pool.close(),
  };
}
