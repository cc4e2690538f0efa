// Training-step benchmark: the trainer's own step (prepareBatch with jitter, forward, backward, SGD
// with momentum + weight decay, BN running stats) on a synthetic uint8 batch, timed after warm-up;
// and the kernel count of one such step as dispatched on the native code path (countEngineKernels).
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import type { Batch } from '../../src-shared/batch-source';
import { resolveRunConfig, type BackendRequest } from '../../src-shared/config/run-config';
import { createRng } from '../../src-shared/random';
import { prepareBatch } from './augment/prepare-batch';
import { probeNative, selectBackend, type BackendInfo } from './backend';
import { countDispatches } from './kernels/dispatch-count';
import { installNativeStandIn } from './kernels/native-stand-in';
import { createMetricAccumulator } from './metrics';
import { createModel } from './models/index';
import { createOptimizer } from './optim/sgd';
import { trainStep } from './train-step';

export interface BenchEngineOptions {
  backend: BackendRequest;
  batch: number;
  size: number;
  width: number;
  classes: number;
  steps: number;
  warmup: number;
  /** train.fusedKernels (default true): false runs the composite path for comparison */
  fusedKernels?: boolean;
  onProgress?(msg: string): void;
}

export interface BenchEngineResult {
  backend: BackendInfo;
  arch: 'resnet50';
  batch: number;
  size: number;
  widthMultiplier: number;
  numClasses: number;
  trainableParams: number;
  fusedKernels: boolean;
  warmupSteps: number;
  steps: number;
  seconds: number;
  stepsPerSec: number;
  imagesPerSec: number;
  /** mean / fastest step time in ms */
  stepMs: { mean: number; min: number };
  peakRssMiB: number;
  peakTfMiB: number;
  tensorsAfter: number;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string };
}

interface Bench {
  model: ReturnType<typeof createModel>;
  optimizer: ReturnType<typeof createOptimizer>;
  acc: ReturnType<typeof createMetricAccumulator>;
  batch: Batch;
  cfg: ReturnType<typeof resolveRunConfig>;
  dispose(): void;
}

/** Model, optimizer (momentum 0.9, weight decay 1e-4 on all variables) and a random uint8 batch. */
function setUp(o: Pick<BenchEngineOptions, 'batch' | 'size' | 'width' | 'classes' | 'fusedKernels'>): Bench {
  const fusedKernels = o.fusedKernels !== false;
  const cfg = resolveRunConfig([{ model: { numClasses: o.classes, widthMultiplier: o.width }, train: { batchSize: o.batch } }]);
  const model = createModel(cfg.model, 0, { fusedKernels });
  const optimizer = createOptimizer(
    cfg.optimizer,
    model.vars.filter((v) => v.trainable).map((v) => ({ name: v.name, variable: v.variable, decay: true })),
    { fusedKernels },
  );
  const acc = createMetricAccumulator();
  const rng = createRng(0, 99);
  const images = new Uint8Array(o.batch * o.size * o.size * 3);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256);
  const batch: Batch = {
    split: 'train',
    epoch: 1,
    index: 0,
    n: o.batch,
    height: o.size,
    width: o.size,
    images,
    labels: Int32Array.from({ length: o.batch }, (_, i) => i % o.classes),
    sampleIds: Int32Array.from({ length: o.batch }, (_, i) => i),
  };
  return { model, optimizer, acc, batch, cfg, dispose: () => (acc.dispose(), optimizer.dispose(), model.dispose()) };
}

export async function runBenchEngine(o: BenchEngineOptions): Promise<BenchEngineResult> {
  const backend = await selectBackend(o.backend);
  const fusedKernels = o.fusedKernels !== false;
  const { model, optimizer, acc, batch, cfg, dispose } = setUp(o);
  let peakRss = process.memoryUsage().rss;
  let peakTf = tf.memory().numBytes;
  const times: number[] = [];
  const step = () => {
    const x = prepareBatch(batch, { train: true, augment: cfg.augment, seed: 0, fusedKernels });
    trainStep(model, optimizer, { x, labels: batch.labels, lr: cfg.optimizer.lr, momentum: cfg.optimizer.momentum, labelSmoothing: 0 }, acc);
    x.dispose();
    peakTf = Math.max(peakTf, tf.memory().numBytes);
  };
  try {
    for (let i = 0; i < o.warmup; i++) {
      step();
      acc.read(); // waits for the device
      o.onProgress?.(`warm-up ${i + 1}/${o.warmup}`);
    }
    const t0 = performance.now();
    for (let i = 0; i < o.steps; i++) {
      const s = performance.now();
      step();
      acc.read(); // one sync per step, so step times are real (the trainer syncs less often)
      times.push(performance.now() - s);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      o.onProgress?.(`step ${i + 1}/${o.steps}: ${times[times.length - 1].toFixed(0)} ms`);
    }
    const seconds = (performance.now() - t0) / 1000;
    return {
      backend,
      arch: 'resnet50',
      batch: o.batch,
      size: o.size,
      widthMultiplier: o.width,
      numClasses: o.classes,
      trainableParams: model.trainableParams,
      fusedKernels,
      warmupSteps: o.warmup,
      steps: o.steps,
      seconds,
      stepsPerSec: o.steps / seconds,
      imagesPerSec: (o.steps * o.batch) / seconds,
      stepMs: { mean: times.reduce((a, b) => a + b, 0) / times.length, min: Math.min(...times) },
      peakRssMiB: Math.round(peakRss / 2 ** 20),
      peakTfMiB: Math.round(peakTf / 2 ** 20),
      tensorsAfter: tf.memory().numTensors,
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
        platform: `${process.platform}/${process.arch}`,
      },
    };
  } finally {
    dispose();
  }
}

export interface KernelCountOptions {
  batch: number;
  size: number;
  width: number;
  classes: number;
  fusedKernels?: boolean;
  onProgress?(msg: string): void;
}

export interface KernelCountResult {
  /** kernels of one steady-state training step: forward, loss, backward, SGD, BN running stats */
  kernelsPerStep: number;
  byKernel: Record<string, number>;
  codePath: 'native';
  /** 'tensorflow': tfjs-node's backend; 'stand-in': the cpu kernels registered as 'tensorflow' */
  backend: 'tensorflow' | 'stand-in';
  fusedKernels: boolean;
  /** the first step (no momentum buffers yet) */
  firstStepKernels: number;
  /** prepareBatch (÷255, colour jitter, normalise) before the step, not in kernelsPerStep; depends on the draws */
  prepareKernels: number;
  /** kernelsPerStep without Identity (a reference count on tfjs-node, no TensorFlow op) */
  tfOpsPerStep: number;
  model: { arch: 'resnet50'; widthMultiplier: number; numClasses: number; trainableParams: number };
  batch: number;
  size: number;
}

/**
 * Counts the kernels one training step dispatches on the native code path ('tensorflow'): on
 * tfjs-node's backend when it loads, else on the stand-in (kernels/native-stand-in.ts). Two steps
 * run; the second (with momentum buffers, as in steady state) is kernelsPerStep. The count does
 * not depend on batch or image size.
 */
export async function countEngineKernels(o: KernelCountOptions): Promise<KernelCountResult> {
  const native = probeNative('@tensorflow/tfjs-node-gpu').loaded || probeNative('@tensorflow/tfjs-node').loaded;
  const kind = native ? 'native' : installNativeStandIn();
  if (!(await tf.setBackend('tensorflow'))) throw new Error("the 'tensorflow' backend failed to initialise");
  const fusedKernels = o.fusedKernels !== false;
  const b = setUp(o);
  try {
    const counts: number[] = [];
    let last: ReturnType<typeof countDispatches>['count'] | null = null;
    let prepareKernels = 0;
    for (let s = 0; s < 2; s++) {
      const prep = countDispatches('tensorflow', () => prepareBatch(b.batch, { train: true, augment: b.cfg.augment, seed: 0, fusedKernels }));
      prepareKernels = prep.count.total;
      const x = prep.result;
      try {
        const { count } = countDispatches('tensorflow', () =>
          trainStep(b.model, b.optimizer, { x, labels: b.batch.labels, lr: b.cfg.optimizer.lr, momentum: b.cfg.optimizer.momentum, labelSmoothing: 0 }, b.acc),
        );
        counts.push(count.total);
        last = count;
      } finally {
        x.dispose();
      }
      b.acc.read();
      o.onProgress?.(`step ${s + 1}/2: ${counts[s]} kernels`);
    }
    const c = last!;
    return {
      kernelsPerStep: c.total,
      byKernel: c.byKernel,
      codePath: 'native',
      backend: kind === 'native' ? 'tensorflow' : 'stand-in',
      fusedKernels,
      firstStepKernels: counts[0],
      prepareKernels,
      tfOpsPerStep: c.total - (c.byKernel.Identity ?? 0),
      model: { arch: 'resnet50', widthMultiplier: o.width, numClasses: o.classes, trainableParams: b.model.trainableParams },
      batch: o.batch,
      size: o.size,
    };
  } finally {
    b.dispose();
  }
}
