// Training-step benchmark: the trainer's own step (prepareBatch with jitter, forward, backward, SGD
// with momentum + weight decay, BN running stats) on a synthetic uint8 batch, timed after warm-up.
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import type { Batch } from '../../src-shared/batch-source';
import { resolveRunConfig, type BackendRequest } from '../../src-shared/config/run-config';
import { createRng } from '../../src-shared/random';
import { prepareBatch } from './augment/prepare-batch';
import { selectBackend, type BackendInfo } from './backend';
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

export async function runBenchEngine(o: BenchEngineOptions): Promise<BenchEngineResult> {
  const backend = await selectBackend(o.backend);
  const cfg = resolveRunConfig([{ model: { numClasses: o.classes, widthMultiplier: o.width }, train: { batchSize: o.batch } }]);
  const model = createModel(cfg.model, 0);
  const optimizer = createOptimizer(
    cfg.optimizer,
    model.vars.filter((v) => v.trainable).map((v) => ({ name: v.name, variable: v.variable, decay: true })),
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
  let peakRss = process.memoryUsage().rss;
  let peakTf = tf.memory().numBytes;
  const times: number[] = [];
  const step = () => {
    const x = prepareBatch(batch, { train: true, augment: cfg.augment, seed: 0 });
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
    acc.dispose();
    optimizer.dispose();
    model.dispose();
  }
}
