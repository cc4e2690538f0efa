// Batch norm kernels on tfjs-node's 'tensorflow' backend: TensorFlow's FusedBatchNormV3 in
// training mode with exponential_avg_factor = PyTorch's momentum (so its batch_mean /
// batch_variance outputs are the updated running statistics, with the unbiased batch variance
// blended in, as PyTorch does), then AddV2 (residual) and Relu; the gradient is ReluGrad +
// FusedBatchNormGradV3 on the forward's reserve spaces (on the GPU: cuDNN's saved mean and
// inverse variance). Forward 1–3 TF ops, backward 1–2, against ~20 + ~40 tfjs kernels composed.
import * as tf from '@tensorflow/tfjs';
import { input } from '../backend-io';
import { WS_BATCH_NORM_GRAD, WS_FUSED_BATCH_NORM, type BatchNormAttrs, type BatchNormGradAttrs } from '../names';
import { attrs, nativeBackend } from './native';

export const fusedBatchNormTensorflow: tf.KernelConfig = {
  kernelName: WS_FUSED_BATCH_NORM,
  backendName: 'tensorflow',
  kernelFunc: ({ inputs, attrs: at, backend }) => {
    const b = nativeBackend(backend, WS_FUSED_BATCH_NORM);
    const o = at as unknown as BatchNormAttrs;
    const a = attrs(b);
    const k = WS_FUSED_BATCH_NORM;
    const outs = b.executeMultipleOutputs(
      'FusedBatchNormV3',
      [
        a.float32('T'),
        a.float32('U'),
        a.float('epsilon', o.epsilon),
        a.float('exponential_avg_factor', o.momentum),
        a.string('data_format', 'NHWC'),
        a.bool('is_training', true),
      ],
      [input(inputs, 'x', k), input(inputs, 'scale', k), input(inputs, 'offset', k), input(inputs, 'mean', k), input(inputs, 'variance', k)],
      6,
    );
    let y = outs[0];
    if (inputs.residual) {
      const sum = b.executeSingleOutput('AddV2', [a.float32('T')], [y, inputs.residual]);
      y.dispose();
      y = sum;
    }
    if (o.relu) {
      const r = b.executeSingleOutput('Relu', [a.float32('T')], [y]);
      y.dispose();
      y = r;
    }
    return [y, ...outs.slice(1)];
  },
};

export const batchNormGradTensorflow: tf.KernelConfig = {
  kernelName: WS_BATCH_NORM_GRAD,
  backendName: 'tensorflow',
  kernelFunc: ({ inputs, attrs: at, backend }) => {
    const b = nativeBackend(backend, WS_BATCH_NORM_GRAD);
    const o = at as unknown as BatchNormGradAttrs;
    const a = attrs(b);
    const k = WS_BATCH_NORM_GRAD;
    const dy = input(inputs, 'dy', k);
    const dz = o.relu ? b.executeSingleOutput('ReluGrad', [a.float32('T')], [dy, input(inputs, 'y', k)]) : dy;
    const [dx, dscale, doffset, r4, r5] = b.executeMultipleOutputs(
      'FusedBatchNormGradV3',
      [a.float32('T'), a.float32('U'), a.float('epsilon', o.epsilon), a.string('data_format', 'NHWC'), a.bool('is_training', true)],
      [dz, input(inputs, 'x', k), input(inputs, 'scale', k), input(inputs, 'reserve1', k), input(inputs, 'reserve2', k), input(inputs, 'reserve3', k)],
      5,
    );
    r4.dispose();
    r5.dispose();
    return o.relu ? [dx, dscale, doffset, dz] : [dx, dscale, doffset];
  },
};
