// WsColorJitter on the pure-JS cpu backend: the per-pixel loop of augment/color-jitter-cpu.ts on
// the tensor's own memory (a copy), ~80× faster there than the batched tfjs ops.
import * as tf from '@tensorflow/tfjs';
import { jitterPixels } from '../../augment/color-jitter-cpu';
import type { JitterDraw } from '../../augment/color-jitter-draw';
import { input, read, write } from '../backend-io';
import { WS_COLOR_JITTER } from '../names';

export function colorJitterKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: WS_COLOR_JITTER,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const be = backend as tf.KernelBackend;
      const x = input(inputs, 'x', WS_COLOR_JITTER);
      const [, h, w] = x.shape;
      const data = Float32Array.from(read(be, x));
      jitterPixels(data, h * w, (attrs as unknown as { draws: JitterDraw[] }).draws);
      return write(be, data, x.shape);
    },
  };
}
