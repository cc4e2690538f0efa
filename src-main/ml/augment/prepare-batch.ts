// Turns a uint8 NHWC batch into the float32 tensor the model consumes: [0,1] scaling, colour
// jitter for training batches (per-sample randomness from (seed, epoch, sampleId)), then
// Normalize(mean, std). Runs as tfjs ops, so on the GPU with tfjs-node-gpu. The preview goes
// through prepareImages too, so it shows exactly what training feeds the model.
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../../../src-shared/batch-source';
import type { AugmentParams, ColorJitterParams, NormalizeParams } from '../../../src-shared/config/augment';
import { WorkstationError } from '../../../src-shared/errors';
import { createRng, RNG_PURPOSE } from '../../../src-shared/random';
import { applyColorJitter, drawJitter, type JitterDraw } from './color-jitter';
import { normalize } from './normalize';

export interface PrepareOptions {
  train: boolean;
  augment: AugmentParams;
  seed: number;
  /** train.fusedKernels: the WsColorJitter kernel where the backend has it (default true) */
  fusedKernels?: boolean;
}

/** The jitter stream of one sample: a pure function of (run seed, epoch, sample id). */
export function jitterDrawFor(params: ColorJitterParams, seed: number, epoch: number, sampleId: number): JitterDraw {
  return drawJitter(params, createRng(seed, RNG_PURPOSE.jitter, epoch, sampleId));
}

/** Jitter draws of a training batch, one per sample, independent of how samples are batched. */
export function drawBatchJitter(batch: Pick<Batch, 'epoch' | 'sampleIds'>, params: ColorJitterParams, seed: number): JitterDraw[] {
  return Array.from(batch.sampleIds, (id) => jitterDrawFor(params, seed, batch.epoch, id));
}

/**
 * uint8 NHWC → float /255 → (draws given) colour jitter → normalise. `draws: null` is the
 * validation path (no jitter).
 */
export function prepareImages(
  images: Uint8Array,
  shape: readonly [number, number, number],
  draws: readonly JitterDraw[] | null,
  norm: NormalizeParams,
  opts: { fusedKernels?: boolean } = {},
): tf.Tensor4D {
  const [n, height, width] = shape;
  if (images.length !== n * height * width * 3) {
    throw new WorkstationError('INVALID_ARGUMENT', `batch images hold ${images.length} bytes, expected ${n}×${height}×${width}×3`, { field: 'images' });
  }
  return tf.tidy(() => {
    const x = tf.div(tf.cast(tf.tensor4d(images, [n, height, width, 3], 'int32'), 'float32'), 255) as tf.Tensor4D;
    return normalize(draws ? applyColorJitter(x, draws, opts) : x, norm);
  });
}

export function prepareBatch(batch: Batch, opts: PrepareOptions): tf.Tensor4D {
  const draws = opts.train ? drawBatchJitter(batch, opts.augment.colorJitter, opts.seed) : null;
  return prepareImages(batch.images, [batch.n, batch.height, batch.width], draws, opts.augment.normalize, { fusedKernels: opts.fusedKernels });
}
