// The training paths a numeric suite runs on: each tfjs backend this process has
// (tests/helpers/backends.ts) plus, where tfjs-node is not installed, the stand-in 'tensorflow'
// backend (src-main/ml/kernels/native-stand-in.ts: cpu kernels under the native backend's name, our
// native kernels on emulated TensorFlow ops), each with the workstation's fused kernels and with
// the composite path (train.fusedKernels: false).
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, beforeEach, describe } from 'vitest';
import { installNativeStandIn, uninstallNativeStandIn } from '../../src-main/ml/kernels/native-stand-in';
import { BACKENDS, type TestBackend } from '../helpers/backends';

export interface TrainingPath {
  backend: TestBackend;
  /** the stand-in plays 'tensorflow' with JavaScript numerics: tolerances as on cpu */
  standIn: boolean;
  fusedKernels: boolean;
  /** the backend whose tolerances apply */
  tolerances: TestBackend;
}

export const PATHS: readonly TrainingPath[] = Object.freeze(
  [
    ...BACKENDS.map((backend) => ({ backend, standIn: false })),
    ...(BACKENDS.includes('tensorflow') ? [] : [{ backend: 'tensorflow' as const, standIn: true }]),
  ].flatMap(({ backend, standIn }) =>
    [true, false].map((fusedKernels) => ({ backend, standIn, fusedKernels, tolerances: standIn ? ('cpu' as const) : backend })),
  ),
);

export function pathName(p: TrainingPath): string {
  return `${p.backend}${p.standIn ? ' stand-in' : ''}, ${p.fusedKernels ? 'fused kernels' : 'composite'}`;
}

/** `describe(name [path])` once per training path, with its backend selected before its tests. */
export function describeEachPath(name: string, fn: (p: TrainingPath) => void, filter: (p: TrainingPath) => boolean = () => true): void {
  for (const p of PATHS.filter(filter)) {
    describe(`${name} [${pathName(p)}]`, () => {
      beforeAll(async () => {
        if (p.standIn) installNativeStandIn();
        if (!(await tf.setBackend(p.backend))) throw new Error(`tfjs backend "${p.backend}" failed to initialise`);
        await tf.ready();
      });
      afterAll(async () => {
        if (p.standIn) await uninstallNativeStandIn();
      });
      beforeEach(() => {
        if (tf.getBackend() !== p.backend) throw new Error(`expected the ${p.backend} backend, ${tf.getBackend()} is selected`);
      });
      fn(p);
    });
  }
}
