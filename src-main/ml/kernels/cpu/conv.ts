// Convolution kernels on the pure-JS cpu backend. The forward and the input gradient are tfjs's
// own cpu kernels with explicit padding. The filter gradient is computed as a forward convolution:
// tfjs-backend-cpu's Conv2DBackpropFilter walks memory in an order that makes it 10-100× slower
// than its Conv2D (a 3×3, 64→64 layer at 56 px, batch 8: ~260 s vs ~2.6 s), and dL/dW of
// y = conv(xp, W, stride) is itself a convolution: input channels as the batch, the batch as
// channels, dy as the filter, dilated by the stride.
import * as tf from '@tensorflow/tfjs';
import { input } from '../backend-io';
import { WS_CONV2D, WS_CONV2D_BACKPROP_FILTER, WS_CONV2D_BACKPROP_INPUT, type ConvAttrs, type ConvFilterAttrs, type ConvInputAttrs } from '../names';

export function explicitPad(pad: number): [[number, number], [number, number], [number, number], [number, number]] {
  return [
    [0, 0],
    [pad, pad],
    [pad, pad],
    [0, 0],
  ];
}

/** Runs the backend's built-in kernel directly (looked up per call, so wrappers installed later apply). */
function builtin(name: string, backendName: string, args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const k = tf.getKernel(name, backendName);
  if (!k) throw new Error(`kernel ${name} is not registered for backend ${backendName}`);
  return k.kernelFunc(args) as tf.TensorInfo;
}

export function conv2dKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: WS_CONV2D,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { stride, pad } = attrs as unknown as ConvAttrs;
      return builtin('Conv2D', backendName, {
        inputs: { x: input(inputs, 'x', WS_CONV2D), filter: input(inputs, 'filter', WS_CONV2D) },
        attrs: { strides: stride, pad: explicitPad(pad), dataFormat: 'NHWC', dilations: 1 },
        backend,
      });
    },
  };
}

export function conv2dBackpropInputKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: WS_CONV2D_BACKPROP_INPUT,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { stride, pad, inputShape } = attrs as unknown as ConvInputAttrs;
      return builtin('Conv2DBackpropInput', backendName, {
        inputs: { dy: input(inputs, 'dy', WS_CONV2D_BACKPROP_INPUT), filter: input(inputs, 'filter', WS_CONV2D_BACKPROP_INPUT) },
        attrs: { strides: stride, pad: explicitPad(pad), dataFormat: 'NHWC', inputShape },
        backend,
      });
    },
  };
}

/** dL/dW for y = conv2d(xp, W, stride, 'valid'): [k, k, inC, outC], as one forward convolution. */
export function conv2dFilterGrad(xp: tf.Tensor4D, dy: tf.Tensor4D, k: number, stride: number): tf.Tensor4D {
  return tf.tidy(() => {
    const x = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D; // [inC, H, W, N]
    const f = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [oh, ow, N, outC]
    const g = tf.conv2d(x, f, 1, 'valid', 'NHWC', stride); // [inC, >=k, >=k, outC]
    return tf.transpose(tf.slice(g, [0, 0, 0, 0], [-1, k, k, -1]), [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

export function conv2dBackpropFilterKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: WS_CONV2D_BACKPROP_FILTER,
    backendName,
    kernelFunc: ({ inputs, attrs }) => {
      const { stride, pad, filterShape } = attrs as unknown as ConvFilterAttrs;
      const x = input(inputs, 'x', WS_CONV2D_BACKPROP_FILTER) as tf.Tensor4D;
      const dy = input(inputs, 'dy', WS_CONV2D_BACKPROP_FILTER) as tf.Tensor4D;
      return tf.tidy(() => conv2dFilterGrad(pad > 0 ? (tf.pad(x, explicitPad(pad)) as tf.Tensor4D) : x, dy, filterShape[0], stride));
    },
  };
}
