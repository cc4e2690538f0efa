// WsSgdUpdate on the pure-JS cpu backend: one loop per variable, one kernel per step for the whole
// model (the composite path runs ~6 tfjs kernels per variable).
import * as tf from '@tensorflow/tfjs';
import { read, write } from '../backend-io';
import { WS_SGD_UPDATE, type SgdAttrs } from '../names';
import { sgdUpdate } from '../sgd-math';

export function sgdUpdateKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: WS_SGD_UPDATE,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const be = backend as tf.KernelBackend;
      const a = attrs as unknown as SgdAttrs;
      const list = inputs as unknown as tf.TensorInfo[];
      const n = a.decay.length;
      const params: tf.TensorInfo[] = [];
      const buffers: tf.TensorInfo[] = [];
      let b = 2 * n;
      for (let i = 0; i < n; i++) {
        const p = list[i];
        const buf = a.hasBuffer[i] ? list[b++] : null;
        const r = sgdUpdate(read(be, p), read(be, list[n + i]), buf ? read(be, buf) : null, a.decay[i], a);
        params.push(write(be, r.p, p.shape));
        if (r.buf) buffers.push(write(be, r.buf, p.shape));
      }
      return [...params, ...buffers];
    },
  };
}
