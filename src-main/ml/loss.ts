// Softmax cross-entropy with optional label smoothing, as torch.nn.CrossEntropyLoss(label_smoothing=ε):
// loss_i = (1 - ε) * (-log p_i[y_i]) + ε * mean_c(-log p_i[c]), averaged over the batch.
import * as tf from '@tensorflow/tfjs';

/** Mean loss over the batch (scalar). `labels` are class indices. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, labelSmoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const numClasses = logits.shape[1];
    const logp = tf.logSoftmax(logits);
    const onehot = tf.oneHot(tf.cast(labels, 'int32'), numClasses).toFloat();
    const nll = tf.neg(tf.sum(tf.mul(logp, onehot), 1));
    if (labelSmoothing === 0) return tf.mean(nll) as tf.Scalar;
    const smooth = tf.neg(tf.mean(logp, 1));
    return tf.mean(tf.add(tf.mul(nll, 1 - labelSmoothing), tf.mul(smooth, labelSmoothing))) as tf.Scalar;
  });
}

/**
 * The same loss from log-probabilities that are not a log-softmax of logits (test-time
 * augmentation averages probabilities): mean over the batch of (1 - ε)(-log p[y]) + ε mean_c(-log p[c]).
 */
export function crossEntropyFromLogProbs(logp: tf.Tensor2D, labels: tf.Tensor1D, labelSmoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const onehot = tf.oneHot(tf.cast(labels, 'int32'), logp.shape[1]).toFloat();
    const nll = tf.neg(tf.sum(tf.mul(logp, onehot), 1));
    if (labelSmoothing === 0) return tf.mean(nll) as tf.Scalar;
    const smooth = tf.neg(tf.mean(logp, 1));
    return tf.mean(tf.add(tf.mul(nll, 1 - labelSmoothing), tf.mul(smooth, labelSmoothing))) as tf.Scalar;
  });
}
