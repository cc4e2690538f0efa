// Gradients of the workstation kernels (backend-independent, as tfjs registers its own): each
// calls the gradient kernels registered for the active backend. A multi-output gradient kernel
// runs once per backward pass; the per-input closures hand out its outputs.
import * as tf from '@tensorflow/tfjs';
import {
  WS_BATCH_NORM_GRAD,
  WS_CONV2D,
  WS_CONV2D_BACKPROP_FILTER,
  WS_CONV2D_BACKPROP_INPUT,
  WS_FUSED_BATCH_NORM,
  type BatchNormAttrs,
  type ConvAttrs,
} from './names';

const run = (name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap) => tf.engine().runKernel(name, inputs, attrs);

export const conv2dGrad: tf.GradConfig = {
  kernelName: WS_CONV2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved;
    const { stride, pad } = attrs as unknown as ConvAttrs;
    const g = dy as tf.Tensor;
    return {
      x: () => run(WS_CONV2D_BACKPROP_INPUT, { dy: g, filter }, { stride, pad, inputShape: x.shape }) as tf.Tensor,
      filter: () => run(WS_CONV2D_BACKPROP_FILTER, { x, dy: g }, { stride, pad, filterShape: filter.shape }) as tf.Tensor,
    };
  },
};

export const fusedBatchNormGrad: tf.GradConfig = {
  kernelName: WS_FUSED_BATCH_NORM,
  inputsToSave: ['x', 'scale'],
  // y (for the ReLU's gradient) and the three reserves
  outputsToSave: [true, false, false, true, true, true],
  gradFunc: (dys, saved, attrs) => {
    const dy = (dys as tf.Tensor[])[0];
    const [x, scale, y, reserve1, reserve2, reserve3] = saved;
    const { epsilon, relu } = attrs as unknown as BatchNormAttrs;
    const inputs: tf.NamedTensorMap = { dy, x, scale, reserve1, reserve2, reserve3 };
    if (relu) inputs.y = y;
    // computed here, not in a closure: each closure runs in its own tidy, which would free the
    // outputs the other closures hand out
    const [dx, dscale, doffset, dz] = run(WS_BATCH_NORM_GRAD, inputs, { epsilon, relu }) as tf.Tensor[];
    return {
      x: () => dx,
      scale: () => dscale,
      offset: () => doffset,
      residual: () => (relu ? dz : dy),
      // the running statistics are not differentiable inputs (non-trainable variables)
      mean: () => tf.zeros(scale.shape),
      variance: () => tf.zeros(scale.shape),
    };
  },
};

export const WS_GRADIENTS: tf.GradConfig[] = [conv2dGrad, fusedBatchNormGrad];
