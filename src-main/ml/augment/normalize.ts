// Normalize(mean, std) and its inverse. The inverse exists for the preview, which shows the
// tensor the model sees as a PNG.
import * as tf from '@tensorflow/tfjs';
import type { NormalizeParams } from '../../../src-shared/config/augment';

/** (x − mean) / std per channel on a [N,H,W,3] float batch in [0, 1]. */
export function normalize(x: tf.Tensor4D, p: NormalizeParams): tf.Tensor4D {
  return tf.tidy(() => tf.div(tf.sub(x, tf.tensor1d(p.mean)), tf.tensor1d(p.std)) as tf.Tensor4D);
}

/** Inverse of normalize, back to uint8 levels (rounded, clamped to 0..255), HWC order kept. */
export function denormalizeToUint8(x: tf.Tensor4D, p: NormalizeParams): Uint8Array {
  const levels = tf.tidy(() => tf.clipByValue(tf.round(tf.mul(tf.add(tf.mul(x, tf.tensor1d(p.std)), tf.tensor1d(p.mean)), 255)), 0, 255).toInt());
  try {
    return Uint8Array.from(levels.dataSync());
  } finally {
    levels.dispose();
  }
}
