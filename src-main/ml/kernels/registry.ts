// Registers the workstation kernels for the backends that have them (cpu: JavaScript; tensorflow:
// TensorFlow ops through tfjs-node) and their gradients, once per process, the way tfjs backends
// register theirs on import. Which path a model takes is decided from this registry, never from
// the backend's name: a backend with all of a feature's kernels runs them, any other backend (or
// `train.fusedKernels: false`) the composite of tfjs built-in ops.
import * as tf from '@tensorflow/tfjs';
import { batchNormGradKernel, fusedBatchNormKernel } from './cpu/batch-norm';
import { colorJitterKernel } from './cpu/color-jitter';
import { conv2dBackpropFilterKernel, conv2dBackpropInputKernel, conv2dKernel } from './cpu/conv';
import { sgdUpdateKernel } from './cpu/sgd';
import { WS_GRADIENTS } from './gradients';
import { batchNormGradTensorflow, fusedBatchNormTensorflow } from './tensorflow/batch-norm';
import { conv2dBackpropFilterTensorflow, conv2dBackpropInputTensorflow, conv2dTensorflow } from './tensorflow/conv';
import { sgdUpdateTensorflow } from './tensorflow/sgd';

/** The kernels each backend gets. 'tensorflow' has no WsColorJitter: the batched ops run there. */
export function workstationKernels(): tf.KernelConfig[] {
  return [
    conv2dKernel('cpu'),
    conv2dBackpropInputKernel('cpu'),
    conv2dBackpropFilterKernel('cpu'),
    fusedBatchNormKernel('cpu'),
    batchNormGradKernel('cpu'),
    sgdUpdateKernel('cpu'),
    colorJitterKernel('cpu'),
    conv2dTensorflow,
    conv2dBackpropInputTensorflow,
    conv2dBackpropFilterTensorflow,
    fusedBatchNormTensorflow,
    batchNormGradTensorflow,
    sgdUpdateTensorflow,
  ];
}

let registered = false;

/** Idempotent; every module that runs a workstation kernel calls it at import. */
export function registerWorkstationKernels(): void {
  if (registered) return;
  registered = true;
  for (const k of workstationKernels()) if (!tf.getKernel(k.kernelName, k.backendName)) tf.registerKernel(k);
  for (const g of WS_GRADIENTS) if (!tf.getGradient(g.kernelName)) tf.registerGradient(g);
}

/** Whether the active backend has every one of these kernels registered. */
export function hasKernels(names: readonly string[]): boolean {
  const backend = tf.getBackend();
  return names.every((n) => tf.getKernel(n, backend) != null);
}
