// Counts what a piece of code dispatches on one backend: every call of a built-in tfjs kernel
// counts 1 under its name (on tfjs-node each is one TFE_Execute, Identity excepted: it only adds
// a reference), and each of our Ws* kernels counts the TensorFlow ops it issues itself through
// executeSingleOutput / executeMultipleOutputs, as "WsKernel:TFOp" (so fusing cannot hide ops),
// or the built-in kernels it calls. Works the same on the real tfjs-node backend and on the stand-in.
import * as tf from '@tensorflow/tfjs';
import { isWsKernel } from './names';

export interface DispatchCount {
  total: number;
  byKernel: Record<string, number>;
}

type Execute = (...args: unknown[]) => unknown;

export function countDispatches<T>(backendName: string, fn: () => T): { result: T; count: DispatchCount } {
  const byKernel = new Map<string, number>();
  const add = (name: string) => byKernel.set(name, (byKernel.get(name) ?? 0) + 1);
  const stack: { name: string; ours: boolean }[] = [];
  const originals = tf.getKernelsForBackend(backendName);
  for (const k of originals) {
    const ours = isWsKernel(k.kernelName);
    tf.unregisterKernel(k.kernelName, backendName);
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        if (!ours) add(k.kernelName);
        stack.push({ name: k.kernelName, ours });
        try {
          return k.kernelFunc(args);
        } finally {
          stack.pop();
        }
      },
    });
  }
  const backend = tf.findBackend(backendName) as unknown as Record<string, Execute> | null;
  const methods = ['executeSingleOutput', 'executeMultipleOutputs'] as const;
  const saved = methods.map((m) => backend?.[m]);
  const own = methods.map((m) => backend !== null && Object.prototype.hasOwnProperty.call(backend, m));
  if (backend) {
    methods.forEach((m, i) => {
      const orig = saved[i];
      if (typeof orig !== 'function') return;
      backend[m] = function (this: unknown, ...args: unknown[]) {
        const top = stack[stack.length - 1];
        // ops a built-in kernel issues are that kernel's (already counted)
        if (!top) add(String(args[0]));
        else if (top.ours) add(`${top.name}:${String(args[0])}`);
        return orig.apply(this, args);
      };
    });
  }
  try {
    const result = fn();
    const sorted = [...byKernel].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    return { result, count: { total: sorted.reduce((s, [, n]) => s + n, 0), byKernel: Object.fromEntries(sorted) } };
  } finally {
    if (backend) methods.forEach((m, i) => (own[i] ? (backend[m] = saved[i] as Execute) : delete backend[m]));
    for (const k of originals) {
      tf.unregisterKernel(k.kernelName, backendName);
      tf.registerKernel(k);
    }
  }
}
