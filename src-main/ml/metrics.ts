// Accuracy counts and running, sample-weighted epoch sums kept on the device, so a training step
// needs no host sync; values are read back only when progress is reported or the epoch ends.
import * as tf from '@tensorflow/tfjs';

/** Number of samples whose label is among the top-k logits ([top1, top5] as a float32 tensor of 2). */
export function topKCorrect(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const k = Math.min(5, logits.shape[1]);
    const { indices } = tf.topk(logits, k);
    const hits = tf.equal(indices, tf.cast(labels, 'int32').expandDims(1)).toFloat(); // [N, k]
    const top1 = tf.sum(hits.slice([0, 0], [-1, 1]));
    const top5 = tf.sum(hits);
    return tf.stack([top1, top5]) as tf.Tensor1D;
  });
}

export interface MetricTotals {
  samples: number;
  loss: number;
  /** percent */
  top1: number;
  top5: number;
}

/** Device-side accumulator of [loss * n, top1 count, top5 count] plus the host-side sample count. */
export interface MetricAccumulator {
  /** adds one batch; takes ownership of nothing (the caller disposes its tensors) */
  add(meanLoss: tf.Scalar, correct: tf.Tensor1D, n: number): void;
  /** reads back (one host sync) */
  read(): MetricTotals;
  reset(): void;
  /** the sums as they stand (one host sync), for a mid-epoch checkpoint */
  snapshot(): MetricSnapshot;
  /** continues from a snapshot: the next read() is as if the snapshot's batches had been added here */
  restore(s: MetricSnapshot): void;
  dispose(): void;
}

export interface MetricSnapshot {
  /** [loss * n, top1 count, top5 count], float32 values */
  sums: number[];
  samples: number;
}

export function createMetricAccumulator(): MetricAccumulator {
  let sums: tf.Tensor1D = tf.zeros([3]);
  let samples = 0;
  return {
    add(meanLoss, correct, n) {
      // kept: add() may run inside a caller's tf.tidy, and the sums must outlive it
      const next = tf.keep(tf.tidy(() => tf.add(sums, tf.concat([tf.reshape(tf.mul(meanLoss, n), [1]), correct])) as tf.Tensor1D));
      sums.dispose();
      sums = next;
      samples += n;
    },
    read() {
      const [l, t1, t5] = sums.dataSync();
      if (samples === 0) return { samples: 0, loss: NaN, top1: NaN, top5: NaN };
      return { samples, loss: l / samples, top1: (100 * t1) / samples, top5: (100 * t5) / samples };
    },
    reset() {
      sums.dispose();
      sums = tf.keep(tf.zeros([3]));
      samples = 0;
    },
    snapshot() {
      return { sums: Array.from(sums.dataSync()), samples };
    },
    restore(s) {
      sums.dispose();
      // float32 values survive JSON exactly, so the restored sums equal the saved ones bit for bit
      sums = tf.keep(tf.tensor1d(s.sums, 'float32'));
      samples = s.samples;
    },
    dispose() {
      sums.dispose();
    },
  };
}
