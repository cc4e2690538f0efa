// The kernel checks of the self-test (selftest.ts): each workstation kernel of the active backend
// against the composite path (tfjs built-in ops) on the same backend, on seeded random tensors,
// values and gradients. Each check returns the largest error relative to the reference's largest
// magnitude (a norm-wise relative error, so tiny elements do not dominate).
import * as tf from '@tensorflow/tfjs';
import { OptimizerSchema } from '../../src-shared/config/run-config';
import { createRng } from '../../src-shared/random';
import { applyColorJitterOps, drawJitter } from './augment/color-jitter';
import { fused, wsBatchNormTrain, wsColorJitter } from './kernels/ops';
import { conv2dPadded } from './models/conv';
import { BN_EPSILON, BN_MOMENTUM } from './models/resnet';
import { createOptimizer } from './optim/sgd';

export type Precision = 'float32' | 'tf32';

export interface SelfTestCheck {
  name: string;
  ok: boolean;
  maxRelError: number;
  tolerance: number;
  /** why the check did not run (the backend has no such kernel, so the composite path is used anyway) */
  skipped?: string;
  /** what went wrong, when a kernel threw */
  error?: string;
}

/** max |a − b| / max |b| over all pairs (b: the reference). */
export function maxRelError(pairs: [ArrayLike<number>, ArrayLike<number>][]): number {
  let err = 0;
  for (const [a, b] of pairs) {
    if (a.length !== b.length) return Infinity;
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < b.length; i++) {
      scale = Math.max(scale, Math.abs(b[i]));
      const d = Math.abs(a[i] - b[i]);
      diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    }
    err = Math.max(err, diff / Math.max(scale, 1e-30));
  }
  return err;
}

function randn(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rng = createRng(4242, seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => rng.normal() * scale),
    shape,
    'float32',
  );
}

const data = (ts: tf.Tensor[]) => ts.map((t) => t.dataSync() as Float32Array);

/** Runs `compare`, turning a thrown error into a failed check that says what threw. */
export function check(name: string, tolerance: number, compare: () => number): SelfTestCheck {
  try {
    const e = tf.tidy(compare);
    return { name, ok: e <= tolerance, maxRelError: e, tolerance };
  } catch (err) {
    return { name, ok: false, maxRelError: Infinity, tolerance, error: (err as Error).message.split('\n')[0] };
  }
}

const skipped = (name: string, why: string): SelfTestCheck => ({ name, ok: true, maxRelError: 0, tolerance: 0, skipped: why });

export function convChecks(precision: Precision): SelfTestCheck[] {
  const cases: [string, number, number, number, number, number, number][] = [
    // name, n, size, inC, outC, k, stride (pad = (k - 1) / 2, as in ResNet)
    ['7x7/2 stem', 2, 19, 3, 8, 7, 2],
    ['3x3/1', 2, 9, 6, 5, 3, 1],
    ['3x3/2', 3, 10, 4, 6, 3, 2],
    ['1x1/2 projection', 2, 9, 6, 7, 1, 2],
  ];
  return cases.map(([label, n, h, ci, co, k, s], i) => {
    const name = `WsConv2D ${label}: value, dx, dw`;
    if (!fused(true, 'conv')) return skipped(name, 'no WsConv2D kernels on this backend');
    return check(name, precision === 'tf32' ? 1e-2 : 1e-4, () => {
      const x = randn([n, h, h, ci], 10 + i) as tf.Tensor4D;
      const w = randn([k, k, ci, co], 20 + i, 1 / Math.sqrt(ci * k * k)) as tf.Tensor4D;
      const pad = (k - 1) / 2;
      const run = (f: boolean) => {
        const dyw = randn([n, Math.floor((h + 2 * pad - k) / s) + 1, Math.floor((h + 2 * pad - k) / s) + 1, co], 30 + i);
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv2dPadded(a as tf.Tensor4D, b as tf.Tensor4D, s, pad, f), dyw)))([x, w]);
        return data([conv2dPadded(x, w, s, pad, f), ...g]);
      };
      const got = run(true);
      const want = run(false);
      return maxRelError(got.map((g, j) => [g, want[j]]));
    });
  });
}

export function batchNormChecks(precision: Precision): SelfTestCheck[] {
  const variants: [string, boolean, boolean][] = [
    ['', false, false],
    [' + ReLU', true, false],
    [' + residual + ReLU', true, true],
  ];
  return variants.map(([label, relu, withResidual], i) => {
    const name = `WsFusedBatchNorm${label}: y, running stats, dx, dgamma, dbeta${withResidual ? ', dresidual' : ''}`;
    if (!fused(true, 'batchNorm')) return skipped(name, 'no WsFusedBatchNorm kernels on this backend');
    return check(name, precision === 'tf32' ? 1e-3 : 1e-4, () => {
      const shape = [4, 5, 6, 7];
      const c = shape[3];
      const x = tf.add(randn(shape, 40 + i, 2), 0.5) as tf.Tensor4D;
      const gamma = tf.add(randn([c], 50 + i, 0.2), 1) as tf.Tensor1D;
      const beta = randn([c], 60 + i, 0.2) as tf.Tensor1D;
      const rm = randn([c], 70 + i, 0.1) as tf.Tensor1D;
      const rv = tf.add(tf.abs(randn([c], 80 + i)), 0.5) as tf.Tensor1D;
      const res = randn(shape, 90 + i) as tf.Tensor4D;
      const w = randn(shape, 100 + i);
      const count = shape[0] * shape[1] * shape[2];
      const composite = (xs: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D, r: tf.Tensor4D) => {
        const { mean, variance } = tf.moments(xs, [0, 1, 2]);
        let y: tf.Tensor = tf.batchNorm4d(xs, mean as tf.Tensor1D, variance as tf.Tensor1D, b, g, BN_EPSILON);
        if (withResidual) y = tf.add(y, r);
        if (relu) y = tf.relu(y);
        const runMean = tf.add(tf.mul(rm, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM));
        const runVar = tf.add(tf.mul(rv, 1 - BN_MOMENTUM), tf.mul(variance, (BN_MOMENTUM * count) / (count - 1)));
        return [y, runMean, runVar];
      };
      const fusedBn = (xs: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D, r: tf.Tensor4D) => {
        const o = wsBatchNormTrain(xs, g, b, rm, rv, { epsilon: BN_EPSILON, momentum: BN_MOMENTUM, relu, residual: withResidual ? r : null });
        return [o.y, o.runningMean, o.runningVariance];
      };
      const run = (f: typeof composite) => {
        const ins = withResidual ? [x, gamma, beta, res] : [x, gamma, beta];
        const grads = tf.grads((...a: tf.Tensor[]) =>
          tf.sum(tf.mul(f(a[0] as tf.Tensor4D, a[1] as tf.Tensor1D, a[2] as tf.Tensor1D, (a[3] ?? res) as tf.Tensor4D)[0], w)),
        )(ins);
        return data([...f(x, gamma, beta, res), ...grads]);
      };
      const got = run(fusedBn);
      const want = run(composite);
      return maxRelError(got.map((g, j) => [g, want[j]]));
    });
  });
}

export function sgdChecks(): SelfTestCheck[] {
  const configs: [string, Record<string, unknown>][] = [
    ['momentum + weight decay', { lr: 0.1, momentum: 0.9, weightDecay: 1e-2 }],
    ['Nesterov', { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }],
    ['dampening, no decay', { lr: 0.2, momentum: 0.8, dampening: 0.3, weightDecay: 0 }],
  ];
  return configs.map(([label, cfg], i) => {
    const name = `WsSgdUpdate ${label}: params and momentum buffers over 3 steps`;
    if (!fused(true, 'sgd')) return skipped(name, 'no WsSgdUpdate kernel on this backend');
    return check(name, 1e-6, () => {
      const shapes = [[3, 3, 2, 4], [3, 3, 2, 4], [4], [4], [7, 5], [5]];
      const run = (f: boolean) => {
        const vars = shapes.map((s, k) => ({ name: `v${k}`, variable: tf.variable(randn(s, 200 + 10 * i + k), true), decay: k % 2 === 0 }));
        const opt = createOptimizer(OptimizerSchema.parse(cfg), vars, { fusedKernels: f });
        try {
          for (let step = 0; step < 3; step++) {
            const grads: Record<string, tf.Tensor> = {};
            // step 1 leaves one variable out: its buffer starts a step later
            vars.forEach((v, k) => {
              if (step > 0 || k !== 5) grads[v.name] = randn(shapes[k], 300 + 50 * step + k);
            });
            opt.step(grads, 0.1 + 0.05 * step, step === 2 ? 0.7 : 0.9);
          }
          return [...data(vars.map((v) => v.variable)), ...opt.getState().map((s) => s.data)];
        } finally {
          opt.dispose();
          vars.forEach((v) => v.variable.dispose());
        }
      };
      const got = run(true);
      const want = run(false);
      return got.length !== want.length ? Infinity : maxRelError(got.map((g, j) => [g, want[j]]));
    });
  });
}

export function colorJitterChecks(): SelfTestCheck[] {
  const name = 'WsColorJitter: 16 samples, random draws';
  if (!fused(true, 'colorJitter')) return [skipped(name, 'no WsColorJitter kernel on this backend (the batched ops run)')];
  return [
    check(name, 1e-4, () => {
      const x = tf.clipByValue(tf.add(tf.mul(randn([16, 6, 7, 3], 400), 0.3), 0.5), 0, 1) as tf.Tensor4D;
      const params = { brightness: 0.6, contrast: 0.6, saturation: 0.6, hue: 0.4, p: 0.9 };
      const draws = Array.from({ length: 16 }, (_, k) => drawJitter(params, createRng(77, k)));
      return maxRelError([[wsColorJitter(x, draws).dataSync(), applyColorJitterOps(x, draws).dataSync()]]);
    }),
  ];
}
