// The ops model, optimizer and augmentation code call to use the workstation kernels, plus the
// feature checks that pick them: `fused(enabled, FEATURE)` is true when the caller allows fused
// kernels (train.fusedKernels) and the active backend has all of the feature's kernels.
import * as tf from '@tensorflow/tfjs';
import type { JitterDraw } from '../augment/color-jitter-draw';
import {
  WS_BATCH_NORM_GRAD,
  WS_COLOR_JITTER,
  WS_CONV2D,
  WS_CONV2D_BACKPROP_FILTER,
  WS_CONV2D_BACKPROP_INPUT,
  WS_FUSED_BATCH_NORM,
  WS_SGD_UPDATE,
  type SgdAttrs,
} from './names';
import { hasKernels, registerWorkstationKernels } from './registry';

registerWorkstationKernels();

/** The kernels a feature needs (forward and backward). */
export const FEATURES = {
  conv: [WS_CONV2D, WS_CONV2D_BACKPROP_INPUT, WS_CONV2D_BACKPROP_FILTER],
  batchNorm: [WS_FUSED_BATCH_NORM, WS_BATCH_NORM_GRAD],
  sgd: [WS_SGD_UPDATE],
  colorJitter: [WS_COLOR_JITTER],
} as const;
export type Feature = keyof typeof FEATURES;

export function fused(enabled: boolean | undefined, feature: Feature): boolean {
  return enabled !== false && hasKernels(FEATURES[feature]);
}

/** conv2d with `pad` zeros on each side (PyTorch padding=pad); x NHWC, w HWIO. */
export function wsConv2d(x: tf.Tensor4D, w: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D {
  return tf.engine().runKernel(WS_CONV2D, { x, filter: w }, { stride, pad }) as tf.Tensor4D;
}

export interface BatchNormTrainResult {
  y: tf.Tensor4D;
  runningMean: tf.Tensor1D;
  runningVariance: tf.Tensor1D;
}

/**
 * Training-mode BN on batch statistics (+ residual, + ReLU) and the PyTorch running-statistics
 * update, as one kernel. The reserve outputs are freed here (the gradient keeps its own copies).
 */
export function wsBatchNormTrain(
  x: tf.Tensor4D,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  runningMean: tf.Tensor1D,
  runningVariance: tf.Tensor1D,
  o: { epsilon: number; momentum: number; relu: boolean; residual?: tf.Tensor4D | null },
): BatchNormTrainResult {
  const inputs: tf.NamedTensorMap = { x, scale, offset, mean: runningMean, variance: runningVariance };
  if (o.residual) inputs.residual = o.residual;
  const [y, rm, rv, ...reserves] = tf.engine().runKernel(WS_FUSED_BATCH_NORM, inputs, {
    epsilon: o.epsilon,
    momentum: o.momentum,
    relu: o.relu,
  }) as tf.Tensor[];
  tf.dispose(reserves);
  return { y: y as tf.Tensor4D, runningMean: rm as tf.Tensor1D, runningVariance: rv as tf.Tensor1D };
}

export interface SgdVarUpdate {
  param: tf.Tensor;
  grad: tf.Tensor;
  decay: boolean;
  /** null: no buffer yet (the first momentum step starts it from d_p) */
  buffer: tf.Tensor | null;
}

/** One SGD step for many variables in one kernel: new params and (momentum != 0) new buffers. */
export function wsSgdUpdate(vars: SgdVarUpdate[], s: Omit<SgdAttrs, 'decay' | 'hasBuffer'>): { params: tf.Tensor[]; buffers: tf.Tensor[] } {
  const inputs = [...vars.map((v) => v.param), ...vars.map((v) => v.grad), ...vars.flatMap((v) => (v.buffer ? [v.buffer] : []))];
  const attrs: SgdAttrs = { ...s, decay: vars.map((v) => v.decay), hasBuffer: vars.map((v) => v.buffer !== null) };
  const out = tf.engine().runKernel(WS_SGD_UPDATE, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return { params: out.slice(0, vars.length), buffers: out.slice(vars.length) };
}

/** torchvision ColorJitter with per-sample draws on a [N,H,W,3] float batch in [0, 1]. */
export function wsColorJitter(x: tf.Tensor4D, draws: readonly JitterDraw[]): tf.Tensor4D {
  return tf.engine().runKernel(WS_COLOR_JITTER, { x }, { draws: draws as unknown as tf.NamedAttrMap[] }) as tf.Tensor4D;
}
