// The backend side of the test fault injection (fault-injection.ts), applied once per process
// before a run or a self-test picks its backend: registers the native stand-in so `backend:
// node|gpu|auto` selects it, and perturbs one workstation kernel on the 'tensorflow' backend.
// Loaded only when such a fault is set (it loads tfjs).
import * as tf from '@tensorflow/tfjs';
import { assumeNativeStandIn } from '../ml/backend';
import { registerWorkstationKernels } from '../ml/kernels/registry';
import { installNativeStandIn } from '../ml/kernels/native-stand-in';
import { STAND_IN_BACKEND_ENV, type Faults } from './fault-injection';

let applied = false;

/** Scales the first output of `kernel` on `backend` (a new tensor, so it works on any backend's storage). */
function perturb(kernel: string, backend: string, factor: number): void {
  const orig = tf.getKernel(kernel, backend);
  if (!orig) throw new Error(`test fault: no ${kernel} kernel on the ${backend} backend to perturb`);
  tf.unregisterKernel(kernel, backend);
  tf.registerKernel({
    ...orig,
    kernelFunc: (args) => {
      const out = orig.kernelFunc(args);
      const be = args.backend as tf.KernelBackend;
      const outs = Array.isArray(out) ? out : [out];
      const first = outs[0];
      const values = Float32Array.from(be.readSync(first.dataId) as Float32Array, (v) => v * factor);
      const scaled: tf.TensorInfo = { dataId: be.write(values, first.shape, first.dtype), shape: first.shape, dtype: first.dtype };
      be.disposeData(first.dataId);
      return Array.isArray(out) ? [scaled, ...outs.slice(1)] : scaled;
    },
  });
}

/** Idempotent. Does nothing without backend faults. */
export function applyBackendFaults(faults: Faults | undefined): void {
  if (applied || !faults || (!faults.standInBackend && !faults.perturbKernel)) return;
  applied = true;
  registerWorkstationKernels();
  if (faults.standInBackend) {
    // the probes first: a real tfjs-node installed on the machine is then never loaded here, so the
    // stand-in is what 'tensorflow' is on every machine (tests expect its behaviour)
    assumeNativeStandIn(faults.standInBackend);
    if (installNativeStandIn() !== 'stand-in')
      throw new Error(`${STAND_IN_BACKEND_ENV}: a real tfjs-node backend was loaded in this process before the stand-in could be registered`);
  }
  if (faults.perturbKernel) perturb(faults.perturbKernel.kernel, 'tensorflow', faults.perturbKernel.factor);
}
