// ResNet-50 exactly as torchvision builds it, written functionally (explicit tf.Variables + tf ops,
// no tf.layers) so the trainer controls BN batch statistics, the variable order and the init.
// Layout is NHWC with HWIO conv kernels; the FC kernel is [in, out].
//
// Variable order (defines weightsSha256 and the checkpoint blob order): forward order through
// the net — stem conv, stem BN, then per bottleneck conv1, bn1, conv2, bn2, conv3, bn3, and for
// the first block of a stage the projection conv + BN after them, finally the FC layer.
// Per conv: kernel. Per BN: gamma, beta, running_mean, running_var. FC: kernel, bias.
import * as tf from '@tensorflow/tfjs';
import { createRng, RNG_PURPOSE } from '../../../src-shared/random';
import { fused, wsBatchNormTrain } from '../kernels/ops';
import { conv2dPadded, maxPoolPadded } from './conv';

export const BN_EPSILON = 1e-5;
/** PyTorch BatchNorm2d momentum: running = (1 - m) * running + m * batch */
export const BN_MOMENTUM = 0.1;

const STAGE_BLOCKS = [3, 4, 6, 3];
const STAGE_PLANES = [64, 128, 256, 512];
const EXPANSION = 4;

export interface ResnetOptions {
  numClasses: number;
  widthMultiplier: number;
  /** run seed: init draws come from createRng(seed, RNG_PURPOSE.init, variableIndex) */
  seed: number;
  /** use the workstation kernels where the backend has them (train.fusedKernels); default true */
  fusedKernels?: boolean;
}

export type VarKind = 'conv' | 'bn-gamma' | 'bn-beta' | 'bn-mean' | 'bn-var' | 'fc-kernel' | 'fc-bias';

export interface VarSpec {
  name: string;
  shape: number[];
  kind: VarKind;
  trainable: boolean;
}

interface ConvSpec {
  type: 'conv';
  name: string;
  k: number;
  inC: number;
  outC: number;
  stride: number;
  pad: number;
}
interface BnSpec {
  type: 'bn';
  name: string;
  c: number;
}

export interface BlockSpec {
  name: string;
  stride: number;
  conv1: ConvSpec;
  bn1: BnSpec;
  conv2: ConvSpec;
  bn2: BnSpec;
  conv3: ConvSpec;
  bn3: BnSpec;
  down: { conv: ConvSpec; bn: BnSpec } | null;
}

export interface ResnetSpec {
  arch: 'resnet50';
  numClasses: number;
  widthMultiplier: number;
  stem: { conv: ConvSpec; bn: BnSpec };
  blocks: BlockSpec[];
  fc: { name: string; inC: number; outC: number };
  vars: VarSpec[];
}

/** Channel count for a base width: rounded, never below 1 (tiny test variants). */
export function scaledWidth(base: number, widthMultiplier: number): number {
  return Math.max(1, Math.round(base * widthMultiplier));
}

/** The architecture as data (no tensors): used by the model factory and `model summary`. */
export function describeResnet50(numClasses: number, widthMultiplier: number): ResnetSpec {
  const vars: VarSpec[] = [];
  const conv = (name: string, k: number, inC: number, outC: number, stride: number, pad: number): ConvSpec => {
    vars.push({ name: `${name}.kernel`, shape: [k, k, inC, outC], kind: 'conv', trainable: true });
    return { type: 'conv', name, k, inC, outC, stride, pad };
  };
  const bn = (name: string, c: number): BnSpec => {
    vars.push({ name: `${name}.gamma`, shape: [c], kind: 'bn-gamma', trainable: true });
    vars.push({ name: `${name}.beta`, shape: [c], kind: 'bn-beta', trainable: true });
    vars.push({ name: `${name}.running_mean`, shape: [c], kind: 'bn-mean', trainable: false });
    vars.push({ name: `${name}.running_var`, shape: [c], kind: 'bn-var', trainable: false });
    return { type: 'bn', name, c };
  };
  const stemC = scaledWidth(64, widthMultiplier);
  const stem = { conv: conv('conv1', 7, 3, stemC, 2, 3), bn: bn('bn1', stemC) };
  const blocks: BlockSpec[] = [];
  let inC = stemC;
  STAGE_BLOCKS.forEach((n, s) => {
    const planes = scaledWidth(STAGE_PLANES[s], widthMultiplier);
    const outC = planes * EXPANSION;
    for (let b = 0; b < n; b++) {
      const name = `layer${s + 1}.${b}`;
      const stride = b === 0 && s > 0 ? 2 : 1;
      const block: BlockSpec = {
        name,
        stride,
        conv1: conv(`${name}.conv1`, 1, inC, planes, 1, 0),
        bn1: bn(`${name}.bn1`, planes),
        // torchvision (v1.5): the stride sits on the 3x3 conv
        conv2: conv(`${name}.conv2`, 3, planes, planes, stride, 1),
        bn2: bn(`${name}.bn2`, planes),
        conv3: conv(`${name}.conv3`, 1, planes, outC, 1, 0),
        bn3: bn(`${name}.bn3`, outC),
        down: null,
      };
      if (b === 0) block.down = { conv: conv(`${name}.downsample.0`, 1, inC, outC, stride, 0), bn: bn(`${name}.downsample.1`, outC) };
      blocks.push(block);
      inC = outC;
    }
  });
  vars.push({ name: 'fc.kernel', shape: [inC, numClasses], kind: 'fc-kernel', trainable: true });
  vars.push({ name: 'fc.bias', shape: [numClasses], kind: 'fc-bias', trainable: true });
  return { arch: 'resnet50', numClasses, widthMultiplier, stem, blocks, fc: { name: 'fc', inC, outC: numClasses }, vars };
}

export function countParams(spec: ResnetSpec): { trainable: number; nonTrainable: number } {
  let trainable = 0;
  let nonTrainable = 0;
  for (const v of spec.vars) {
    const n = v.shape.reduce((a, b) => a * b, 1);
    if (v.trainable) trainable += n;
    else nonTrainable += n;
  }
  return { trainable, nonTrainable };
}

/** Initial values as torchvision: kaiming_normal_(fan_out, relu) convs, BN 1/0, FC uniform(±1/sqrt(fan_in)). */
function initValues(v: VarSpec, index: number, seed: number, fcFanIn: number): Float32Array {
  const n = v.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const rng = createRng(seed, RNG_PURPOSE.init, index);
  switch (v.kind) {
    case 'conv': {
      const [kh, kw, , outC] = v.shape;
      const std = Math.sqrt(2 / (outC * kh * kw));
      for (let i = 0; i < n; i++) out[i] = rng.normal() * std;
      break;
    }
    case 'fc-kernel':
    case 'fc-bias': {
      // nn.Linear: weight and bias both uniform(±1/sqrt(fan_in))
      const bound = 1 / Math.sqrt(fcFanIn);
      for (let i = 0; i < n; i++) out[i] = rng.uniform(-bound, bound);
      break;
    }
    case 'bn-gamma':
    case 'bn-var':
      out.fill(1);
      break;
    default:
      break; // beta, running_mean: zeros
  }
  return out;
}
export interface ModelVar extends VarSpec {
  variable: tf.Variable;
  /** weight decay applies (used when optimizer.excludeBnAndBias is set): conv and FC kernels only */
  decay: boolean;
}

/** Statistics of one BN layer in a training forward pass (kept to update the running stats). */
export interface BnBatchStat {
  name: string;
  /** running = false: the batch mean and biased batch variance; true: the updated running statistics */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  /** elements per channel (N*H*W), for the unbiased running variance */
  count: number;
  /** the fused BN kernel updates the running statistics in the forward pass (as PyTorch does) */
  running: boolean;
}

export interface ResnetModel {
  arch: 'resnet50';
  numClasses: number;
  widthMultiplier: number;
  spec: ResnetSpec;
  /** all variables in the documented order */
  vars: ModelVar[];
  trainableParams: number;
  nonTrainableParams: number;
  /**
   * Logits [N, numClasses]. training = true uses batch statistics and pushes them to `stats`
   * (the caller tf.keep()s / disposes them); training = false uses the running statistics.
   */
  forward(x: tf.Tensor4D, training: boolean, stats?: BnBatchStat[]): tf.Tensor2D;
  /** PyTorch running-stat update from a training pass's statistics (disposes them). */
  updateRunningStats(stats: BnBatchStat[]): void;
  /** built to use the workstation kernels where the backend has them */
  fusedKernels: boolean;
  dispose(): void;
}

function toVariable(values: Float32Array, shape: number[], trainable: boolean): tf.Variable {
  const t = tf.tensor(values, shape, 'float32');
  // unnamed: tfjs gives unique names, so several models can live in one process
  const v = tf.variable(t, trainable);
  t.dispose();
  return v;
}

export function createResnet50(opts: ResnetOptions): ResnetModel {
  const spec = describeResnet50(opts.numClasses, opts.widthMultiplier);
  const vars: ModelVar[] = spec.vars.map((v, i) => ({
    ...v,
    variable: toVariable(initValues(v, i, opts.seed, spec.fc.inC), v.shape, v.trainable),
    decay: v.kind === 'conv' || v.kind === 'fc-kernel',
  }));
  const byName = new Map(vars.map((v) => [v.name, v.variable]));
  const get = (name: string): tf.Variable => {
    const v = byName.get(name);
    if (!v) throw new Error(`resnet: no variable ${name}`);
    return v;
  };

  const fusedKernels = opts.fusedKernels !== false;
  const conv = (x: tf.Tensor4D, c: ConvSpec): tf.Tensor4D => conv2dPadded(x, get(`${c.name}.kernel`) as tf.Tensor4D, c.stride, c.pad, fusedKernels);
  /** BN, then `+ residual`, then ReLU: one kernel with fused kernels, tfjs built-ins otherwise */
  const bn = (x: tf.Tensor4D, b: BnSpec, training: boolean, stats: BnBatchStat[] | undefined, relu: boolean, residual?: tf.Tensor4D): tf.Tensor4D => {
    const gamma = get(`${b.name}.gamma`) as tf.Tensor1D;
    const beta = get(`${b.name}.beta`) as tf.Tensor1D;
    const runningMean = get(`${b.name}.running_mean`) as tf.Tensor1D;
    const runningVar = get(`${b.name}.running_var`) as tf.Tensor1D;
    const count = x.shape[0] * x.shape[1] * x.shape[2];
    let y: tf.Tensor4D;
    if (!training) y = tf.batchNorm4d(x, runningMean, runningVar, beta, gamma, BN_EPSILON);
    else if (fused(fusedKernels, 'batchNorm')) {
      const r = wsBatchNormTrain(x, gamma, beta, runningMean, runningVar, { epsilon: BN_EPSILON, momentum: BN_MOMENTUM, relu, residual });
      if (stats) stats.push({ name: b.name, mean: r.runningMean, variance: r.runningVariance, count, running: true });
      else tf.dispose([r.runningMean, r.runningVariance]);
      return r.y;
    } else {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      if (stats) stats.push({ name: b.name, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, count, running: false });
      y = tf.batchNorm4d(x, mean as tf.Tensor1D, variance as tf.Tensor1D, beta, gamma, BN_EPSILON);
    }
    if (residual) y = tf.add(y, residual);
    return relu ? tf.relu(y) : y;
  };

  const forward = (x: tf.Tensor4D, training: boolean, stats?: BnBatchStat[]): tf.Tensor2D => {
    let h = bn(conv(x, spec.stem.conv), spec.stem.bn, training, stats, true);
    h = maxPoolPadded(h, 3, 2, 1);
    for (const blk of spec.blocks) {
      let y = bn(conv(h, blk.conv1), blk.bn1, training, stats, true);
      y = bn(conv(y, blk.conv2), blk.bn2, training, stats, true);
      const shortcut = blk.down ? bn(conv(h, blk.down.conv), blk.down.bn, training, stats, false) : h;
      h = bn(conv(y, blk.conv3), blk.bn3, training, stats, true, shortcut);
    }
    const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
    return tf.add(tf.matMul(pooled, get('fc.kernel') as tf.Tensor2D), get('fc.bias')) as tf.Tensor2D;
  };

  const updateRunningStats = (stats: BnBatchStat[]): void => {
    for (const s of stats) {
      const rm = get(`${s.name}.running_mean`);
      const rv = get(`${s.name}.running_var`);
      if (s.running) {
        rm.assign(s.mean);
        rv.assign(s.variance);
      } else
        tf.tidy(() => {
          rm.assign(tf.add(tf.mul(rm, 1 - BN_MOMENTUM), tf.mul(s.mean, BN_MOMENTUM)));
          // PyTorch stores the unbiased batch variance in running_var
          const unbias = s.count > 1 ? s.count / (s.count - 1) : 1;
          rv.assign(tf.add(tf.mul(rv, 1 - BN_MOMENTUM), tf.mul(s.variance, BN_MOMENTUM * unbias)));
        });
      s.mean.dispose();
      s.variance.dispose();
    }
  };

  const counts = countParams(spec);
  return {
    arch: 'resnet50',
    numClasses: opts.numClasses,
    widthMultiplier: opts.widthMultiplier,
    spec,
    vars,
    trainableParams: counts.trainable,
    nonTrainableParams: counts.nonTrainable,
    forward,
    updateRunningStats,
    fusedKernels,
    dispose: () => vars.forEach((v) => v.variable.dispose()),
  };
}
