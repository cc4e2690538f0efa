// One training step and one evaluation step on a prepared batch. All intermediates are freed
// inside the step; only the metric accumulator (device-side sums) and the variables change,
// so tf.memory().numTensors stays flat. No host sync here: metrics stay on the device.
import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from './loss';
import { topKCorrect, type MetricAccumulator } from './metrics';
import type { Model } from './models/index';
import type { BnBatchStat } from './models/resnet';

/** What the trainer needs of an optimizer (ml/optim/sgd.ts implements it). */
export interface StepOptimizer {
  step(grads: Record<string, tf.Tensor>, lr: number, momentum: number): void;
}

export interface TrainStepInput {
  x: tf.Tensor4D;
  labels: Int32Array;
  lr: number;
  momentum: number;
  labelSmoothing: number;
}

export function trainStep(model: Model, optimizer: StepOptimizer, input: TrainStepInput, acc: MetricAccumulator): void {
  const trainable = model.vars.filter((v) => v.trainable);
  const nameOf = new Map(trainable.map((v) => [v.variable.name, v.name]));
  const labels = tf.tensor1d(input.labels, 'int32');
  const stats: BnBatchStat[] = [];
  let logits: tf.Tensor2D | null = null;
  const { value, grads } = tf.variableGrads(
    () => {
      const out = model.forward(input.x, true, stats);
      // keep what outlives the gradient scope: logits for metrics, BN batch stats for running stats
      logits = tf.keep(out);
      for (const s of stats) {
        tf.keep(s.mean);
        tf.keep(s.variance);
      }
      return crossEntropy(out, labels, input.labelSmoothing);
    },
    trainable.map((v) => v.variable),
  );
  try {
    const byName: Record<string, tf.Tensor> = {};
    for (const [tfName, g] of Object.entries(grads)) byName[nameOf.get(tfName) ?? tfName] = g;
    optimizer.step(byName, input.lr, input.momentum);
    model.updateRunningStats(stats); // disposes the batch stats
    const correct = topKCorrect(logits as unknown as tf.Tensor2D, labels);
    acc.add(value, correct, input.labels.length);
    correct.dispose();
  } finally {
    tf.dispose([value, labels, ...Object.values(grads)]);
    if (logits) (logits as tf.Tensor2D).dispose();
    for (const s of stats) if (!s.mean.isDisposed) tf.dispose([s.mean, s.variance]);
  }
}

export function evalStep(model: Model, x: tf.Tensor4D, labelsArr: Int32Array, labelSmoothing: number, acc: MetricAccumulator): void {
  tf.tidy(() => {
    const labels = tf.tensor1d(labelsArr, 'int32');
    const logits = model.forward(x, false);
    acc.add(crossEntropy(logits, labels, labelSmoothing), topKCorrect(logits, labels), labelsArr.length);
  });
}
