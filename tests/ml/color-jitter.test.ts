// ColorJitter + Normalize on the tensor side: golden outputs from torchvision 0.14
// (scripts/golden/color_jitter.py), the draw distribution, batching independence and tensor hygiene,
// on every training path (tests/ml/kernel-paths.ts: each backend, the stand-in 'tensorflow', fused
// kernels and the composite path).
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { AugmentSchema, ColorJitterSchema } from '../../src-shared/config/augment';
import type { Batch } from '../../src-shared/batch-source';
import { createRng } from '../../src-shared/random';
import { DrawnParamsSchema } from '../../src-shared/api/schemas';
import { applyColorJitter, applyColorJitterCpu, applyColorJitterOps, drawJitter, JITTER_OPS, type JitterDraw } from '../../src-main/ml/augment/color-jitter';
import { denormalizeToUint8 } from '../../src-main/ml/augment/normalize';
import { drawBatchJitter, prepareBatch, prepareImages } from '../../src-main/ml/augment/prepare-batch';
import { hasKernels } from '../../src-main/ml/kernels/registry';
import { WS_COLOR_JITTER } from '../../src-main/ml/kernels/names';
import type { TestBackend } from '../helpers/backends';
import { describeEachPath } from './kernel-paths';

interface GoldenCase {
  name: string;
  image: number;
  draw: JitterDraw;
  expected: number[];
  normalized?: number[];
}
interface Golden {
  height: number;
  width: number;
  mean: [number, number, number];
  std: [number, number, number];
  images: { source: string; hwc: number[] }[];
  cases: GoldenCase[];
}

const golden: Golden = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/golden/color-jitter.json'), 'utf8'));
const { height: H, width: W } = golden;

function input(indices: number[]): tf.Tensor4D {
  const data = new Uint8Array(indices.length * H * W * 3);
  indices.forEach((img, k) => data.set(golden.images[img].hwc, k * H * W * 3));
  return tf.tidy(() => tf.div(tf.cast(tf.tensor4d(data, [indices.length, H, W, 3], 'int32'), 'float32'), 255) as tf.Tensor4D);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const usesHue = (c: GoldenCase) => c.draw.applied && c.draw.hue !== 0;

/** Tolerance scale per backend: cpu as tuned; libtensorflow's float32 reductions sum in another order. */
const TOL_SCALE: Record<TestBackend, number> = { cpu: 1, tensorflow: 4 };

// Both implementations: batched tfjs ops (what runs on tfjs-node / tfjs-node-gpu) and the loop used
// on tfjs's pure-JS cpu backend.
const IMPLEMENTATIONS = { 'tfjs ops': applyColorJitterOps, 'cpu loop': applyColorJitterCpu } as const;

describeEachPath('golden: torchvision adjust_* and ColorJitter.forward', (path) => {
  const scale = TOL_SCALE[path.tolerances];
  const opts = { fusedKernels: path.fusedKernels };

  it('has the fixture cases it should have', () => {
    expect(golden.cases.length).toBeGreaterThanOrEqual(15);
    expect(golden.cases.some((c) => c.name.startsWith('torchvision ColorJitter forward'))).toBe(true);
  });

  for (const [implName, apply] of Object.entries(IMPLEMENTATIONS)) {
    for (const c of golden.cases) {
      it(`${implName}: ${c.name}`, () => {
        const before = tf.memory().numTensors;
        const x = input([c.image]);
        const y = apply(x, [c.draw]);
        const diff = maxAbsDiff(y.dataSync(), c.expected);
        x.dispose();
        y.dispose();
        expect(tf.memory().numTensors).toBe(before);
        // Hue goes through HSV with divisions: float32 results differ in the last bits.
        expect(diff).toBeLessThan(scale * (usesHue(c) ? 1e-4 : 1e-5));
      });
    }

    it(`${implName}: all cases in one batch give the same results (grouping by op order, passthrough, reassembly)`, () => {
      const x = input(golden.cases.map((c) => c.image));
      const y = apply(
        x,
        golden.cases.map((c) => c.draw),
      );
      const out = y.dataSync();
      golden.cases.forEach((c, k) => {
        const diff = maxAbsDiff(out.subarray(k * H * W * 3, (k + 1) * H * W * 3), c.expected);
        expect(diff, c.name).toBeLessThan(scale * (usesHue(c) ? 1e-4 : 1e-5));
      });
      tf.dispose([x, y]);
    });
  }

  it('the two implementations agree closely on a random batch with random draws', () => {
    const n = 24;
    const x = tf.randomUniform([n, 10, 14, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const params = { brightness: 0.6, contrast: 0.6, saturation: 0.6, hue: 0.4, p: 0.8 };
    const draws = Array.from({ length: n }, (_, i) => drawJitter(params, createRng(99, i)));
    const a = applyColorJitterOps(x, draws);
    const b = applyColorJitterCpu(x, draws);
    expect(maxAbsDiff(a.dataSync(), b.dataSync())).toBeLessThan(scale * 1e-4);
    // dispatch: the WsColorJitter kernel (the loop) where the backend registers one, else the batched ops
    const c = applyColorJitter(x, draws, opts);
    const kernel = path.fusedKernels && hasKernels([WS_COLOR_JITTER]);
    expect(kernel).toBe(path.fusedKernels && path.backend === 'cpu');
    expect(maxAbsDiff(c.dataSync(), (kernel ? b : a).dataSync())).toBe(0);
    tf.dispose([x, a, b, c]);
  });

  it('prepareImages (÷255, jitter, Normalize) matches torchvision F.normalize of the jittered image', () => {
    const cases = golden.cases.filter((c) => c.normalized);
    expect(cases.length).toBeGreaterThanOrEqual(4);
    const data = new Uint8Array(cases.length * H * W * 3);
    cases.forEach((c, k) => data.set(golden.images[c.image].hwc, k * H * W * 3));
    const before = tf.memory().numTensors;
    const y = prepareImages(
      data,
      [cases.length, H, W],
      cases.map((c) => c.draw),
      { mean: golden.mean, std: golden.std },
      opts,
    );
    const out = y.dataSync();
    cases.forEach((c, k) => {
      const diff = maxAbsDiff(out.subarray(k * H * W * 3, (k + 1) * H * W * 3), c.normalized!);
      expect(diff, c.name).toBeLessThan(scale * (usesHue(c) ? 5e-4 : 5e-5)); // ÷ std ≈ 4.4 scales the error
    });
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('drawJitter', () => {
  const seedParams = ColorJitterSchema.parse({});

  it('draws factors in torchvision ranges, a permutation of the four ops, and applies with probability p', () => {
    const n = 4000;
    let applied = 0;
    const firstOp = new Map<string, number>();
    const lo = { brightness: 1, contrast: 1, saturation: 1, hue: 0 };
    const hi = { brightness: 1, contrast: 1, saturation: 1, hue: 0 };
    for (let i = 0; i < n; i++) {
      const d = drawJitter(seedParams, createRng(7, 5, 1, i));
      if (d.applied) applied++;
      expect([...d.order].sort()).toEqual([...JITTER_OPS].sort());
      firstOp.set(d.order[0], (firstOp.get(d.order[0]) ?? 0) + 1);
      for (const op of JITTER_OPS) {
        lo[op] = Math.min(lo[op], d[op]);
        hi[op] = Math.max(hi[op], d[op]);
      }
      expect(DrawnParamsSchema.shape.jitter.parse(d)).toEqual(d);
    }
    expect(applied / n).toBeGreaterThan(0.46);
    expect(applied / n).toBeLessThan(0.54);
    for (const op of JITTER_OPS) expect(firstOp.get(op)! / n).toBeGreaterThan(0.2); // uniform: 0.25 each
    for (const op of ['brightness', 'contrast', 'saturation'] as const) {
      expect(lo[op]).toBeGreaterThanOrEqual(0.8);
      expect(lo[op]).toBeLessThan(0.81);
      expect(hi[op]).toBeLessThan(1.2);
      expect(hi[op]).toBeGreaterThan(1.19);
    }
    expect(lo.hue).toBeGreaterThanOrEqual(-0.05);
    expect(lo.hue).toBeLessThan(-0.049);
    expect(hi.hue).toBeLessThan(0.05);
    expect(hi.hue).toBeGreaterThan(0.049);
  });

  it('clips the lower bound at 0 (brightness 1.5 → [0, 2.5]) and p = 0 / p = 1 are exact', () => {
    const p = ColorJitterSchema.parse({ brightness: 1.5, p: 1 });
    let min = Infinity;
    for (let i = 0; i < 500; i++) {
      const d = drawJitter(p, createRng(1, i));
      expect(d.applied).toBe(true);
      expect(d.brightness).toBeGreaterThanOrEqual(0);
      expect(d.brightness).toBeLessThan(2.5);
      min = Math.min(min, d.brightness);
      expect(drawJitter({ ...p, p: 0 }, createRng(1, i)).applied).toBe(false);
    }
    expect(min).toBeLessThan(0.05);
  });

  it('all ranges zero → identity factors', () => {
    const d = drawJitter({ brightness: 0, contrast: 0, saturation: 0, hue: 0, p: 1 }, createRng(3));
    expect([d.brightness, d.contrast, d.saturation, d.hue]).toEqual([1, 1, 1, 0]);
  });
});

describeEachPath('prepareBatch', (path) => {
  const augment = AugmentSchema.parse({ colorJitter: { p: 1, brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 } });
  const size = 8;
  const pixels = (n: number, offset: number) => Uint8Array.from({ length: n * size * size * 3 }, (_, i) => (i * 37 + offset * 101 + ((i * i) % 13)) % 256);
  const batchOf = (ids: number[], images: Uint8Array, epoch = 2): Batch => ({
    split: 'train',
    epoch,
    index: 0,
    n: ids.length,
    height: size,
    width: size,
    images,
    labels: new Int32Array(ids.length),
    sampleIds: Int32Array.from(ids),
  });
  const sample = (images: Uint8Array, k: number) => images.subarray(k * size * size * 3, (k + 1) * size * size * 3);

  it('a sample gets the same jitter whatever batch it is in (randomness from seed, epoch, sampleId)', () => {
    const a = pixels(4, 0);
    // Same four samples, reordered and split into two batches.
    const b1 = new Uint8Array(2 * size * size * 3);
    b1.set(sample(a, 3), 0);
    b1.set(sample(a, 1), size * size * 3);
    const whole = prepareBatch(batchOf([10, 11, 12, 13], a), { train: true, augment, seed: 5, fusedKernels: path.fusedKernels });
    const part = prepareBatch(batchOf([13, 11], b1), { train: true, augment, seed: 5, fusedKernels: path.fusedKernels });
    const w = whole.dataSync();
    const p = part.dataSync();
    const len = size * size * 3;
    expect(maxAbsDiff(p.subarray(0, len), w.subarray(3 * len, 4 * len))).toBe(0);
    expect(maxAbsDiff(p.subarray(len, 2 * len), w.subarray(len, 2 * len))).toBe(0);
    tf.dispose([whole, part]);
  });

  it('train batches are jittered (seed- and epoch-dependent), validation batches only normalised', () => {
    const img = pixels(3, 1);
    const before = tf.memory().numTensors;
    const val = prepareBatch({ ...batchOf([0, 1, 2], img), split: 'val' }, { train: false, augment, seed: 5, fusedKernels: path.fusedKernels });
    const t1 = prepareBatch(batchOf([0, 1, 2], img), { train: true, augment, seed: 5, fusedKernels: path.fusedKernels });
    const t2 = prepareBatch(batchOf([0, 1, 2], img), { train: true, augment, seed: 6, fusedKernels: path.fusedKernels });
    const t3 = prepareBatch(batchOf([0, 1, 2], img, 3), { train: true, augment, seed: 5, fusedKernels: path.fusedKernels });
    const t1again = prepareBatch(batchOf([0, 1, 2], img), { train: true, augment, seed: 5, fusedKernels: path.fusedKernels });
    expect(val.shape).toEqual([3, size, size, 3]);
    expect(val.dtype).toBe('float32');
    // Validation: exactly (x/255 − mean)/std; de-normalising gives the input back.
    expect(Array.from(denormalizeToUint8(val, augment.normalize))).toEqual(Array.from(img));
    const v = val.dataSync();
    const { mean, std } = augment.normalize;
    for (let i = 0; i < 30; i++) expect(v[i]).toBeCloseTo((img[i] / 255 - mean[i % 3]) / std[i % 3], 5);
    expect(maxAbsDiff(t1.dataSync(), val.dataSync())).toBeGreaterThan(0.05);
    expect(maxAbsDiff(t1.dataSync(), t2.dataSync())).toBeGreaterThan(0.05);
    expect(maxAbsDiff(t1.dataSync(), t3.dataSync())).toBeGreaterThan(0.05);
    expect(maxAbsDiff(t1.dataSync(), t1again.dataSync())).toBe(0);
    tf.dispose([val, t1, t2, t3, t1again]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('p = 0 or all-zero ranges: train batches equal validation batches exactly', () => {
    const img = pixels(5, 2);
    const val = prepareBatch(batchOf([0, 1, 2, 3, 4], img), { train: false, augment, seed: 1, fusedKernels: path.fusedKernels });
    for (const colorJitter of [
      { ...augment.colorJitter, p: 0 },
      { brightness: 0, contrast: 0, saturation: 0, hue: 0, p: 1 },
    ]) {
      const t = prepareBatch(batchOf([0, 1, 2, 3, 4], img), { train: true, augment: { ...augment, colorJitter }, seed: 1, fusedKernels: path.fusedKernels });
      expect(maxAbsDiff(t.dataSync(), val.dataSync())).toBe(0);
      t.dispose();
    }
    val.dispose();
  });

  it('the per-sample draws are those drawBatchJitter reports, with the applied flag honoured', () => {
    const img = pixels(6, 3);
    const half = { ...augment, colorJitter: { ...augment.colorJitter, p: 0.5 } };
    const batch = batchOf([20, 21, 22, 23, 24, 25], img);
    const draws = drawBatchJitter(batch, half.colorJitter, 9);
    expect(draws.some((d) => d.applied)).toBe(true);
    expect(draws.some((d) => !d.applied)).toBe(true);
    const t = prepareBatch(batch, { train: true, augment: half, seed: 9, fusedKernels: path.fusedKernels });
    const out = denormalizeToUint8(t, half.normalize);
    draws.forEach((d, k) => {
      const same = maxAbsDiff(sample(out, k), sample(img, k)) === 0;
      expect(same).toBe(!d.applied);
    });
    t.dispose();
  });

  it('rejects a batch whose byte length does not match its shape', () => {
    const bad = batchOf([0, 1], new Uint8Array(10));
    expect(() => prepareBatch(bad, { train: true, augment, seed: 1, fusedKernels: path.fusedKernels })).toThrow(/images hold 10 bytes/);
    expect(() => applyColorJitter(tf.zeros([2, 2, 2, 3]) as tf.Tensor4D, [])).toThrow(/0 draws for a batch of 2/);
  });
});
