// One unit of decode work, run inside a decode worker (or in-process by the benchmark): read each
// file, apply the training or validation transform, and write the uint8 RGB pixels straight into
// the batch's shared memory at the sample's slot. Randomness is drawn from
// (seed, epoch, sampleId), never from the worker, so results do not depend on the worker count.
import fs from 'node:fs';
import type { AugmentParams } from '../../src-shared/config/augment';
import { createRng, RNG_PURPOSE } from '../../src-shared/random';
import {
  applyTrainTransform,
  applyValTransform,
  assertCompleteImage,
  decodeRgb,
  drawTrainTransform,
  orientedSize,
  type ValTransformOptions,
} from './transform';

export interface DecodeTask {
  kind: 'train' | 'val' | 'decode';
  /** absolute file paths */
  files: string[];
  /** the samples' indices in the split's file list (randomness keys) */
  sampleIds: number[];
  /** slot of each file in the batch buffer */
  positions: number[];
  /** batch pixels, NHWC uint8, size×size×3 per slot (none for kind 'decode') */
  buffer: SharedArrayBuffer | null;
  size: number;
  seed: number;
  epoch: number;
  augment?: AugmentParams;
  val?: ValTransformOptions;
  /** images decoded concurrently inside the worker (sharp runs them on libuv's threads) */
  inflight?: number;
  /** training transform path (benchmark comparisons): default native addon for JPEGs, else sharp */
  path?: 'default' | 'sharp' | 'sharp-shrink';
}

export interface DecodeFailure {
  position: number;
  path: string;
  reason: string;
}

export interface DecodeResult {
  failed: DecodeFailure[];
}

function reasonOf(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].slice(0, 300);
}

async function decodeOne(task: DecodeTask, k: number): Promise<void> {
  // synchronous: this runs on a dedicated worker thread, and a thread-pool hop per file costs more than it saves
  const data = fs.readFileSync(task.files[k]);
  assertCompleteImage(data);
  if (task.kind === 'decode') {
    await decodeRgb(data);
    return;
  }
  const src = await orientedSize(data);
  let px;
  if (task.kind === 'train') {
    const rng = createRng(task.seed, RNG_PURPOSE.crop, task.epoch, task.sampleIds[k]);
    const draw = drawTrainTransform(src.width, src.height, task.augment!, rng);
    px = await applyTrainTransform(data, draw, task.size, {
      sourceSize: src,
      native: (task.path ?? 'default') === 'default',
      shrinkOnLoad: task.path === 'sharp-shrink',
    });
  } else {
    px = await applyValTransform(data, task.val!, src);
  }
  const bytes = task.size * task.size * 3;
  if (px.data.length !== bytes) throw new Error(`transform produced ${px.width}x${px.height}, expected ${task.size}x${task.size}`);
  new Uint8Array(task.buffer!, task.positions[k] * bytes, bytes).set(px.data);
}

export async function runDecodeTask(task: DecodeTask): Promise<DecodeResult> {
  const failed: DecodeFailure[] = [];
  let next = 0;
  const lane = async () => {
    while (next < task.files.length) {
      const k = next++;
      try {
        await decodeOne(task, k);
      } catch (e) {
        failed.push({ position: task.positions[k], path: task.files[k], reason: reasonOf(e) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, task.inflight ?? 2) }, lane));
  failed.sort((a, b) => a.position - b.position);
  return { failed };
}
