// The per-sample randomness of ColorJitter (torchvision semantics) and what a draw means. Drawn on
// the JS side from a seeded stream keyed by the sample, so results do not depend on batching or on
// the backend's RNG; only the drawn factors reach the tensors.
import type { ColorJitterParams } from '../../../src-shared/config/augment';
import { permutation, type Rng } from '../../../src-shared/random';

/** torchvision's fn_idx order: 0 brightness, 1 contrast, 2 saturation, 3 hue. */
export const JITTER_OPS = ['brightness', 'contrast', 'saturation', 'hue'] as const;
export type JitterOp = (typeof JITTER_OPS)[number];

/** What one sample drew; the same shape as DrawnParams.jitter (src-shared/api/schemas.ts). */
export interface JitterDraw {
  /** false: the sample passes through unchanged (probability 1 - p) */
  applied: boolean;
  brightness: number;
  contrast: number;
  saturation: number;
  /** hue shift as a fraction of the hue circle, in [-0.5, 0.5] */
  hue: number;
  /** the order in which the four ops are applied */
  order: JitterOp[];
}

/**
 * Luma weights of torchvision's rgb_to_grayscale (ITU-R 601-2, with R rounded to 0.2989 as in
 * torchvision and TensorFlow). Contrast blends with the per-image mean of this, saturation with it.
 */
export const GRAY_WEIGHTS = [0.2989, 0.587, 0.114] as const;

/**
 * Draws one sample's jitter. Always consumes the same number of values from `rng` (whatever p and
 * the ranges are), so a slider change does not shift the draws of other parameters.
 */
export function drawJitter(p: ColorJitterParams, rng: Rng): JitterDraw {
  const applied = rng.next() < p.p;
  const order = Array.from(permutation(4, rng), (i) => JITTER_OPS[i]);
  const factor = (x: number) => rng.uniform(Math.max(0, 1 - x), 1 + x);
  const brightness = factor(p.brightness);
  const contrast = factor(p.contrast);
  const saturation = factor(p.saturation);
  // -h + 2h·u; `+ 0` turns the -0 of h = 0 into 0 so "no hue shift" prints as 0.
  const hue = rng.uniform(-p.hue, p.hue) + 0;
  return { applied, brightness, contrast, saturation, hue, order };
}

/** torchvision skips an op whose parameter is off; factor 1 / shift 0 are exact identities here. */
export function isIdentityOp(op: JitterOp, d: JitterDraw): boolean {
  return op === 'hue' ? d.hue === 0 : d[op] === 1;
}
