// ColorJitter as batched tfjs ops (the path for tfjs-node / tfjs-node-gpu): per-sample factors as
// [N,1,1,1] tensors, samples grouped by op order. Op definitions transcribe
// torchvision.transforms.functional_tensor (adjust_brightness/contrast/saturation/hue, _blend,
// _rgb2hsv, _hsv2rgb) in the same evaluation order.
import * as tf from '@tensorflow/tfjs';
import { GRAY_WEIGHTS, isIdentityOp, JITTER_OPS, type JitterDraw, type JitterOp } from './color-jitter-draw';

function perSample(values: number[]): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from(values), [values.length, 1, 1, 1]);
}

/** torchvision _blend: ratio·a + (1 − ratio)·b, clamped to [0, 1]. (1 − ratio) is formed in double, as in Python. */
function blend(a: tf.Tensor4D, b: tf.Tensor, ratio: number[]): tf.Tensor4D {
  const r = perSample(ratio);
  const rc = perSample(ratio.map((v) => 1 - v));
  return tf.clipByValue(tf.add(tf.mul(r, a), tf.mul(rc, b)), 0, 1) as tf.Tensor4D;
}

/** [N,H,W,3] → [N,H,W,1], torchvision rgb_to_grayscale (same evaluation order). */
export function grayscale(x: tf.Tensor4D): tf.Tensor4D {
  const [r, g, b] = tf.split(x, 3, 3);
  return tf.add(tf.add(tf.mul(r, GRAY_WEIGHTS[0]), tf.mul(g, GRAY_WEIGHTS[1])), tf.mul(b, GRAY_WEIGHTS[2])) as tf.Tensor4D;
}

/** torchvision _rgb2hsv on NHWC: returns h, s, v as [N,H,W,1] each. */
function rgbToHsv(x: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
  const [r, g, b] = tf.split(x, 3, 3) as tf.Tensor4D[];
  const maxc = tf.max(x, 3, true) as tf.Tensor4D;
  const minc = tf.min(x, 3, true);
  // maxc == minc (gray pixels) would divide by zero; torchvision replaces the divisors by 1 there.
  const eqc = tf.equal(maxc, minc);
  const cr = tf.sub(maxc, minc);
  const ones = tf.onesLike(maxc);
  const s = tf.div(cr, tf.where(eqc, ones, maxc)) as tf.Tensor4D;
  const crDivisor = tf.where(eqc, ones, cr);
  const rc = tf.div(tf.sub(maxc, r), crDivisor);
  const gc = tf.div(tf.sub(maxc, g), crDivisor);
  const bc = tf.div(tf.sub(maxc, b), crDivisor);
  const isR = tf.equal(maxc, r);
  const isG = tf.equal(maxc, g);
  const hr = tf.mul(tf.cast(isR, 'float32'), tf.sub(bc, gc));
  const hg = tf.mul(tf.cast(tf.logicalAnd(isG, tf.logicalNot(isR)), 'float32'), tf.sub(tf.add(rc, 2), bc));
  const hb = tf.mul(tf.cast(tf.logicalAnd(tf.logicalNot(isG), tf.logicalNot(isR)), 'float32'), tf.sub(tf.add(gc, 4), rc));
  const h = tf.add(tf.add(hr, hg), hb);
  // torch.fmod(h / 6 + 1, 1): the argument is positive, so floor-mod gives the same result.
  const hue = tf.mod(tf.add(tf.div(h, 6), 1), 1) as tf.Tensor4D;
  return [hue, s, maxc];
}

/** torchvision _hsv2rgb on [N,H,W,1] planes → [N,H,W,3]. */
function hsvToRgb(h: tf.Tensor4D, s: tf.Tensor4D, v: tf.Tensor4D): tf.Tensor4D {
  const h6 = tf.mul(h, 6);
  const i = tf.floor(h6);
  const f = tf.sub(h6, i);
  const one = tf.scalar(1);
  const p = tf.clipByValue(tf.mul(v, tf.sub(one, s)), 0, 1);
  const q = tf.clipByValue(tf.mul(v, tf.sub(one, tf.mul(s, f))), 0, 1);
  const t = tf.clipByValue(tf.mul(v, tf.sub(one, tf.mul(s, tf.sub(one, f)))), 0, 1);
  const sector = tf.mod(i, 6);
  const masks = [0, 1, 2, 3, 4, 5].map((k) => tf.equal(sector, k));
  // torchvision selects with a one-hot einsum; a where-chain picks exactly the same values.
  const pick = (vals: tf.Tensor[]) => vals.reduceRight((acc, val, k) => tf.where(masks[k], val, acc));
  const red = pick([v, q, p, p, t, v]);
  const green = pick([t, v, v, q, p, p]);
  const blue = pick([p, p, t, v, v, q]);
  return tf.concat([red, green, blue], 3) as tf.Tensor4D;
}

function adjustHue(x: tf.Tensor4D, shift: number[]): tf.Tensor4D {
  const [h, s, v] = rgbToHsv(x);
  const shifted = tf.mod(tf.add(h, perSample(shift)), 1) as tf.Tensor4D;
  const out = hsvToRgb(shifted, s, v);
  // A zero shift means "hue off" (torchvision skips the op, which is not an exact no-op in HSV).
  if (shift.every((v) => v !== 0)) return out;
  return tf.where(
    tf.tensor4d(
      shift.map((v) => (v === 0 ? 1 : 0)),
      [shift.length, 1, 1, 1],
      'bool',
    ),
    x,
    out,
  ) as tf.Tensor4D;
}

function applyOp(op: JitterOp, x: tf.Tensor4D, draws: JitterDraw[]): tf.Tensor4D {
  const values = draws.map((d) => d[op]);
  switch (op) {
    case 'brightness':
      // _blend(img, zeros, f) = f·img clamped.
      return tf.clipByValue(tf.mul(x, perSample(values)), 0, 1) as tf.Tensor4D;
    case 'contrast':
      return blend(x, tf.mean(grayscale(x), [1, 2, 3], true), values);
    case 'saturation':
      return blend(x, grayscale(x), values);
    case 'hue':
      return adjustHue(x, values);
  }
}

/**
 * Applies each sample's drawn jitter to a [N,H,W,3] float batch in [0, 1] (shapes checked by the
 * caller) and returns a new tensor. Samples are grouped by op order, so each op runs once per
 * sample rather than once per possible op at every position.
 */
export function applyColorJitterOps(x: tf.Tensor4D, draws: readonly JitterDraw[]): tf.Tensor4D {
  const n = x.shape[0];
  return tf.tidy(() => {
    const passthrough: number[] = [];
    const groups = new Map<string, number[]>();
    draws.forEach((d, i) => {
      if (!d.applied || JITTER_OPS.every((op) => isIdentityOp(op, d))) {
        passthrough.push(i);
        return;
      }
      const key = d.order.join(',');
      const g = groups.get(key);
      if (g) g.push(i);
      else groups.set(key, [i]);
    });
    if (groups.size === 0) return tf.clone(x);
    const parts: tf.Tensor4D[] = [];
    const placed: number[] = [];
    const take = (idx: number[]) => (idx.length === n ? x : (tf.gather(x, tf.tensor1d(idx, 'int32')) as tf.Tensor4D));
    if (passthrough.length > 0) {
      parts.push(take(passthrough));
      placed.push(...passthrough);
    }
    for (const idx of groups.values()) {
      const groupDraws = idx.map((i) => draws[i]);
      let y = take(idx);
      for (const op of groupDraws[0].order) {
        if (groupDraws.every((d) => isIdentityOp(op, d))) continue;
        y = applyOp(op, y, groupDraws);
      }
      parts.push(y);
      placed.push(...idx);
    }
    const joined = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor4D);
    if (placed.every((src, pos) => src === pos)) return joined;
    const inverse = new Int32Array(n);
    placed.forEach((src, pos) => (inverse[src] = pos));
    return tf.gather(joined, tf.tensor1d(inverse, 'int32')) as tf.Tensor4D;
  });
}
