// Data pipeline benchmark: images/s of the training transform (read + decode + RandomResizedCrop +
// flip → size×size uint8, written into shared memory) through the real worker pool, beside a
// decode-only baseline (read + full decode to RGB) on the same files. The sample files are
// repeated to reach `images`, so the figure is stable.
import fs from 'node:fs';
import path from 'node:path';
import { AugmentSchema } from '../../src-shared/config/augment';
import { WorkstationError } from '../../src-shared/errors';
import { nodeBundlePath } from '../common/paths';
import type { DecodeResult, DecodeTask } from './decode-task';
import { loadJpegAddon } from './jpeg-native';
import { createWorkerPool } from './worker-pool';

export interface BenchDataOptions {
  dir: string;
  images: number;
  workers: number;
  size: number;
  /** which measurements, in order */
  modes?: BenchMode[];
  /** images per task sent to a worker */
  chunk?: number;
  /** images in flight inside each worker */
  inflight?: number;
  onProgress?(msg: string): void;
}

/**
 * decode: sharp full decode to RGB (baseline); train: the training transform as the pipeline runs it
 * (native addon for JPEGs when built, else sharp); train-sharp: sharp extract-then-resize (the
 * fallback path); train-sharp-shrink: sharp whole-image resize + extract (JPEG shrink-on-load).
 */
export type BenchMode = 'decode' | 'train' | 'train-sharp' | 'train-sharp-shrink';

export interface BenchModeResult {
  mode: BenchMode;
  images: number;
  seconds: number;
  imagesPerSec: number;
  imagesPerSecPerWorker: number;
  /**
   * images per CPU-second of this process (all threads: workers, libuv/libvips threads, main):
   * the per-core throughput, and much less sensitive than wall time to other jobs on the machine
   */
  imagesPerCpuSecond: number;
  failed: number;
}

export interface BenchDataResult {
  /** whether the native JPEG addon (out/native/jpeg_crop.node) was available */
  native: boolean;
  dir: string;
  files: number;
  workers: number;
  size: number;
  results: BenchModeResult[];
}

const IMAGE_EXT = /\.(jpe?g|png)$/i;

export async function benchData(o: BenchDataOptions): Promise<BenchDataResult> {
  let names: string[];
  try {
    names = fs
      .readdirSync(o.dir)
      .filter((n) => IMAGE_EXT.test(n))
      .sort();
  } catch {
    throw new WorkstationError('NOT_FOUND', `benchmark image folder not found: ${o.dir}`, { path: o.dir });
  }
  if (names.length === 0) throw new WorkstationError('NOT_FOUND', `no .jpeg/.jpg/.png files in ${o.dir}`, { path: o.dir });
  const files = names.map((n) => path.join(o.dir, n));
  const modes = o.modes ?? ['decode', 'train'];
  const chunk = o.chunk ?? 16;
  const augment = AugmentSchema.parse({});
  const pool = createWorkerPool<DecodeTask, DecodeResult>({ file: nodeBundlePath('decode-worker'), size: o.workers });
  const bytes = o.size * o.size * 3;
  const runOnce = async (mode: BenchMode, count: number, epoch: number): Promise<{ seconds: number; cpuSeconds: number; failed: number }> => {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const tasks: Promise<DecodeResult>[] = [];
    for (let s = 0; s < count; s += chunk) {
      const n = Math.min(chunk, count - s);
      const ids = Array.from({ length: n }, (_, k) => s + k);
      tasks.push(
        pool.run({
          kind: mode === 'decode' ? 'decode' : 'train',
          files: ids.map((i) => files[i % files.length]),
          sampleIds: ids,
          positions: ids.map((_, k) => k),
          buffer: mode === 'decode' ? null : new SharedArrayBuffer(n * bytes),
          size: o.size,
          seed: 0,
          epoch,
          augment,
          path: mode === 'train-sharp' ? 'sharp' : mode === 'train-sharp-shrink' ? 'sharp-shrink' : 'default',
          inflight: o.inflight,
        }),
      );
    }
    const failed = (await Promise.all(tasks)).reduce((a, r) => a + r.failed.length, 0);
    const cpu = process.cpuUsage(cpu0);
    return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, failed };
  };
  try {
    // warm-up: worker start-up, sharp/libvips initialisation, file cache
    o.onProgress?.(`warming up ${pool.size} worker(s)…`);
    await runOnce('train', Math.min(files.length, 64 * pool.size), 0);
    const results: BenchModeResult[] = [];
    for (const [i, mode] of modes.entries()) {
      o.onProgress?.(`${mode}: ${o.images} images…`);
      const r = await runOnce(mode, o.images, i + 1);
      const ips = o.images / r.seconds;
      results.push({
        mode,
        images: o.images,
        seconds: r.seconds,
        imagesPerSec: ips,
        imagesPerSecPerWorker: ips / pool.size,
        imagesPerCpuSecond: o.images / r.cpuSeconds,
        failed: r.failed,
      });
    }
    return { native: loadJpegAddon() !== null, dir: o.dir, files: files.length, workers: pool.size, size: o.size, results };
  } finally {
    await pool.close();
  }
}
