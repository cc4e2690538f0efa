// ResNet-50: torchvision's parameter count, init, variable order, and forward / backward /
// BN running statistics against PyTorch golden values (tests/fixtures/golden/resnet-tiny.json,
// made by scripts/golden/resnet_golden.py from the same closed-form weights). The numeric suites run
// on every training path (tests/ml/kernel-paths.ts): each backend this process has, the stand-in
// 'tensorflow' backend, each with fused kernels and with the composite path.
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { crossEntropy } from '../../src-main/ml/loss';
import { createModel, describeModel } from '../../src-main/ml/models/index';
import type { BnBatchStat } from '../../src-main/ml/models/resnet';
import { modelWeightsSha256 } from '../../src-main/ml/checkpoint';
import { conv2dPadded } from '../../src-main/ml/models/conv';
import { describeEachBackend, type TestBackend } from '../helpers/backends';
import { describeEachPath } from './kernel-paths';

interface Golden {
  widthMultiplier: number;
  numClasses: number;
  batch: number;
  size: number;
  labelSmoothing: number;
  labels: number[];
  varNames: string[];
  trainableParams: number;
  evalLogits: number[];
  trainLogits: number[];
  trainLoss: number;
  grads: Record<string, { absSum: number; first: number[]; torchF32MaxErr: number; torchF32AbsSumErr: number; maxAbs: number }>;
  runningAfterTrainStep: Record<string, number[]>;
}
const golden: Golden = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/golden/resnet-tiny.json'), 'utf8'));

/** The script's pattern: exact rationals in [-0.5, 0.5), Python's modulo semantics. */
function pattern(n: number, k: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = i * 7919 + k * 104729;
    out[i] = (((a % 2003) + 2003) % 2003) / 2003 - 0.5;
  }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tol = atol + rtol * Math.abs(expected[i]);
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) throw new Error(`${what}[${i}]: ${actual[i]} vs torch ${expected[i]} (tol ${tol})`);
  }
}

/**
 * Tolerance scale per backend: the cpu numbers are the ones this file was tuned on; libtensorflow's
 * float32 kernels (Eigen / oneDNN) sum in other orders and blocks, so they get 4× the room.
 */
const TOL_SCALE: Record<TestBackend, number> = { cpu: 1, tensorflow: 4 };

describeEachBackend('ResNet-50 architecture', () => {
  it('has exactly torchvision ResNet-50 parameter counts at 1000 classes (and builds for real)', () => {
    const d = describeModel({ arch: 'resnet50', numClasses: 1000, widthMultiplier: 1 });
    expect(d.trainableParams).toBe(25_557_032);
    // BN running mean + var: 2 × (sum of BN channels)
    expect(d.nonTrainableParams).toBe(53_120);
    const before = tf.memory().numTensors;
    const m = createModel({ arch: 'resnet50', numClasses: 1000, widthMultiplier: 1 }, 0);
    try {
      const sizes = m.vars.filter((v) => v.trainable).reduce((n, v) => n + v.variable.size, 0);
      expect(sizes).toBe(25_557_032);
      expect(m.vars.filter((v) => v.kind === 'conv')).toHaveLength(53);
      // torchvision init: kaiming_normal_(fan_out, relu) on the stem conv
      const stem = m.vars[0].variable.dataSync() as Float32Array;
      const std = Math.sqrt(stem.reduce((s, x) => s + x * x, 0) / stem.length);
      expect(std).toBeGreaterThan(Math.sqrt(2 / (64 * 49)) * 0.95);
      expect(std).toBeLessThan(Math.sqrt(2 / (64 * 49)) * 1.05);
      const fc = m.vars.find((v) => v.name === 'fc.kernel')!.variable.dataSync();
      const bound = 1 / Math.sqrt(2048);
      expect(Math.max(...fc.slice(0, 100000).map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...fc.slice(0, 100000).map(Math.abs))).toBeGreaterThan(bound * 0.99);
      const bnGamma = m.vars.find((v) => v.name === 'bn1.gamma')!.variable.dataSync();
      expect([...bnGamma].every((x) => x === 1)).toBe(true);
      expect([...m.vars.find((v) => v.name === 'bn1.beta')!.variable.dataSync()].every((x) => x === 0)).toBe(true);
    } finally {
      m.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('documents the variable order: forward order, conv kernel / BN gamma, beta, running_mean, running_var / FC kernel, bias', () => {
    const m = createModel({ arch: 'resnet50', numClasses: golden.numClasses, widthMultiplier: golden.widthMultiplier }, 0);
    expect(m.vars.map((v) => v.name)).toEqual(golden.varNames);
    expect(m.trainableParams).toBe(golden.trainableParams);
    m.dispose();
  });

  it('init is deterministic in the seed', () => {
    const a = createModel({ arch: 'resnet50', numClasses: 10, widthMultiplier: 1 / 16 }, 7);
    const b = createModel({ arch: 'resnet50', numClasses: 10, widthMultiplier: 1 / 16 }, 7);
    const c = createModel({ arch: 'resnet50', numClasses: 10, widthMultiplier: 1 / 16 }, 8);
    expect(modelWeightsSha256(a)).toBe(modelWeightsSha256(b));
    expect(modelWeightsSha256(a)).not.toBe(modelWeightsSha256(c));
    [a, b, c].forEach((m) => m.dispose());
  });

  it('takes any input size (global pool) and rejects unknown architectures', () => {
    const m = createModel({ arch: 'resnet50', numClasses: 3, widthMultiplier: 1 / 32 }, 0);
    for (const s of [32, 48, 57]) {
      const y = tf.tidy(() => m.forward(tf.zeros([2, s, s, 3]), false));
      expect(y.shape).toEqual([2, 3]);
      y.dispose();
    }
    m.dispose();
    expect(() => createModel({ arch: 'resnet18' as 'resnet50', numClasses: 3, widthMultiplier: 1 }, 0)).toThrow(/unknown architecture "resnet18"/);
  });
});

describeEachPath('padded convolution', (p) => {
  it("conv2dPadded's output and gradients equal tfjs's own conv2d of the zero-padded input", () => {
    const scale = TOL_SCALE[p.tolerances];
    for (const [n, h, ci, co, kernel, s, pad] of [
      [2, 13, 3, 4, 7, 2, 3],
      [2, 8, 4, 5, 3, 1, 1],
      [3, 7, 4, 6, 3, 2, 1],
      [2, 9, 6, 3, 1, 2, 0],
    ]) {
      const x = tf.randomNormal([n, h, h, ci], 0, 1, 'float32', 1) as tf.Tensor4D;
      const w = tf.randomNormal([kernel, kernel, ci, co], 0, 1, 'float32', 2) as tf.Tensor4D;
      const padded = (a: tf.Tensor) =>
        tf.pad(a, [
          [0, 0],
          [pad, pad],
          [pad, pad],
          [0, 0],
        ]) as tf.Tensor4D;
      // tfjs-node's backprop kernels reject explicit conv padding, so the reference pads as an op
      const ref = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(padded(a), b as tf.Tensor4D, s, 'valid'))))([x, w]);
      expect(tf.getBackend()).toBe(p.backend);
      const fast = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(conv2dPadded(a as tf.Tensor4D, b as tf.Tensor4D, s, pad, p.fusedKernels))))([
        x,
        w,
      ]);
      const y1 = tf.conv2d(padded(x), w, s, 'valid');
      const y2 = conv2dPadded(x, w, s, pad, p.fusedKernels);
      expect(y2.shape).toEqual(y1.shape);
      expectClose(y2.dataSync(), y1.dataSync(), 1e-4 * scale, 1e-4 * scale, `y ${kernel}x${kernel}/${s} pad ${pad}`);
      expectClose(fast[0].dataSync(), ref[0].dataSync(), 1e-3 * scale, 1e-4 * scale, `dx ${kernel}x${kernel}/${s} pad ${pad}`);
      expectClose(fast[1].dataSync(), ref[1].dataSync(), 1e-3 * scale, 1e-4 * scale, `dw ${kernel}x${kernel}/${s} pad ${pad}`);
      tf.dispose([x, w, y1, y2, ...ref, ...fast]);
    }
  });
});

describeEachPath('ResNet-50 matches PyTorch (golden fixture)', (path) => {
  const g = golden;
  const scale = TOL_SCALE[path.tolerances];
  function goldenModel() {
    const m = createModel({ arch: 'resnet50', numClasses: g.numClasses, widthMultiplier: g.widthMultiplier }, 0, { fusedKernels: path.fusedKernels });
    m.vars.forEach((v, k) => {
      const p = pattern(v.variable.size, k);
      const vals = new Float32Array(p.length);
      if (v.kind === 'conv') {
        const [kh, kw, ci] = v.shape;
        const s = 2 / Math.sqrt(ci * kh * kw);
        for (let i = 0; i < p.length; i++) vals[i] = p[i] * s;
      } else if (v.kind === 'fc-kernel') {
        const s = 2 / Math.sqrt(v.shape[0]);
        for (let i = 0; i < p.length; i++) vals[i] = p[i] * s;
      } else if (v.kind === 'fc-bias' || v.kind === 'bn-beta' || v.kind === 'bn-mean') for (let i = 0; i < p.length; i++) vals[i] = 0.2 * p[i];
      else if (v.kind === 'bn-gamma') for (let i = 0; i < p.length; i++) vals[i] = 1 + 0.2 * p[i];
      else for (let i = 0; i < p.length; i++) vals[i] = 1 + (p[i] + 0.5);
      const t = tf.tidy(() => {
        if (v.kind === 'conv') {
          const [kh, kw, ci, co] = v.shape;
          return tf.transpose(tf.tensor4d(vals, [co, ci, kh, kw]), [2, 3, 1, 0]); // OIHW -> HWIO
        }
        if (v.kind === 'fc-kernel') return tf.transpose(tf.tensor2d(vals, [v.shape[1], v.shape[0]])); // [out,in] -> [in,out]
        return tf.tensor(vals, v.shape);
      });
      v.variable.assign(t);
      t.dispose();
    });
    const p = pattern(g.batch * 3 * g.size * g.size, -1);
    const x32 = Float32Array.from(p);
    for (let i = 0; i < x32.length; i++) x32[i] *= 4;
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(x32, [g.batch, 3, g.size, g.size]), [0, 2, 3, 1])) as tf.Tensor4D; // NCHW -> NHWC
    return { m, x };
  }

  it('eval forward, train forward + loss + gradients, and running statistics agree with torch', () => {
    const { m, x } = goldenModel();
    const evalLogits = tf.tidy(() => m.forward(x, false));
    expectClose(evalLogits.dataSync(), g.evalLogits, 1e-4 * scale, 1e-3 * scale, 'eval logits');
    evalLogits.dispose();

    const labels = tf.tensor1d(g.labels, 'int32');
    const stats: BnBatchStat[] = [];
    let logits: tf.Tensor | null = null;
    const trainable = m.vars.filter((v) => v.trainable);
    const { value, grads } = tf.variableGrads(
      () => {
        const out = m.forward(x, true, stats);
        logits = tf.keep(out);
        stats.forEach((s) => (tf.keep(s.mean), tf.keep(s.variance)));
        return crossEntropy(out, labels, g.labelSmoothing);
      },
      trainable.map((v) => v.variable),
    );
    expectClose((logits as unknown as tf.Tensor).dataSync(), g.trainLogits, 1e-4 * scale, 1e-3 * scale, 'train logits');
    expectClose(value.dataSync(), [g.trainLoss], 1e-5 * scale, 1e-4 * scale, 'loss');
    // reference = torch float64; tolerance scaled by torch float32's own error on that tensor
    let compared = 0;
    let tight = 0;
    for (const v of trainable) {
      const want = g.grads[v.name];
      const got = grads[v.variable.name].dataSync() as Float32Array;
      const absSum = got.reduce((s, a) => s + Math.abs(a), 0);
      const floor = 2e-4 * want.maxAbs * scale;
      expectClose([absSum], [want.absSum], scale * (4 * want.torchF32AbsSumErr + 2e-4 * want.absSum), 0, `|grad ${v.name}|`);
      expectClose(got.slice(0, 8), want.first, scale * 4 * want.torchF32MaxErr + floor, 0, `grad ${v.name}`);
      if (want.torchF32MaxErr < 2e-4 * want.maxAbs) tight++;
      compared++;
    }
    // the well-conditioned tail (layer4, fc) is checked to ~1e-4 relative
    expect(tight).toBeGreaterThanOrEqual(20);
    expect(compared).toBe(Object.keys(g.grads).length);
    expect(stats).toHaveLength(53);
    // fused kernels update the running statistics in the forward pass, the composite path after it
    expect(stats.every((s) => s.running === path.fusedKernels)).toBe(true);
    m.updateRunningStats(stats);
    for (const [name, want] of Object.entries(g.runningAfterTrainStep)) {
      expectClose(m.vars.find((v) => v.name === name)!.variable.dataSync(), want, 1e-5 * scale, 1e-4 * scale, name);
    }
    tf.dispose([value, labels, x, logits as unknown as tf.Tensor, ...Object.values(grads)]);
    m.dispose();
  });
});
