// `workstation doctor --selftest`: does the training path of the active backend compute what the
// reference computes? Each workstation kernel against the composite of tfjs built-in ops on the
// same backend (selftest-checks.ts), then a few training steps of a small ResNet-50 with fused
// kernels against the same steps on tfjs's pure-JS cpu backend with the composite path. This is
// what guards a native code path (tfjs-node, tfjs-node-gpu) that the developers' machines cannot
// run. Tolerances: float32, or TF32 where libtensorflow runs convolutions on an Ampere+ GPU (TF32
// on by default there; NVIDIA_TF32_OVERRIDE=0 turns it off).
import * as tf from '@tensorflow/tfjs';
import { OptimizerSchema } from '../../src-shared/config/run-config';
import { createRng } from '../../src-shared/random';
import { createMetricAccumulator, type MetricAccumulator } from './metrics';
import { createModel, describeModel, type Model } from './models/index';
import { createOptimizer, type NamedArrays, type SgdOptimizer } from './optim/sgd';
import { batchNormChecks, colorJitterChecks, convChecks, maxRelError, sgdChecks, type Precision, type SelfTestCheck } from './selftest-checks';
import { trainStep } from './train-step';

export type { SelfTestCheck } from './selftest-checks';

export interface SelfTestResult {
  ok: boolean;
  backend: string;
  precision: Precision;
  checks: SelfTestCheck[];
}

export interface SelfTestOptions {
  /** tolerances for TF32 convolutions (a GPU backend) */
  precision?: Precision;
  /** training steps to compare (default 3) */
  steps?: number;
  onProgress?(msg: string): void;
}

const STEPS_MODEL = { arch: 'resnet50' as const, numClasses: 10, widthMultiplier: 1 / 16 };
const BATCH = { n: 16, size: 32, lr: 0.01, momentum: 0.9 };

interface Trainee {
  model: Model;
  opt: SgdOptimizer;
  acc: MetricAccumulator;
  dispose(): void;
}

/** A width-1/16 ResNet-50 with SGD (momentum, weight decay) on the active backend. */
function trainee(fusedKernels: boolean): Trainee {
  const model = createModel(STEPS_MODEL, 3, { fusedKernels });
  const opt = createOptimizer(
    OptimizerSchema.parse({ lr: BATCH.lr, momentum: BATCH.momentum, weightDecay: 1e-4 }),
    model.vars.filter((v) => v.trainable).map((v) => ({ name: v.name, variable: v.variable, decay: v.decay })),
    { fusedKernels },
  );
  const acc = createMetricAccumulator();
  return { model, opt, acc, dispose: () => (acc.dispose(), opt.dispose(), model.dispose()) };
}

interface State {
  vars: Float32Array[];
  buffers: NamedArrays;
}

const snapshot = (t: Trainee): State => ({
  vars: t.model.vars.map((v) => Float32Array.from(v.variable.dataSync() as Float32Array)),
  buffers: t.opt.getState(),
});

function load(t: Trainee, s: State): void {
  t.model.vars.forEach((v, i) => tf.tidy(() => v.variable.assign(tf.tensor(s.vars[i], v.shape, 'float32'))));
  t.opt.setState(s.buffers);
}

/** One step on a fixed random batch (the same every step); returns the loss. */
function step(t: Trainee, s: number): number {
  const { n, size } = BATCH;
  const rng = createRng(4242, 999, s);
  const x = tf.tensor4d(
    Float32Array.from({ length: n * size * size * 3 }, () => rng.normal()),
    [n, size, size, 3],
  );
  try {
    t.acc.reset();
    trainStep(
      t.model,
      t.opt,
      { x, labels: Int32Array.from({ length: n }, (_, i) => (i * 3 + s) % 10), lr: BATCH.lr, momentum: BATCH.momentum, labelSmoothing: 0 },
      t.acc,
    );
    return t.acc.read().loss;
  } finally {
    x.dispose();
  }
}

const flat = (arrays: ArrayLike<number>[]) => Float32Array.from(arrays.flatMap((a) => Array.from(a)));
const minus = (a: Float32Array[], b: Float32Array[]) => a.map((x, i) => x.map((v, j) => v - b[i][j]));

/**
 * Each step starts both sides from the same state (the backend's, copied to the reference): a
 * tiny ResNet on random data is chaotic enough that float32 rounding alone makes two free-running
 * trajectories part within a few steps, so they are compared step by step. Per step: the loss,
 * then the weight updates, BN running statistics and momentum buffers, each norm-wise over the
 * whole model.
 */
async function stepsCheck(backend: string, precision: Precision, steps: number): Promise<SelfTestCheck> {
  const name = `${steps} training steps of a small ResNet-50 (fused kernels) vs the pure-JS cpu backend (composite): loss, weight updates, BN running stats, momentum buffers`;
  const trainable = describeModel(STEPS_MODEL).vars.map((v) => v.trainable);
  const pick = (s: State, keep: boolean) => s.vars.filter((_, i) => trainable[i] === keep);
  await tf.setBackend('cpu');
  const ref = trainee(false);
  await tf.setBackend(backend);
  const tolerance = precision === 'tf32' ? 2e-2 : 1e-3;
  let target: Trainee | null = null;
  try {
    let worst = 0;
    for (let s = 0; s < steps; s++) {
      let before: State;
      let lossGot: number;
      let after: State;
      try {
        target ??= trainee(true);
        before = snapshot(target);
        lossGot = step(target, s);
        after = snapshot(target);
      } catch (err) {
        return { name, ok: false, maxRelError: Infinity, tolerance, error: (err as Error).message.split('\n')[0] };
      }
      await tf.setBackend('cpu');
      load(ref, before);
      const lossWant = step(ref, s);
      const want = snapshot(ref);
      await tf.setBackend(backend);
      worst = Math.max(
        worst,
        maxRelError([
          [[lossGot], [lossWant]],
          [flat(minus(pick(after, true), pick(before, true))), flat(minus(pick(want, true), pick(before, true)))],
          [flat(pick(after, false)), flat(pick(want, false))],
          [flat(after.buffers.map((b) => b.data)), flat(want.buffers.map((b) => b.data))],
        ]),
      );
    }
    return { name, ok: worst <= tolerance, maxRelError: worst, tolerance };
  } finally {
    await tf.setBackend('cpu');
    ref.dispose();
    await tf.setBackend(backend);
    (target as Trainee | null)?.dispose();
  }
}

/** Runs every check on the active backend (it is selected again at the end). */
export async function runSelfTest(o: SelfTestOptions = {}): Promise<SelfTestResult> {
  const backend = tf.getBackend();
  const precision = o.precision ?? 'float32';
  const checks: SelfTestCheck[] = [];
  const groups: [string, () => SelfTestCheck[]][] = [
    ['conv', () => convChecks(precision)],
    ['batch norm', () => batchNormChecks(precision)],
    ['SGD', () => sgdChecks()],
    ['colour jitter', () => colorJitterChecks()],
  ];
  for (const [label, run] of groups) {
    o.onProgress?.(`${label} kernels`);
    checks.push(...run());
  }
  o.onProgress?.('training steps');
  checks.push(await stepsCheck(backend, precision, o.steps ?? 3));
  return { ok: checks.every((c) => c.ok), backend, precision, checks };
}
