// Checkpoints for the interop tests: a seeded model whose every tensor carries distinct values
// (BN statistics and affine parameters, FC bias and momentum buffers drawn too, not left at 1/0),
// so a wrong name, layout or order anywhere changes the logits or the bytes.
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { resolveRunConfig, type RunConfig } from '../../../src-shared/config/run-config';
import { createRng, RNG_PURPOSE } from '../../../src-shared/random';
import { saveCheckpoint } from '../../../src-main/ml/checkpoint';
import type { NamedArray } from '../../../src-main/ml/checkpoint-file';
import { createModel, type Model } from '../../../src-main/ml/models/index';

export const PYTHON = '/usr/bin/python3';

/** Debian's python3-torch + python3-torchvision on /usr/bin/python3 (installed by .ci/run). */
export function hasTorch(): boolean {
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  return r.status === 0;
}

/** Torch tests run where torch is; in CI (which installs it) a missing torch is a failure, not a skip. */
export const TORCH = hasTorch();
export const RUN_TORCH_TESTS = TORCH || !!process.env.CI;

export function interopConfig(over: Record<string, unknown> = {}): Readonly<RunConfig> {
  return resolveRunConfig([
    {
      name: 'interop',
      seed: 3,
      backend: 'cpu',
      model: { numClasses: 10, widthMultiplier: 1 / 16 },
      data: { valTransform: 'resize-center-crop', valResize: 40, valSize: 32, trainSize: 32 },
      train: { epochs: 4, batchSize: 8 },
      schedule: { policy: 'onecycle', maxLr: 0.05 },
    },
    over,
  ]);
}

/** Fills BN and FC-bias variables with seeded values (conv and FC kernels keep their seeded init). */
export function perturb(model: Model, seed = 11): void {
  model.vars.forEach((v, i) => {
    if (v.kind === 'conv' || v.kind === 'fc-kernel') return;
    const rng = createRng(seed, RNG_PURPOSE.init, 1000 + i);
    const n = v.variable.size;
    const data = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      const u = rng.next();
      data[k] = v.kind === 'bn-gamma' ? 0.8 + 0.4 * u : v.kind === 'bn-var' ? 0.5 + u : v.kind === 'bn-mean' ? 0.2 * (u - 0.5) : 0.1 * (u - 0.5);
    }
    const t = tf.tensor(data, v.shape, 'float32');
    v.variable.assign(t);
    t.dispose();
  });
}

/** Momentum buffers for every trainable variable (seeded), named as the optimizer names them. */
export function momentumBuffers(model: Model, seed = 5): NamedArray[] {
  return model.vars
    .filter((v) => v.trainable)
    .map((v, i) => {
      const rng = createRng(seed, RNG_PURPOSE.init, 5000 + i);
      return { name: v.name, shape: v.shape.slice(), data: Float32Array.from({ length: v.variable.size }, () => rng.normal() * 0.01) };
    });
}

export interface TestCheckpoint {
  file: string;
  model: Model;
  momentum: NamedArray[];
  weightsSha256: string;
  config: Readonly<RunConfig>;
}

/** Writes an epoch checkpoint (epoch 2 of 4, 5 steps per epoch) of a perturbed model into dir. */
export function writeTestCheckpoint(dir: string, config: Readonly<RunConfig> = interopConfig(), name = 'epoch-0002.ckpt'): TestCheckpoint {
  const model = createModel(config.model, config.seed);
  perturb(model);
  const momentum = momentumBuffers(model);
  const file = path.join(dir, name);
  const saved = saveCheckpoint({
    file,
    model,
    optimizer: momentum,
    header: {
      checkpointKind: 'epoch',
      epoch: 2,
      stepInEpoch: 5,
      step: 10,
      stepsPerEpoch: 5,
      augment: config.augment,
      config: config as RunConfig,
      metrics: {
        epoch: 2,
        trainLoss: 2.1,
        trainTop1: 20,
        trainTop5: 60,
        valLoss: 2.2,
        valTop1: 18,
        valTop5: 55,
        lr: 0.04,
        momentum: 0.86,
        imagesPerSec: 10,
        epochSeconds: 4,
        skippedFiles: 0,
        imageSize: 32,
      },
      scheduler: {
        policy: config.schedule,
        totalSteps: 20,
        startGlobalStep: 0,
        step: 10,
        baseLr: config.optimizer.lr,
        baseMomentum: config.optimizer.momentum,
      },
      rng: { seed: config.seed, scheme: 'counter-based: hashKeys(seed, purpose, epoch, sampleId)' },
      backend: 'cpu',
    },
  });
  return { file, model, momentum, weightsSha256: saved.weightsSha256, config };
}
