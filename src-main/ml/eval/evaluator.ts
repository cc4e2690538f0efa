// The streaming evaluator: a checkpoint's model in eval mode (BN running statistics) over every
// batch of a split, as the batch source delivers them (decoded in the worker pool, a few batches
// ahead). Loss, top-1 and top-5 go through the same device-side accumulator, ops and order as the
// trainer's validation (validate.ts), so on the same batches they come out identical; per image it
// reads back only the top-5 indices and two probabilities (predicted and true class) and tallies
// them into bounded accumulators — per-class counts, sparse confusion counts and the top mistakes
// per class — so a 50,000-image set never has all its predictions in memory. Cancellation
// (AbortSignal) is checked between batches.
import * as tf from '@tensorflow/tfjs';
import type { EvalClass, EvalConfusion, EvalMistake } from '../../../src-shared/api/schemas';
import type { BatchSource, Split } from '../../../src-shared/batch-source';
import type { NormalizeParams } from '../../../src-shared/config/augment';
import { WorkstationError } from '../../../src-shared/errors';
import { prepareImages } from '../augment/prepare-batch';
import { createMetricAccumulator, topKCorrect } from '../metrics';
import { ClassStats, type ClassInfo } from './class-stats';
import { ConfusionCounts } from './confusion-counts';
import { TopMistakes } from './top-mistakes';
import { ttaOutputs, type ScoringModel, type Tta } from './tta';

export const DEFAULT_MISTAKES_PER_CLASS = 16;

export interface EvalProgress {
  /** batches done, of `steps` */
  step: number;
  steps: number;
  images: number;
  totalImages: number | null;
  seconds: number;
  imagesPerSec: number | null;
  etaSeconds: number | null;
  /** top-1 so far (percent), null before the first image */
  top1: number | null;
}

export interface EvaluateOptions {
  model: ScoringModel;
  source: BatchSource;
  /** the split of the source to read (its validation transform applies to either); default 'val' */
  split?: Split;
  normalize: NormalizeParams;
  /** the run's label smoothing, so the loss is the one its validation reports */
  labelSmoothing: number;
  tta: Tta;
  /** the model's classes (wnid + name; its training dataset's, in class-index order), or null when unknown */
  classes: readonly ClassInfo[] | null;
  /** the label range when `classes` is null */
  numLabels?: number;
  /** absolute path of a sample (for the mistakes gallery) */
  filePath(sampleId: number): string;
  totalImages?: number | null;
  /** mistakes kept per class (default DEFAULT_MISTAKES_PER_CLASS) */
  mistakesPerClass?: number;
  /** dataset label → model class, when the evaluated dataset's class order is not the model's; every index (per-class rows, confusions, mistakes) is a model class */
  labelMap?: ArrayLike<number> | null;
  signal?: AbortSignal;
  onProgress?(p: EvalProgress): void;
  /** progress at most this often (default 500 ms), and after the last batch */
  progressIntervalMs?: number;
}

export interface EvalOutcome {
  images: number;
  loss: number | null;
  top1: number | null;
  top5: number | null;
  steps: number;
  seconds: number;
  perClass: EvalClass[];
  confusions: EvalConfusion[];
  mistakes: EvalMistake[];
  mistakesPerClass: number;
}

/** Evaluates every batch of the split; 'cancelled' when the signal fired first (nothing partial is returned). */
export async function evaluate(o: EvaluateOptions): Promise<EvalOutcome | 'cancelled'> {
  const split = o.split ?? 'val';
  const outputs = o.model.numClasses;
  const numLabels = o.classes?.length ?? o.numLabels ?? outputs;
  if (numLabels > outputs)
    throw new WorkstationError('INVALID_ARGUMENT', `the dataset has ${numLabels} classes but the model only ${outputs} outputs`, { field: 'classes' });
  const k = Math.min(5, outputs);
  const perClassK = o.mistakesPerClass ?? DEFAULT_MISTAKES_PER_CLASS;
  const stats = new ClassStats(numLabels);
  const confusions = new ConfusionCounts(Math.max(outputs, numLabels));
  const mistakes = new TopMistakes(perClassK);
  const steps = o.source.stepsPerEpoch(split);
  const acc = createMetricAccumulator();
  const t0 = performance.now();
  const every = o.progressIntervalMs ?? 500;
  let lastReport = -Infinity;
  let step = 0;
  let images = 0;
  let top1Hits = 0;
  const report = (force: boolean) => {
    const now = performance.now();
    if (!o.onProgress || (!force && now - lastReport < every)) return;
    lastReport = now;
    const seconds = (now - t0) / 1000;
    const rate = seconds > 0 && images > 0 ? images / seconds : null;
    const total = o.totalImages ?? null;
    const left = total !== null ? Math.max(0, total - images) : null;
    const eta = rate === null ? null : left !== null ? left / rate : step > 0 ? ((steps - step) * seconds) / step : null;
    o.onProgress({
      step,
      steps,
      images,
      totalImages: total,
      seconds,
      imagesPerSec: rate,
      etaSeconds: eta,
      top1: images > 0 ? (100 * top1Hits) / images : null,
    });
  };
  try {
    report(true);
    for await (const batch of o.source.batches(split, 1)) {
      if (o.signal?.aborted) return 'cancelled';
      const n = batch.n;
      // the model's class of each image (the dataset's own label unless its class order differs)
      const labelsArr = o.labelMap ? Int32Array.from(batch.labels, (l) => o.labelMap![l]) : batch.labels;
      const x = prepareImages(batch.images, [n, batch.height, batch.width], null, o.normalize);
      let top: Int32Array;
      let probs: Float32Array;
      try {
        const out = tf.tidy(() => {
          const labels = tf.tensor1d(labelsArr, 'int32');
          const r = ttaOutputs(o.model, x, labels, o.labelSmoothing, o.tta);
          // the trainer's validation metric, op for op
          acc.add(r.loss, topKCorrect(r.scores, labels), n);
          const indices = tf.topk(r.scores, k).indices;
          const pred = tf.reshape(tf.slice(indices, [0, 0], [-1, 1]), [-1]) as tf.Tensor1D;
          const predProb = tf.sum(tf.mul(r.probs, tf.oneHot(pred, outputs).toFloat()), 1);
          const trueProb = tf.sum(tf.mul(r.probs, tf.oneHot(labels, outputs).toFloat()), 1);
          return { indices, probs: tf.stack([predProb, trueProb]) };
        });
        try {
          top = (await out.indices.data()) as Int32Array;
          probs = (await out.probs.data()) as Float32Array;
        } finally {
          tf.dispose([out.indices, out.probs]);
        }
      } finally {
        x.dispose();
      }
      for (let i = 0; i < n; i++) {
        const truth = labelsArr[i];
        const row = top.subarray(i * k, (i + 1) * k);
        const pred = row[0];
        const hit1 = pred === truth;
        stats.add(truth, hit1, row.includes(truth));
        if (hit1) top1Hits++;
        else {
          confusions.add(truth, pred);
          const confidence = probs[i];
          if (mistakes.wants(truth, confidence))
            mistakes.offer({
              classIndex: truth,
              predicted: pred,
              confidence,
              trueProb: probs[n + i],
              path: o.filePath(batch.sampleIds[i]),
              sampleId: batch.sampleIds[i],
            });
        }
      }
      images += n;
      step++;
      report(step === steps);
    }
    if (o.signal?.aborted) return 'cancelled';
    const m = acc.read();
    return {
      images: m.samples,
      loss: m.samples > 0 ? m.loss : null,
      top1: m.samples > 0 ? m.top1 : null,
      top5: m.samples > 0 ? m.top5 : null,
      steps: step,
      seconds: (performance.now() - t0) / 1000,
      perClass: stats.rows(o.classes),
      confusions: confusions.list(),
      mistakes: mistakes.list(),
      mistakesPerClass: perClassK,
    };
  } finally {
    acc.dispose();
  }
}
