// WsFusedBatchNorm / WsBatchNormGrad on the pure-JS cpu backend: one pass for statistics, one for
// the output (residual add and ReLU included) instead of the ~20 tfjs kernels of moments +
// batchNorm + relu and their gradients. Reserves: batch mean, biased batch variance, an empty third.
import * as tf from '@tensorflow/tfjs';
import { input, read, write } from '../backend-io';
import { bnBackward, bnForward } from '../batch-norm-math';
import { WS_BATCH_NORM_GRAD, WS_FUSED_BATCH_NORM, type BatchNormAttrs, type BatchNormGradAttrs } from '../names';

export function fusedBatchNormKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: WS_FUSED_BATCH_NORM,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const be = backend as tf.KernelBackend;
      const a = attrs as unknown as BatchNormAttrs;
      const x = input(inputs, 'x', WS_FUSED_BATCH_NORM);
      const c = x.shape[x.shape.length - 1];
      const residual = inputs.residual ? read(be, inputs.residual) : null;
      const r = bnForward(
        read(be, x),
        c,
        read(be, input(inputs, 'scale', WS_FUSED_BATCH_NORM)),
        read(be, input(inputs, 'offset', WS_FUSED_BATCH_NORM)),
        read(be, input(inputs, 'mean', WS_FUSED_BATCH_NORM)),
        read(be, input(inputs, 'variance', WS_FUSED_BATCH_NORM)),
        { epsilon: a.epsilon, momentum: a.momentum, relu: a.relu, residual },
      );
      return [
        write(be, r.y, x.shape),
        write(be, r.runningMean, [c]),
        write(be, r.runningVariance, [c]),
        write(be, r.mean, [c]),
        write(be, r.variance, [c]),
        write(be, new Float32Array(0), [0]),
      ];
    },
  };
}

export function batchNormGradKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: WS_BATCH_NORM_GRAD,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const be = backend as tf.KernelBackend;
      const a = attrs as unknown as BatchNormGradAttrs;
      const x = input(inputs, 'x', WS_BATCH_NORM_GRAD);
      const c = x.shape[x.shape.length - 1];
      const r = bnBackward(
        read(be, input(inputs, 'dy', WS_BATCH_NORM_GRAD)),
        read(be, x),
        c,
        read(be, input(inputs, 'scale', WS_BATCH_NORM_GRAD)),
        read(be, input(inputs, 'reserve1', WS_BATCH_NORM_GRAD)),
        read(be, input(inputs, 'reserve2', WS_BATCH_NORM_GRAD)),
        { epsilon: a.epsilon, y: a.relu ? read(be, input(inputs, 'y', WS_BATCH_NORM_GRAD)) : null },
      );
      const out = [write(be, r.dx, x.shape), write(be, r.dscale, [c]), write(be, r.doffset, [c])];
      if (a.relu) out.push(write(be, r.dz as Float32Array, x.shape));
      return out;
    },
  };
}
