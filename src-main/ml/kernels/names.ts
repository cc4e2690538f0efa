// The workstation's own tfjs kernels: names, inputs and attributes. Model and optimizer code call
// them through `tf.engine().runKernel` (ops.ts); each backend that has a faster way registers its
// implementation under these names (cpu/: JavaScript loops, tensorflow/: TensorFlow's fused ops
// through tfjs-node's executeSingleOutput / executeMultipleOutputs), and gradients.ts registers the
// backend-independent gradients. A backend without them runs the composite path (tfjs built-in ops).

/** y = conv2d(x, filter) with `pad` zeros on each side (PyTorch padding=pad), NHWC / HWIO. */
export const WS_CONV2D = 'WsConv2D';
/** dL/dx of WsConv2D: inputs {dy, filter}. */
export const WS_CONV2D_BACKPROP_INPUT = 'WsConv2DBackpropInput';
/** dL/dfilter of WsConv2D: inputs {x, dy}. */
export const WS_CONV2D_BACKPROP_FILTER = 'WsConv2DBackpropFilter';
/**
 * Training-mode batch norm over N, H, W of an NHWC x, optionally + residual, optionally ReLU, and
 * PyTorch's running-statistics update, in one kernel. Inputs {x, scale, offset, mean, variance,
 * residual?} (mean/variance: the running statistics). Outputs [y, new running mean, new running
 * variance (unbiased batch variance blended in), reserve1, reserve2, reserve3]: the reserves are
 * what this backend's WsBatchNormGrad needs (TensorFlow: FusedBatchNormV3's reserve spaces).
 */
export const WS_FUSED_BATCH_NORM = 'WsFusedBatchNorm';
/**
 * Gradient of WsFusedBatchNorm. Inputs {dy, x, scale, y (relu only), reserve1, reserve2, reserve3};
 * outputs [dx, dscale, doffset] and, with relu, dz (the gradient at the residual input).
 */
export const WS_BATCH_NORM_GRAD = 'WsBatchNormGrad';
/**
 * torch.optim.SGD's update for many variables at once. Inputs (an array): n params, their n
 * gradients, then the momentum buffers of the variables with hasBuffer[i]; outputs: n new params,
 * then (momentum != 0) n new buffers.
 */
export const WS_SGD_UPDATE = 'WsSgdUpdate';
/** torchvision ColorJitter with per-sample draws (attrs.draws) on an NHWC float batch in [0, 1]. */
export const WS_COLOR_JITTER = 'WsColorJitter';

export const WS_KERNELS = [
  WS_CONV2D,
  WS_CONV2D_BACKPROP_INPUT,
  WS_CONV2D_BACKPROP_FILTER,
  WS_FUSED_BATCH_NORM,
  WS_BATCH_NORM_GRAD,
  WS_SGD_UPDATE,
  WS_COLOR_JITTER,
] as const;

export function isWsKernel(name: string): boolean {
  return (WS_KERNELS as readonly string[]).includes(name);
}

export interface ConvAttrs {
  stride: number;
  pad: number;
}
export interface ConvInputAttrs extends ConvAttrs {
  inputShape: [number, number, number, number];
}
export interface ConvFilterAttrs extends ConvAttrs {
  filterShape: [number, number, number, number];
}
export interface BatchNormAttrs {
  epsilon: number;
  /** PyTorch BN momentum: running = (1 - m) · running + m · batch (TensorFlow's exponential_avg_factor) */
  momentum: number;
  relu: boolean;
}
export interface BatchNormGradAttrs {
  epsilon: number;
  relu: boolean;
}
export interface SgdAttrs {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  /** per variable: weight decay applies */
  decay: boolean[];
  /** per variable: a momentum buffer is passed in (else the first step starts it from d_p) */
  hasBuffer: boolean[];
}
