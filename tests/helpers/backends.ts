// The tfjs backends this test process can run, and `describeEachBackend`, which runs a suite once
// on each of them (the way tfjs's own tests run on every registered backend). 'cpu' (pure JS) is
// always there; 'tensorflow' (libtensorflow) when @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node
// loads, required the way the app requires them (src-main/ml/backend.ts: the GPU build first,
// never both). On a machine with neither, the suites run on 'cpu' only.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, beforeEach, describe } from 'vitest';
import { probeNative } from '../../src-main/ml/backend';

export type TestBackend = 'cpu' | 'tensorflow';

function usableBackends(): TestBackend[] {
  const out: TestBackend[] = ['cpu'];
  const native = probeNative('@tensorflow/tfjs-node-gpu').loaded || probeNative('@tensorflow/tfjs-node').loaded;
  // a package that loads but registers no backend is a broken install: the suite then says so
  // when it cannot select 'tensorflow' (see describeEachBackend), instead of quietly skipping it
  if (native) out.push('tensorflow');
  return out;
}

/** The backends every numeric suite runs on here: always 'cpu', plus 'tensorflow' when a native package loads. */
export const BACKENDS: readonly TestBackend[] = Object.freeze(usableBackends());

/**
 * `describe(name [backend])` once per backend in BACKENDS, with that backend selected before its
 * tests; `fn` gets the backend's name (for per-backend tolerances). A backend that fails to
 * initialise fails the suite.
 */
export function describeEachBackend(name: string, fn: (backend: TestBackend) => void): void {
  for (const backend of BACKENDS) {
    describe(`${name} [${backend}]`, () => {
      beforeAll(async () => {
        if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend "${backend}" failed to initialise`);
        await tf.ready();
      });
      beforeEach(() => {
        if (tf.getBackend() !== backend) throw new Error(`expected the ${backend} backend, ${tf.getBackend()} is selected`);
      });
      fn(backend);
    });
  }
}
