// The training loop on the pure-JS CPU backend with a tiny ResNet-50 and real sample images:
// bit-exact resume, fork with a new schedule, tensor hygiene, pause / stop / live augmentation.
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveRunConfig, type RunConfigInput } from '../../src-shared/config/run-config';
import type { EpochMetrics } from '../../src-shared/metrics';
import { inspectCheckpoint } from '../../src-main/ml/checkpoint';
import { Trainer, type CheckpointEvent, type StepEvent } from '../../src-main/ml/trainer';
import { createMemoryBatchSource } from '../helpers/memory-batch-source';
import { tempDir } from '../helpers/samples';

const BASE: RunConfigInput = {
  seed: 3,
  backend: 'cpu',
  model: { numClasses: 4, widthMultiplier: 1 / 32 },
  data: { trainSize: 32, valSize: 32 },
  train: { epochs: 2, batchSize: 2, logEverySteps: 1 },
  optimizer: { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 },
  // onecycle: the lr and momentum change every step, so a wrongly restored scheduler shows
  schedule: { policy: 'onecycle', maxLr: 0.05 },
  checkpoint: { keepLast: 3, keepBest: true },
};

function config(over: RunConfigInput = {}) {
  return resolveRunConfig([BASE, over]);
}

function source(batchSize = 2) {
  return createMemoryBatchSource({ classes: 4, perClass: 4, size: 32, batchSize, seed: 3 });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('shipped configs', () => {
  it('seed-resnet50.json is the seed run and tiny-cpu.json the same code at tiny size', () => {
    const load = (name: string) => resolveRunConfig([JSON.parse(fs.readFileSync(path.join(__dirname, '../../resources/configs', name), 'utf8'))], name);
    const seed = load('seed-resnet50.json');
    expect(seed.model).toEqual({ arch: 'resnet50', numClasses: 1000, widthMultiplier: 1 });
    expect(seed.data).toMatchObject({ trainSize: 224, valTransform: 'resize', valSize: 224 });
    expect(seed.train).toMatchObject({ epochs: 39, batchSize: 128, labelSmoothing: 0 });
    expect(seed.optimizer).toMatchObject({ name: 'sgd', lr: 0.001, momentum: 0.9, weightDecay: 1e-4, nesterov: false, dampening: 0 });
    expect(seed.schedule).toEqual({ policy: 'constant' });
    expect(seed.augment.randomResizedCrop).toMatchObject({ enabled: true, scale: [0.08, 1] });
    expect(seed.augment.hflip).toBe(0.5);
    expect(seed.augment.colorJitter).toEqual({ brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.05, p: 0.5 });
    const tiny = load('tiny-cpu.json');
    expect(tiny.model).toMatchObject({ arch: 'resnet50', numClasses: 10 });
    expect(tiny.model.widthMultiplier).toBeLessThanOrEqual(1 / 16);
    expect(tiny.data.root).toBeNull();
    expect(tiny.data.trainSize).toBeLessThanOrEqual(48);
    expect(tiny.data.maxStepsPerEpoch).toBeLessThanOrEqual(8);
    expect(tiny.train.epochs).toBe(2);
  });
});

describe('Trainer', () => {
  it('E epochs straight == E-1 epochs, stop, resume for the last epoch (same weightsSha256)', async () => {
    const src = await source();
    const straightDir = tempDir();
    const steps: StepEvent[] = [];
    const straight = await Trainer.create({ config: config(), source: src, checkpointDir: straightDir, events: { onStep: (p) => steps.push(p) } });
    expect(straight.backend.name).toBe('cpu');
    const a = await straight.run();
    straight.dispose();
    expect(a.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(a.stopped).toBe(false);
    expect(path.basename(a.lastCheckpoint!)).toBe('epoch-0002.ckpt');
    expect((await inspectCheckpoint(a.lastCheckpoint!)).weightsSha256).toBe(a.weightsSha256);
    const train = steps.filter((s) => s.phase === 'train');
    expect(train).toHaveLength(16);
    expect(train.map((s) => s.globalStep)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(new Set(train.map((s) => s.lr)).size).toBeGreaterThan(8); // onecycle really steps
    expect(train.every((s) => Number.isFinite(s.loss) && s.imagesPerSec > 0 && s.targetEpochs === 2)).toBe(true);
    expect(train[15].etaSeconds).toBe(0);
    for (const e of a.epochs) {
      expect(e.valTop1).not.toBeNull();
      expect(e.trainTop5).toBeGreaterThanOrEqual(e.trainTop1);
      expect(e.imageSize).toBe(32);
    }

    // the same config, stopped after epoch 1 (the checkpoint is written before the stop takes effect)
    const firstDir = tempDir();
    const first = await Trainer.create({ config: config(), source: src, checkpointDir: firstDir, events: { onEpochEnd: () => first.stop() } });
    const b1 = await first.run();
    first.dispose();
    expect(b1.stopped).toBe(true);
    expect(b1.epochs.map((e) => e.epoch)).toEqual([1]);
    // timing fields (rate, seconds, data wait) differ by nature; everything learned is identical
    expect(b1.epochs[0]).toEqual({
      ...a.epochs[0],
      imagesPerSec: b1.epochs[0].imagesPerSec,
      epochSeconds: b1.epochs[0].epochSeconds,
      dataWaitFraction: b1.epochs[0].dataWaitFraction,
    });

    const resumedSteps: StepEvent[] = [];
    const resumed = await Trainer.create({
      config: config(),
      source: src,
      checkpointDir: tempDir(),
      resumeFrom: b1.lastCheckpoint!,
      resumeMode: 'exact',
      events: { onStep: (p) => resumedSteps.push(p) },
    });
    expect(resumed.startEpoch).toBe(2);
    const b2 = await resumed.run();
    resumed.dispose();
    expect(b2.epochs.map((e) => e.epoch)).toEqual([2]);
    expect(b2.weightsSha256).toBe(a.weightsSha256);
    expect(b2.epochs[0].trainLoss).toBe(a.epochs[1].trainLoss);
    expect(b2.epochs[0].valTop1).toBe(a.epochs[1].valTop1);
    const resumedTrain = resumedSteps.filter((s) => s.phase === 'train');
    expect(resumedTrain.map((s) => [s.globalStep, s.lr, s.momentum])).toEqual(train.slice(8).map((s) => [s.globalStep, s.lr, s.momentum]));
  });

  it("--epochs 1, then resume with --epochs 2 (constant lr, the seed's policy) == 2 epochs straight", async () => {
    const src = await source();
    const constant = (epochs: number) => config({ schedule: { policy: 'constant' }, train: { epochs, logEverySteps: 4 } });
    const straight = await Trainer.create({ config: constant(2), source: src, checkpointDir: tempDir() });
    const a = await straight.run();
    straight.dispose();
    const first = await Trainer.create({ config: constant(1), source: src, checkpointDir: tempDir() });
    const b1 = await first.run();
    first.dispose();
    expect(b1.stopped).toBe(false);
    const resumed = await Trainer.create({ config: constant(2), source: src, checkpointDir: tempDir(), resumeFrom: b1.lastCheckpoint!, resumeMode: 'exact' });
    const b2 = await resumed.run();
    resumed.dispose();
    expect(b2.epochs.map((e) => e.epoch)).toEqual([2]);
    expect(b2.weightsSha256).toBe(a.weightsSha256);
    expect(b2.weightsSha256).not.toBe(b1.weightsSha256);
  });

  it('keeps tf.memory().numTensors flat: after step 10 as after step 2', async () => {
    const src = await source();
    const counts = new Map<number, number>();
    const t = await Trainer.create({
      config: config({ train: { epochs: 2 } }),
      source: src,
      checkpointDir: tempDir(),
      events: { onStep: (p) => p.phase === 'train' && counts.set(p.globalStep, tf.memory().numTensors) },
    });
    const before = tf.memory().numTensors;
    await t.run();
    expect(counts.get(10)).toBe(counts.get(2));
    expect(counts.get(16)).toBe(counts.get(2));
    t.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
  });

  it('fork: new schedule from the checkpoint, epoch numbering continues, rotation reports removals', async () => {
    const src = await source();
    const dir = tempDir();
    const first = await Trainer.create({ config: config({ train: { epochs: 1 } }), source: src, checkpointDir: dir });
    const r1 = await first.run();
    first.dispose();

    const forkDir = tempDir();
    const steps: StepEvent[] = [];
    const cks: CheckpointEvent[] = [];
    const ends: EpochMetrics[] = [];
    const forked = await Trainer.create({
      config: config({ train: { epochs: 3 }, schedule: { policy: 'constant' }, optimizer: { lr: 0.02 }, checkpoint: { keepLast: 1, keepBest: false } }),
      source: src,
      checkpointDir: forkDir,
      resumeFrom: r1.lastCheckpoint!,
      resumeMode: 'fork',
      events: { onStep: (p) => steps.push(p), onCheckpoint: (c) => void cks.push(c), onEpochEnd: (m) => void ends.push(m) },
    });
    const r2 = await forked.run();
    forked.dispose();
    expect(r2.epochs.map((e) => e.epoch)).toEqual([2, 3]);
    expect(ends.map((e) => e.epoch)).toEqual([2, 3]);
    const train = steps.filter((s) => s.phase === 'train');
    expect(train[0].globalStep).toBe(9);
    expect(new Set(train.map((s) => s.lr))).toEqual(new Set([0.02]));
    expect(cks.map((c) => path.basename(c.path))).toEqual(['epoch-0002.ckpt', 'epoch-0003.ckpt']);
    expect(cks[1].removed).toEqual([path.join(forkDir, 'epoch-0002.ckpt')]);
    expect(fs.readdirSync(forkDir)).toEqual(['epoch-0003.ckpt']);
    const info = await inspectCheckpoint(path.join(forkDir, 'epoch-0003.ckpt'));
    expect(info).toMatchObject({ epoch: 3, step: 24, weightsSha256: r2.weightsSha256 });
    expect(info.scheduler).toMatchObject({ startGlobalStep: 8, totalSteps: 16, step: 16 });

    // wrong class count: a clear error, nothing trains
    const five = await createMemoryBatchSource({ classes: 5, perClass: 1, size: 32, batchSize: 2, seed: 3 });
    await expect(
      Trainer.create({
        config: config({ model: { numClasses: 5 } }),
        source: five,
        checkpointDir: tempDir(),
        resumeFrom: r1.lastCheckpoint!,
        resumeMode: 'fork',
      }),
    ).rejects.toMatchObject({
      code: 'CHECKPOINT_MISMATCH',
      message: expect.stringContaining('numClasses 4 vs 5'),
    });
    await expect(
      Trainer.create({ config: config({ train: { epochs: 1 } }), source: src, checkpointDir: tempDir(), resumeFrom: r1.lastCheckpoint!, resumeMode: 'fork' }),
    ).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      field: 'train.epochs',
    });
    await expect(Trainer.create({ config: config(), source: five, checkpointDir: tempDir() })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      field: 'model.numClasses',
    });
  });

  it('pauses and resumes at step boundaries, applies augmentation changes from the returned step, stops', async () => {
    // The trainer takes each step's batch, then checks for a pause before training on it. It has
    // no "paused" event, so the batch source says when the trainer holds step 4's batch: from
    // there to step 4's report nothing waits on the event loop, so if the pause did not hold,
    // step 4 would have been reported before the next turns of the loop.
    const inner = await source();
    let trainBatches = 0;
    let holdsStep4: () => void = () => {};
    const heldStep4 = new Promise<void>((r) => (holdsStep4 = r));
    const src: typeof inner = {
      ...inner,
      async *batches(split, epoch, o) {
        for await (const b of inner.batches(split, epoch, o)) {
          if (split === 'train' && ++trainBatches === 4) holdsStep4();
          yield b;
        }
      },
    };
    const seen: number[] = [];
    let appliedFrom = -1;
    let pausedAt = -1;
    let resumeCalled = false;
    let resumedBeforeStep4 = false;
    const t: Trainer = await Trainer.create({
      config: config({ train: { epochs: 2 } }),
      source: src,
      checkpointDir: tempDir(),
      events: {
        onStep: (p) => {
          if (p.phase !== 'train') return;
          seen.push(p.globalStep);
          if (p.globalStep === 3) {
            t.pause();
            pausedAt = p.globalStep;
            appliedFrom = t.updateAugment({ hflip: 0, colorJitter: { p: 0 } });
          }
          if (p.globalStep === 4) resumedBeforeStep4 = resumeCalled;
          if (p.globalStep === 6) t.stop();
        },
      },
    });
    const running = t.run();
    await heldStep4;
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    // while paused, no step runs and no further batch is taken
    expect(pausedAt).toBe(3);
    expect(seen).toEqual([1, 2, 3]);
    expect(t.step).toBe(3);
    expect(trainBatches).toBe(4);
    expect(appliedFrom).toBe(3); // 0-based global step index of the next step
    resumeCalled = true;
    t.resume();
    const r = await running;
    expect(resumedBeforeStep4).toBe(true);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.stopped).toBe(true);
    expect(r.epochs).toEqual([]);
    expect(r.lastCheckpoint).toBeNull();
    expect(t.currentAugment.hflip).toBe(0);
    expect(t.currentAugment.colorJitter.p).toBe(0);
    expect(t.currentAugment.colorJitter.brightness).toBe(0.2);
    t.dispose();
  });

  it('stops a diverging run with DIVERGED naming optimizer.lr, keeping the last good checkpoint the newest', async () => {
    const dir = tempDir();
    const good = await Trainer.create({
      config: config({ train: { epochs: 1 }, schedule: { policy: 'constant' } }),
      source: await source(),
      checkpointDir: dir,
    });
    await good.run();
    good.dispose();
    const before = fs.readdirSync(dir).sort();
    expect(before).toEqual(['epoch-0001.ckpt']);
    // an absurd learning rate overflows float32 within a few steps
    const t = await Trainer.create({
      config: config({ train: { epochs: 2 }, optimizer: { lr: 1e30 }, schedule: { policy: 'constant' } }),
      source: await source(),
      checkpointDir: dir,
      resumeFrom: path.join(dir, 'epoch-0001.ckpt'),
      resumeMode: 'fork',
    });
    const err = await t.run().then(
      () => null,
      (e: unknown) => e as { code?: string; field?: string; message: string },
    );
    t.dispose();
    expect(err).toMatchObject({ code: 'DIVERGED', field: 'optimizer.lr' });
    expect(err!.message).toMatch(/epoch 2/);
    expect(
      fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.ckpt'))
        .sort(),
    ).toEqual(before);
  });

  it('trains a model with more outputs than the dataset has classes (a 4-way head on 3 classes), like the data layer allows', async () => {
    const three = await createMemoryBatchSource({ classes: 3, perClass: 2, size: 32, batchSize: 2, seed: 3 });
    const t = await Trainer.create({ config: config({ train: { epochs: 1 } }), source: three, checkpointDir: tempDir() });
    const r = await t.run();
    t.dispose();
    expect(r.epochs).toHaveLength(1);
    expect(Number.isFinite(r.epochs[0].trainLoss)).toBe(true);
    expect((await inspectCheckpoint(r.lastCheckpoint!)).numClasses).toBe(4);
  });

  it('leaves paused time out of the epoch duration and the rates', async () => {
    const src = await source();
    let resumedAt = 0;
    let pausedFor = 0;
    const t: Trainer = await Trainer.create({
      config: config({ train: { epochs: 1 } }),
      source: src,
      checkpointDir: tempDir(),
      events: {
        onStep: (p) => {
          if (p.phase !== 'train' || p.globalStep !== 2) return;
          t.pause();
          const t0 = performance.now();
          // the condition under test: a pause that lasts a while (not a wait for the trainer)
          setTimeout(() => {
            pausedFor = performance.now() - t0;
            resumedAt = performance.now();
            t.resume();
          }, 600);
        },
      },
    });
    const w0 = performance.now();
    const r = await t.run();
    const wall = (performance.now() - w0) / 1000;
    t.dispose();
    expect(resumedAt).toBeGreaterThan(0);
    expect(pausedFor).toBeGreaterThanOrEqual(600);
    // the epoch's seconds are what it trained: at least the paused 0.6 s shorter than the wall time
    expect(r.epochs[0].epochSeconds).toBeLessThanOrEqual(wall - pausedFor / 1000 + 0.01);
    expect(r.epochs[0].epochSeconds).toBeGreaterThan(0);
  });

  it('measures the share of training time spent waiting for the data loader (epoch rows and progress events)', async () => {
    const train = async (delayMs: number) => {
      const inner = await source();
      // the condition under test: a loader that takes delayMs per batch
      const src: typeof inner = {
        ...inner,
        async *batches(split, epoch, o) {
          for await (const b of inner.batches(split, epoch, o)) {
            if (split === 'train' && delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
            yield b;
          }
        },
      };
      const waits: number[] = [];
      const t = await Trainer.create({
        config: config({ train: { epochs: 1 } }),
        source: src,
        checkpointDir: tempDir(),
        events: { onStep: (p) => void (p.phase === 'train' && waits.push(p.dataWait ?? NaN)) },
      });
      const r = await t.run();
      t.dispose();
      return { fraction: r.epochs[0].dataWaitFraction ?? NaN, waits };
    };
    const slow = await train(150);
    const fast = await train(0);
    for (const w of [...slow.waits, ...fast.waits]) expect(w >= 0 && w <= 1).toBe(true);
    expect(slow.fraction).toBeGreaterThan(0.15);
    expect(slow.fraction).toBeGreaterThan(fast.fraction + 0.1);
    expect(Math.max(...slow.waits)).toBeGreaterThan(0.15);
  });
});
