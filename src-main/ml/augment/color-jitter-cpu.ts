// ColorJitter as a plain loop over a Float32Array, for tfjs's pure-JS 'cpu' backend: there the
// batched ops path is dominated by generic broadcasting and channel split/concat kernels that walk
// every element through index arithmetic (≈ 8 s for 32×224×224 vs ≈ 0.1 s here), while the pixels
// already live in JS memory. Same definitions as color-jitter-ops.ts (torchvision's adjust_*), each
// op's result stored as float32 like a tensor op; both paths are checked against the same golden
// outputs.
import { GRAY_WEIGHTS, isIdentityOp, type JitterDraw } from './color-jitter-draw';

const [WR, WG, WB] = GRAY_WEIGHTS;
const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

function brightness(px: Float32Array, f: number): void {
  for (let i = 0; i < px.length; i++) px[i] = clamp01(f * px[i]);
}

function contrast(px: Float32Array, f: number): void {
  let sum = 0;
  for (let i = 0; i < px.length; i += 3) sum += Math.fround(WR * px[i] + WG * px[i + 1] + WB * px[i + 2]);
  const blend = (1 - f) * Math.fround(sum / (px.length / 3));
  for (let i = 0; i < px.length; i++) px[i] = clamp01(f * px[i] + blend);
}

function saturation(px: Float32Array, f: number): void {
  const g = 1 - f;
  for (let i = 0; i < px.length; i += 3) {
    const gray = g * Math.fround(WR * px[i] + WG * px[i + 1] + WB * px[i + 2]);
    px[i] = clamp01(f * px[i] + gray);
    px[i + 1] = clamp01(f * px[i + 1] + gray);
    px[i + 2] = clamp01(f * px[i + 2] + gray);
  }
}

/** torchvision _rgb2hsv → shift → _hsv2rgb, per pixel. */
function hue(px: Float32Array, shift: number): void {
  for (let i = 0; i < px.length; i += 3) {
    const r = px[i];
    const g = px[i + 1];
    const b = px[i + 2];
    const maxc = Math.max(r, g, b);
    const minc = Math.min(r, g, b);
    const eqc = maxc === minc;
    const cr = maxc - minc;
    const s = Math.fround(cr / (eqc ? 1 : maxc));
    const d = eqc ? 1 : cr;
    const rc = (maxc - r) / d;
    const gc = (maxc - g) / d;
    const bc = (maxc - b) / d;
    const h6 = maxc === r ? bc - gc : maxc === g ? 2 + rc - bc : 4 + gc - rc;
    let h = Math.fround((h6 / 6 + 1) % 1);
    h = Math.fround(h + shift);
    h = Math.fround(h - Math.floor(h)); // Python-style % 1.0 (floor mod)
    const hh = Math.fround(h * 6);
    const sector = Math.floor(hh);
    const f = Math.fround(hh - sector);
    const v = maxc;
    const p = Math.fround(clamp01(v * (1 - s)));
    const q = Math.fround(clamp01(v * (1 - s * f)));
    const t = Math.fround(clamp01(v * (1 - s * (1 - f))));
    switch (sector % 6) {
      case 0: px[i] = v; px[i + 1] = t; px[i + 2] = p; break; // prettier-ignore
      case 1: px[i] = q; px[i + 1] = v; px[i + 2] = p; break; // prettier-ignore
      case 2: px[i] = p; px[i + 1] = v; px[i + 2] = t; break; // prettier-ignore
      case 3: px[i] = p; px[i + 1] = q; px[i + 2] = v; break; // prettier-ignore
      case 4: px[i] = t; px[i + 1] = p; px[i + 2] = v; break; // prettier-ignore
      default: px[i] = v; px[i + 1] = p; px[i + 2] = q; // prettier-ignore
    }
  }
}

/**
 * Applies each sample's draw in place to `data` (N×H×W×3 floats in [0, 1], HWC per sample);
 * `pixels` = H×W per sample.
 */
export function jitterPixels(data: Float32Array, pixels: number, draws: readonly JitterDraw[]): void {
  const len = pixels * 3;
  draws.forEach((d, k) => {
    if (!d.applied) return;
    const px = data.subarray(k * len, (k + 1) * len);
    for (const op of d.order) {
      if (isIdentityOp(op, d)) continue;
      if (op === 'brightness') brightness(px, d.brightness);
      else if (op === 'contrast') contrast(px, d.contrast);
      else if (op === 'saturation') saturation(px, d.saturation);
      else hue(px, d.hue);
    }
  });
}
