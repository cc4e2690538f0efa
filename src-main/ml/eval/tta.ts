// Test-time augmentation for evaluation and validation. 'none': the model's logits as they are
// (exactly what the trainer's validation always did); 'flip': the softmax of each image and of its
// horizontal mirror, averaged — classes are ranked by that average and the loss is taken on its
// log. The trainer's validation (validate.ts, data.valTta) and `workstation eval` both go through
// here, so the two agree to the last count.
import * as tf from '@tensorflow/tfjs';
import { crossEntropy, crossEntropyFromLogProbs } from '../loss';
import { topKCorrect, type MetricAccumulator } from '../metrics';
import type { Model } from '../models/index';
import { evalStep } from '../train-step';

export type Tta = 'none' | 'flip';

/** What evaluation needs of a model: its output count and an inference forward pass. */
export interface ScoringModel {
  readonly numClasses: number;
  forward(x: tf.Tensor4D, training: boolean): tf.Tensor2D;
}

export interface TtaOutputs {
  /** what classes are ranked by: logits ('none') or averaged probabilities ('flip') */
  scores: tf.Tensor2D;
  /** class probabilities */
  probs: tf.Tensor2D;
  /** mean loss over the batch (the run's label smoothing) */
  loss: tf.Scalar;
}

/** Eval-mode outputs of a prepared batch; the caller disposes them (or runs this inside tf.tidy). */
export function ttaOutputs(model: ScoringModel, x: tf.Tensor4D, labels: tf.Tensor1D, labelSmoothing: number, tta: Tta): TtaOutputs {
  return tf.tidy(() => {
    if (tta === 'none') {
      const logits = model.forward(x, false);
      return { scores: logits, probs: tf.softmax(logits), loss: crossEntropy(logits, labels, labelSmoothing) };
    }
    const mirrored = tf.reverse(x, 2) as tf.Tensor4D; // NHWC: axis 2 is the width
    const probs = tf.div(tf.add(tf.softmax(model.forward(x, false)), tf.softmax(model.forward(mirrored, false))), 2) as tf.Tensor2D;
    // averaged probabilities are > 0 wherever both softmaxes are; the floor keeps log finite if both underflow
    const logp = tf.log(tf.maximum(probs, 1e-30)) as tf.Tensor2D;
    return { scores: probs, probs, loss: crossEntropyFromLogProbs(logp, labels, labelSmoothing) };
  });
}

/** One validation step with test-time augmentation; 'none' is the trainer's evalStep itself. */
export function evalStepTta(model: Model, x: tf.Tensor4D, labelsArr: Int32Array, labelSmoothing: number, acc: MetricAccumulator, tta: Tta): void {
  if (tta === 'none') return evalStep(model, x, labelsArr, labelSmoothing, acc);
  tf.tidy(() => {
    const labels = tf.tensor1d(labelsArr, 'int32');
    const out = ttaOutputs(model, x, labels, labelSmoothing, tta);
    acc.add(out.loss, topKCorrect(out.scores, labels), labelsArr.length);
  });
}
