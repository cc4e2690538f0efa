// A deterministic in-memory BatchSource for engine tests: the first `classes` shared sample
// JPEGs, each resized (sharp) and cut into `perClass` different crops/flips, labelled with the
// sample's class. Training order is the seeded (seed, epoch) shuffle a real source uses.
import sharp from 'sharp';
import type { Batch, BatchSource, EpochDataStats, Split } from '../../src-shared/batch-source';
import { createRng, permutation, RNG_PURPOSE } from '../../src-shared/random';
import { sampleFiles } from './samples';

export interface MemorySourceOptions {
  classes: number;
  perClass: number;
  size: number;
  batchSize: number;
  seed: number;
  maxStepsPerEpoch?: number | null;
}

interface Sample {
  pixels: Uint8Array;
  label: number;
}

async function cut(file: string, size: number, variant: number): Promise<Uint8Array> {
  const big = size + 8;
  const dx = (variant * 3) % 9;
  const dy = (variant * 5) % 9;
  let img = sharp(file)
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .resize(big, big, { fit: 'cover' })
    .extract({ left: dx, top: dy, width: size, height: size });
  if (variant % 2 === 1) img = img.flop();
  const buf = await img.raw().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

export async function createMemoryBatchSource(opts: MemorySourceOptions): Promise<BatchSource & { samples(split: Split): number }> {
  const files = sampleFiles().slice(0, opts.classes);
  const train: Sample[] = [];
  const val: Sample[] = [];
  for (let c = 0; c < files.length; c++) {
    for (let k = 0; k < opts.perClass; k++) train.push({ pixels: await cut(files[c], opts.size, k), label: c });
    val.push({ pixels: await cut(files[c], opts.size, 4), label: c });
  }
  const list = (split: Split) => (split === 'train' ? train : val);
  const steps = (split: Split) => {
    const n = Math.ceil(list(split).length / opts.batchSize);
    return split === 'train' && opts.maxStepsPerEpoch ? Math.min(n, opts.maxStepsPerEpoch) : n;
  };
  const stats = new Map<string, EpochDataStats>();
  return {
    numClasses: opts.classes,
    samples: (split) => list(split).length,
    stepsPerEpoch: steps,
    imageSize: () => opts.size,
    async *batches(split: Split, epoch: number, o?: { startStep?: number }): AsyncIterable<Batch> {
      const items = list(split);
      const order = split === 'train' ? permutation(items.length, createRng(opts.seed, RNG_PURPOSE.shuffle, epoch)) : Int32Array.from(items.keys());
      const t0 = performance.now();
      let images = 0;
      const px = opts.size * opts.size * 3;
      for (let b = o?.startStep ?? 0; b < steps(split); b++) {
        const ids = order.slice(b * opts.batchSize, (b + 1) * opts.batchSize);
        const batch: Batch = {
          split,
          epoch,
          index: b,
          n: ids.length,
          height: opts.size,
          width: opts.size,
          images: new Uint8Array(ids.length * px),
          labels: new Int32Array(ids.length),
          sampleIds: Int32Array.from(ids),
        };
        ids.forEach((id, i) => {
          batch.images.set(items[id].pixels, i * px);
          batch.labels[i] = items[id].label;
        });
        images += ids.length;
        yield batch;
      }
      stats.set(`${split}:${epoch}`, { split, epoch, images, skipped: 0, skippedFiles: [], size: opts.size, seconds: (performance.now() - t0) / 1000 });
    },
    stats: (split, epoch) => stats.get(`${split}:${epoch}`),
    async close() {},
  };
}
