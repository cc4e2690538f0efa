// What our 'tensorflow' kernels use of tfjs-node's NodeJSKernelBackend (tfjs-node/src/
// nodejs_kernel_backend.ts): executeSingleOutput / executeMultipleOutputs (one synchronous
// TFE_Execute each) with TFE op attributes typed by the binding's TF_ATTR_* constants. tfjs-node is
// an optional dependency, so this is typed structurally here instead of imported.
import * as tf from '@tensorflow/tfjs';

export interface TfBinding {
  TF_ATTR_STRING: number;
  TF_ATTR_INT: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_TYPE: number;
  TF_FLOAT: number;
  TF_INT32: number;
}

export interface TfeOpAttr {
  name: string;
  type: number;
  value: string | number | boolean | number[];
}

export interface NativeBackend {
  binding: TfBinding;
  executeSingleOutput(name: string, attrs: TfeOpAttr[], inputs: tf.TensorInfo[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: TfeOpAttr[], inputs: tf.TensorInfo[], numOutputs: number): tf.Tensor[];
  incRef(dataId: tf.DataId): void;
}

export function nativeBackend(backend: unknown, kernel: string): NativeBackend {
  const b = backend as Partial<NativeBackend> | null;
  if (!b || typeof b.executeSingleOutput !== 'function' || typeof b.executeMultipleOutputs !== 'function' || !b.binding) {
    throw new Error(`${kernel}: the 'tensorflow' backend has no executeSingleOutput/executeMultipleOutputs (not tfjs-node's backend)`);
  }
  return b as NativeBackend;
}

/** Attribute builders bound to one backend's binding constants. */
export function attrs(b: NativeBackend) {
  const k = b.binding;
  return {
    float32: (name: string): TfeOpAttr => ({ name, type: k.TF_ATTR_TYPE, value: k.TF_FLOAT }),
    int32Type: (name: string): TfeOpAttr => ({ name, type: k.TF_ATTR_TYPE, value: k.TF_INT32 }),
    float: (name: string, value: number): TfeOpAttr => ({ name, type: k.TF_ATTR_FLOAT, value }),
    int: (name: string, value: number | number[]): TfeOpAttr => ({ name, type: k.TF_ATTR_INT, value }),
    bool: (name: string, value: boolean): TfeOpAttr => ({ name, type: k.TF_ATTR_BOOL, value }),
    string: (name: string, value: string): TfeOpAttr => ({ name, type: k.TF_ATTR_STRING, value }),
  };
}

/** A second handle on the same data (tfjs-node's Identity kernel does the same: no TF op). */
export function alias(b: NativeBackend, t: tf.TensorInfo): tf.TensorInfo {
  b.incRef(t.dataId);
  return { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
}
