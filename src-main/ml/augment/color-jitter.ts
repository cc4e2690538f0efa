// ColorJitter with torchvision's semantics (albumentations' ColorJitter follows torchvision), on
// the tensor side of the pipeline. Per sample, with probability p: brightness, contrast, saturation
// factors uniform in [max(0, 1 - x), 1 + x], hue shift uniform in [-h, h], the four ops applied in a
// random order (torch.randperm(4) equivalent). Golden-tested against torchvision 0.14
// (scripts/golden/color_jitter.py, tests/ml/color-jitter.test.ts).
//
// drawJitter makes the per-sample draws (color-jitter-draw.ts); applyColorJitter runs them as the
// WsColorJitter kernel where the backend has one (the pure-JS 'cpu' backend: the plain loop of
// color-jitter-cpu.ts, ~80× faster there), else as batched tfjs ops (color-jitter-ops.ts: GPU with
// tfjs-node-gpu, libtensorflow CPU with tfjs-node).
import * as tf from '@tensorflow/tfjs';
import { WorkstationError } from '../../../src-shared/errors';
import { fused, wsColorJitter } from '../kernels/ops';
import { jitterPixels } from './color-jitter-cpu';
import type { JitterDraw } from './color-jitter-draw';
import { applyColorJitterOps } from './color-jitter-ops';

export { drawJitter, GRAY_WEIGHTS, JITTER_OPS, type JitterDraw, type JitterOp } from './color-jitter-draw';
export { applyColorJitterOps } from './color-jitter-ops';

/** The loop path on a CPU-backend tensor: read, jitter in place, wrap (the input is not disposed). */
export function applyColorJitterCpu(x: tf.Tensor4D, draws: readonly JitterDraw[]): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const data = Float32Array.from(x.dataSync());
  jitterPixels(data, h * w, draws);
  return tf.tensor4d(data, [n, h, w, 3], 'float32');
}

/**
 * Applies each sample's draw to a [N,H,W,3] float batch in [0, 1]; returns a new tensor (the
 * input is not disposed). `fusedKernels: false` forces the batched tfjs ops.
 */
export function applyColorJitter(x: tf.Tensor4D, draws: readonly JitterDraw[], opts: { fusedKernels?: boolean } = {}): tf.Tensor4D {
  const n = x.shape[0];
  if (draws.length !== n) throw new WorkstationError('INVALID_ARGUMENT', `applyColorJitter: ${draws.length} draws for a batch of ${n}`, { field: 'draws' });
  if (x.shape[3] !== 3) throw new WorkstationError('INVALID_ARGUMENT', `applyColorJitter: expected 3 channels, got ${x.shape[3]}`, { field: 'x' });
  if (x.dtype !== 'float32') throw new WorkstationError('INVALID_ARGUMENT', `applyColorJitter: expected float32, got ${x.dtype}`, { field: 'x' });
  if (!draws.some((d) => d.applied)) return tf.clone(x);
  return fused(opts.fusedKernels, 'colorJitter') ? wsColorJitter(x, draws) : applyColorJitterOps(x, draws);
}
