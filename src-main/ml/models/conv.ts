// 2-D convolution with PyTorch-style symmetric zero padding. With fused kernels (the default) it is
// the WsConv2D kernel of the active backend (kernels/cpu/conv.ts: tfjs's cpu kernels, the filter
// gradient as a forward convolution, which is 10-100× faster there; kernels/tensorflow/conv.ts:
// TensorFlow's ops with explicit padding). The composite path (train.fusedKernels: false, or a
// backend without the kernels) is tfjs built-ins: the zero padding as its own op and a 'valid'
// convolution, because tfjs-node's built-in backprop kernels reject explicit conv padding.
import * as tf from '@tensorflow/tfjs';
import { explicitPad } from '../kernels/cpu/conv';
import { fused, wsConv2d } from '../kernels/ops';

export { conv2dFilterGrad } from '../kernels/cpu/conv';

/** conv2d with `pad` zeros on each side (PyTorch padding=pad); w is HWIO. */
export function conv2dPadded(x: tf.Tensor4D, w: tf.Tensor4D, stride: number, pad: number, fusedKernels = true): tf.Tensor4D {
  if (fused(fusedKernels, 'conv')) return wsConv2d(x, w, stride, pad);
  const xp = pad > 0 ? (tf.pad(x, explicitPad(pad)) as tf.Tensor4D) : x;
  return tf.conv2d(xp, w, stride, 'valid');
}

/**
 * PyTorch MaxPool2d(k, stride, padding): padding with -inf, then a 'valid' pool. tfjs-node's
 * MaxPool / MaxPoolGrad kernels accept only 'valid' and 'same' (a numeric pad throws there), and
 * 'same' pads 0 before / 1 after at even sizes where PyTorch pads 1 on both sides.
 */
export function maxPoolPadded(x: tf.Tensor4D, k: number, stride: number, pad: number): tf.Tensor4D {
  const xp = pad > 0 ? (tf.pad(x, explicitPad(pad), -Infinity) as tf.Tensor4D) : x;
  return tf.maxPool(xp, k, stride, 'valid');
}
