// WsSgdUpdate on tfjs-node's 'tensorflow' backend. TensorFlow's ApplyMomentum family needs
// resource or ref variables, which tfjs-node does not have, so the update is elementwise ops; to
// issue few of them, variables of the same shape (and the same decay / buffer state) are stacked
// with Pack, updated together and split back with Unpack: ~11 TF ops per group of same-shaped
// variables instead of ~6 per variable (ResNet-50: 161 variables). Elementwise float32 only (no
// MatMul, which TF32 would round), in the composite path's order of operations.
import * as tf from '@tensorflow/tfjs';
import { WS_SGD_UPDATE, type SgdAttrs } from '../names';
import { alias, attrs, nativeBackend } from './native';

export const sgdUpdateTensorflow: tf.KernelConfig = {
  kernelName: WS_SGD_UPDATE,
  backendName: 'tensorflow',
  kernelFunc: ({ inputs, attrs: at, backend }) => {
    const b = nativeBackend(backend, WS_SGD_UPDATE);
    const o = at as unknown as SgdAttrs;
    const a = attrs(b);
    const T = [a.float32('T')];
    const list = inputs as unknown as tf.TensorInfo[];
    const n = o.decay.length;
    const bufOf: (tf.TensorInfo | null)[] = [];
    for (let i = 0, j = 2 * n; i < n; i++) bufOf.push(o.hasBuffer[i] ? list[j++] : null);
    const useMomentum = o.momentum !== 0;
    const groups = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const key = `${list[i].shape.join('x')}|${o.decay[i]}|${useMomentum && o.hasBuffer[i]}`;
      const g = groups.get(key);
      if (g) g.push(i);
      else groups.set(key, [i]);
    }
    const temps: tf.TensorInfo[] = [];
    const op = (name: string, ins: tf.TensorInfo[]): tf.TensorInfo => {
      const t = b.executeSingleOutput(name, T, ins);
      temps.push(t);
      return t;
    };
    const scalar = (v: number): tf.TensorInfo => {
      const t = tf.scalar(v, 'float32');
      temps.push(t);
      return t;
    };
    const lr = scalar(o.lr);
    const m = useMomentum ? scalar(o.momentum) : null;
    const wd = o.weightDecay !== 0 ? scalar(o.weightDecay) : null;
    const damp = useMomentum && o.dampening !== 0 ? scalar(1 - o.dampening) : null;
    const pack = (ts: tf.TensorInfo[]): tf.TensorInfo => {
      if (ts.length === 1) return ts[0];
      const t = b.executeSingleOutput('Pack', [a.float32('T'), a.int('N', ts.length), a.int('axis', 0)], ts);
      temps.push(t);
      return t;
    };
    const unpack = (t: tf.TensorInfo, k: number): tf.TensorInfo[] =>
      k === 1 ? [t] : b.executeMultipleOutputs('Unpack', [a.float32('T'), a.int('num', k), a.int('axis', 0)], [t], k);
    const newParams: tf.TensorInfo[] = new Array(n);
    const newBuffers: tf.TensorInfo[] = new Array(n);
    for (const idx of groups.values()) {
      const i0 = idx[0];
      const P = pack(idx.map((i) => list[i]));
      const G = pack(idx.map((i) => list[n + i]));
      let D = o.decay[i0] && wd ? op('AddV2', [G, op('Mul', [P, wd])]) : G;
      if (m) {
        let B: tf.TensorInfo;
        if (bufOf[i0]) {
          const old = pack(idx.map((i) => bufOf[i] as tf.TensorInfo));
          B = op('AddV2', [op('Mul', [old, m]), damp ? op('Mul', [D, damp]) : D]);
        } else B = D; // first step: the buffer starts as d_p
        unpack(B, idx.length).forEach((t, k) => (newBuffers[idx[k]] = t));
        D = o.nesterov ? op('AddV2', [D, op('Mul', [B, m])]) : B;
      }
      unpack(op('Sub', [P, op('Mul', [D, lr])]), idx.length).forEach((t, k) => (newParams[idx[k]] = t));
    }
    // An output that is an input (a single gradient kept as the first buffer) gets its own handle;
    // temporaries that became outputs are not freed.
    const ins = new Set(list.map((t) => t.dataId));
    const outs = [...newParams, ...(m ? newBuffers : [])].map((t) => (ins.has(t.dataId) ? alias(b, t) : t));
    const kept = new Set(outs);
    for (const t of temps) if (!kept.has(t)) (t as tf.Tensor).dispose();
    return outs;
  },
};
