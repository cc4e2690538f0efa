// `workstation predict`: class probabilities of images under a checkpoint's model, in eval mode
// (BN running statistics). The caller hands in images already put through the run's validation
// transform (uint8 RGB, size × size; the data layer does the decoding); here they are scaled to
// [0, 1], normalised with the run's mean/std (exactly what validation feeds the model), run
// through the model in small batches, and turned into logits, softmax probabilities and the top k.
import * as tf from '@tensorflow/tfjs';
import type { NormalizeParams } from '../../../src-shared/config/augment';
import { WorkstationError } from '../../../src-shared/errors';
import { prepareImages } from '../augment/prepare-batch';
import type { NamedArray } from '../checkpoint-file';
import { createModel, type Model } from '../models/index';
import type { ClassInfo } from './checkpoint-safetensors';

export interface PredictImage {
  /** how the image is named in the output (its path) */
  image: string;
  /** uint8 RGB HWC, size × size */
  pixels: Uint8Array;
}

export interface TopClass {
  classIndex: number;
  wnid: string | null;
  name: string | null;
  prob: number;
}

export interface Prediction {
  image: string;
  top: TopClass[];
  logits: number[];
}

const BATCH = 8;

/** A model with a checkpoint's weights (variables in model order, as checkpoint files hold them). */
export function modelFromArrays(cfg: { numClasses: number; widthMultiplier: number }, arrays: readonly NamedArray[]): Model {
  const model = createModel({ arch: 'resnet50', numClasses: cfg.numClasses, widthMultiplier: cfg.widthMultiplier }, 0);
  model.vars.forEach((v, i) => {
    const a = arrays[i];
    if (!a || a.name !== v.name)
      throw new WorkstationError('CHECKPOINT_MISMATCH', `variable ${i} is ${a?.name ?? 'missing'}, the model expects ${v.name}`, { field: v.name });
    const t = tf.tensor(a.data, v.shape, 'float32');
    v.variable.assign(t);
    t.dispose();
  });
  return model;
}

/** Softmax in double precision (probabilities of near-tied logits stay ordered as the logits). */
function softmax(logits: Float32Array): number[] {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

export function predictImages(
  model: Model,
  images: readonly PredictImage[],
  o: { size: number; normalize: NormalizeParams; classes: readonly ClassInfo[] | null; top: number },
): Prediction[] {
  const bytes = o.size * o.size * 3;
  for (const im of images)
    if (im.pixels.length !== bytes)
      throw new WorkstationError('INVALID_ARGUMENT', `${im.image}: expected ${o.size}×${o.size} RGB pixels (${bytes} bytes), got ${im.pixels.length}`, {
        path: im.image,
      });
  const k = Math.max(1, Math.min(Math.floor(o.top), model.numClasses));
  const out: Prediction[] = [];
  for (let s = 0; s < images.length; s += BATCH) {
    const chunk = images.slice(s, s + BATCH);
    const batch = new Uint8Array(chunk.length * bytes);
    chunk.forEach((im, i) => batch.set(im.pixels, i * bytes));
    const logits = tf.tidy(() => model.forward(prepareImages(batch, [chunk.length, o.size, o.size], null, o.normalize), false));
    const values = logits.dataSync() as Float32Array;
    logits.dispose();
    chunk.forEach((im, i) => {
      const row = values.subarray(i * model.numClasses, (i + 1) * model.numClasses);
      const probs = softmax(row);
      const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || row[b] - row[a] || a - b);
      out.push({
        image: im.image,
        top: order.slice(0, k).map((c) => ({ classIndex: c, wnid: o.classes?.[c]?.wnid ?? null, name: o.classes?.[c]?.name ?? null, prob: probs[c] })),
        logits: Array.from(row),
      });
    });
  }
  return out;
}
