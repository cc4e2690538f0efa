// Convolution kernels on tfjs-node's 'tensorflow' backend: TensorFlow's Conv2D and its two
// backprop ops with padding "EXPLICIT". tfjs-node's own Conv2DBackpropInput / Conv2DBackpropFilter
// kernels accept only 'valid' and 'same' and throw on explicit padding, so tfjs's built-in
// gradient of a PyTorch-padded conv cannot run there; these call the TF ops directly (one each).
import * as tf from '@tensorflow/tfjs';
import { input } from '../backend-io';
import { WS_CONV2D, WS_CONV2D_BACKPROP_FILTER, WS_CONV2D_BACKPROP_INPUT, type ConvAttrs, type ConvFilterAttrs, type ConvInputAttrs } from '../names';
import { attrs, nativeBackend, type NativeBackend, type TfeOpAttr } from './native';

function convAttrs(b: NativeBackend, stride: number, pad: number): TfeOpAttr[] {
  const a = attrs(b);
  const out = [
    a.float32('T'),
    a.int('strides', [1, stride, stride, 1]),
    a.string('padding', pad > 0 ? 'EXPLICIT' : 'VALID'),
    a.string('data_format', 'NHWC'),
    a.bool('use_cudnn_on_gpu', true),
    a.int('dilations', [1, 1, 1, 1]),
  ];
  if (pad > 0) out.push(a.int('explicit_paddings', [0, 0, pad, pad, pad, pad, 0, 0]));
  return out;
}

export const conv2dTensorflow: tf.KernelConfig = {
  kernelName: WS_CONV2D,
  backendName: 'tensorflow',
  kernelFunc: ({ inputs, attrs: at, backend }) => {
    const b = nativeBackend(backend, WS_CONV2D);
    const { stride, pad } = at as unknown as ConvAttrs;
    return b.executeSingleOutput('Conv2D', convAttrs(b, stride, pad), [input(inputs, 'x', WS_CONV2D), input(inputs, 'filter', WS_CONV2D)]);
  },
};

export const conv2dBackpropInputTensorflow: tf.KernelConfig = {
  kernelName: WS_CONV2D_BACKPROP_INPUT,
  backendName: 'tensorflow',
  kernelFunc: ({ inputs, attrs: at, backend }) => {
    const b = nativeBackend(backend, WS_CONV2D_BACKPROP_INPUT);
    const { stride, pad, inputShape } = at as unknown as ConvInputAttrs;
    const sizes = tf.tensor1d(inputShape, 'int32');
    try {
      return b.executeSingleOutput('Conv2DBackpropInput', convAttrs(b, stride, pad), [
        sizes,
        input(inputs, 'filter', WS_CONV2D_BACKPROP_INPUT),
        input(inputs, 'dy', WS_CONV2D_BACKPROP_INPUT),
      ]);
    } finally {
      sizes.dispose();
    }
  },
};

export const conv2dBackpropFilterTensorflow: tf.KernelConfig = {
  kernelName: WS_CONV2D_BACKPROP_FILTER,
  backendName: 'tensorflow',
  kernelFunc: ({ inputs, attrs: at, backend }) => {
    const b = nativeBackend(backend, WS_CONV2D_BACKPROP_FILTER);
    const { stride, pad, filterShape } = at as unknown as ConvFilterAttrs;
    const sizes = tf.tensor1d(filterShape, 'int32');
    try {
      return b.executeSingleOutput('Conv2DBackpropFilter', convAttrs(b, stride, pad), [
        input(inputs, 'x', WS_CONV2D_BACKPROP_FILTER),
        sizes,
        input(inputs, 'dy', WS_CONV2D_BACKPROP_FILTER),
      ]);
    } finally {
      sizes.dispose();
    }
  },
};
