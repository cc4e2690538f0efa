// Reading inputs and writing outputs of JavaScript kernels through the generic KernelBackend
// interface (readSync / write), so the same loops serve the cpu backend and the stand-in.
import * as tf from '@tensorflow/tfjs';

export type Values = ArrayLike<number>;

export function read(backend: tf.KernelBackend, t: tf.TensorInfo): Values {
  return backend.readSync(t.dataId) as Values;
}

export function write(backend: tf.KernelBackend, values: Float32Array, shape: number[]): tf.TensorInfo {
  return { dataId: backend.write(values, shape, 'float32'), shape, dtype: 'float32' };
}

/** The kernel's input `name`, or a clear error (a caller passed the wrong inputs). */
export function input(inputs: tf.NamedTensorInfoMap, name: string, kernel: string): tf.TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`${kernel}: missing input "${name}"`);
  return t;
}
