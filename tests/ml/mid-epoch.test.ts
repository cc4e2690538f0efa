// Mid-epoch checkpoints on the pure-JS CPU backend with a tiny ResNet-50 and real sample images:
// a run stopped inside an epoch (or during validation) and resumed from its mid-epoch checkpoint
// ends on the same weights AND the same epoch metrics as the uninterrupted run; live augmentation
// changes survive (from the checkpoint, or re-applied at their recorded step); a checkpoint write
// that fails pauses the run, keeps the previous checkpoint, and is written again on resume.
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AugmentPatch } from '../../src-shared/config/augment';
import { resolveRunConfig, type RunConfigInput } from '../../src-shared/config/run-config';
import type { EpochMetrics } from '../../src-shared/metrics';
import { inspectCheckpoint } from '../../src-main/ml/checkpoint';
import { Trainer, type CheckpointEvent, type TrainResult } from '../../src-main/ml/trainer';
import { createMemoryBatchSource } from '../helpers/memory-batch-source';
import { tempDir } from '../helpers/samples';

const BASE: RunConfigInput = {
  seed: 5,
  backend: 'cpu',
  model: { numClasses: 4, widthMultiplier: 1 / 32 },
  data: { trainSize: 32, valSize: 32 },
  train: { epochs: 2, batchSize: 2, logEverySteps: 1 },
  optimizer: { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 },
  schedule: { policy: 'onecycle', maxLr: 0.05 },
  // jitter on every sample, so a wrong augmentation after resume changes the weights
  augment: { colorJitter: { brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.05, p: 1 } },
  checkpoint: { keepLast: 3, keepBest: true, everyMinutes: 0, everySteps: null },
};
const CHANGE: AugmentPatch = { colorJitter: { brightness: 0.6, p: 1 } };

const config = (over: RunConfigInput = {}) => resolveRunConfig([BASE, over]);
const source = () => createMemoryBatchSource({ classes: 4, perClass: 4, size: 32, batchSize: 2, seed: 3 });
/** what an epoch's metrics must reproduce (timing fields differ by nature) */
const learned = (m: EpochMetrics[]) =>
  m.map(({ epoch, trainLoss, trainTop1, trainTop5, valLoss, valTop1, valTop5, lr, momentum }) => ({
    epoch,
    trainLoss,
    trainTop1,
    trainTop5,
    valLoss,
    valTop1,
    valTop5,
    lr,
    momentum,
  }));

interface Plan {
  dir?: string;
  over?: RunConfigInput;
  resumeFrom?: string;
  /** stop after this global train step */
  stopAt?: number;
  /** stop at the first validation progress event of this epoch */
  stopInValOf?: number;
  /** live change when the train step with this global step is about to run */
  changeAt?: number;
  augmentChanges?: { globalStep: number; patch: AugmentPatch }[];
  hooks?: () => { afterPart?: (i: number, tmp: string) => void } | undefined;
  onCheckpointError?: (t: Trainer, e: Error) => void;
}

async function train(p: Plan): Promise<{ r: TrainResult; t: Trainer; cks: CheckpointEvent[]; dir: string }> {
  const dir = p.dir ?? tempDir();
  const cks: CheckpointEvent[] = [];
  let t: Trainer | null = null;
  t = await Trainer.create({
    config: config(p.over),
    source: await source(),
    checkpointDir: dir,
    resumeFrom: p.resumeFrom,
    resumeMode: 'exact',
    augmentChanges: p.augmentChanges,
    checkpointHooks: p.hooks,
    events: {
      onStep: (s) => {
        if (s.phase === 'train' && p.changeAt !== undefined && s.globalStep === p.changeAt) t!.updateAugment(CHANGE);
        if (s.phase === 'train' && s.globalStep === p.stopAt) t!.stop();
        if (s.phase === 'val' && s.epoch === p.stopInValOf) t!.stop();
      },
      onCheckpoint: (c) => void cks.push(c),
      onCheckpointError: (e) => p.onCheckpointError?.(t!, e),
    },
  });
  const r = await t.run();
  t.dispose();
  return { r, t, cks, dir };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('mid-epoch checkpoints', () => {
  let straight: TrainResult;
  beforeAll(async () => {
    straight = (await train({})).r;
  });

  it('a graceful stop inside an epoch writes a mid-epoch checkpoint; resuming it gives the same weights and epoch metrics', async () => {
    const first = await train({ stopAt: 5 });
    expect(first.r.stopped).toBe(true);
    expect(first.r.epochs).toEqual([]);
    expect(first.cks.map((c) => [c.kind, c.epoch, c.stepInEpoch, c.globalStep])).toEqual([['mid-epoch', 1, 5, 5]]);
    const file = first.cks[0].path;
    expect(path.basename(file)).toBe('epoch-0001.step-000005.ckpt');
    const info = await inspectCheckpoint(file);
    expect(info).toMatchObject({ checkpointKind: 'mid-epoch', stepInEpoch: 5, epoch: 1, step: 5 });

    const second = await train({ dir: first.dir, resumeFrom: file });
    expect(second.t.resumedFrom).toEqual({ epoch: 1, stepInEpoch: 5, checkpoint: file, kind: 'mid-epoch' });
    expect(second.t.startEpoch).toBe(1);
    expect(second.t.startStep).toBe(5);
    expect(second.r.weightsSha256).toBe(straight.weightsSha256);
    // the epoch's metrics cover the whole epoch, not only the steps after the resume
    expect(learned(second.r.epochs)).toEqual(learned(straight.epochs));
    // the epoch checkpoint supersedes the mid-epoch one
    expect(second.cks[0].removed).toEqual([file]);
    expect(fs.readdirSync(first.dir).sort()).toEqual(['epoch-0001.ckpt', 'epoch-0002.ckpt']);
  });

  it('a stop during validation keeps the finished training steps; resume validates and matches', async () => {
    const first = await train({ stopInValOf: 2 });
    expect(first.r.epochs.map((e) => e.epoch)).toEqual([1]);
    expect(first.cks.map((c) => [c.kind, c.epoch, c.stepInEpoch])).toEqual([
      ['epoch', 1, 8],
      ['mid-epoch', 2, 8],
    ]);
    const second = await train({ dir: first.dir, resumeFrom: first.cks[1].path });
    expect(second.r.weightsSha256).toBe(straight.weightsSha256);
    expect(learned(second.r.epochs)).toEqual(learned(straight.epochs.slice(1)));
  });

  it('checkpoint.everySteps writes mid-epoch checkpoints and keeps only the newest', async () => {
    const run = await train({ over: { checkpoint: { everySteps: 3 } } });
    expect(run.r.weightsSha256).toBe(straight.weightsSha256); // checkpointing changes nothing
    expect(run.cks.map((c) => `${c.kind}@${c.globalStep}`)).toEqual([
      'mid-epoch@3',
      'mid-epoch@6',
      'epoch@8',
      'mid-epoch@9',
      'mid-epoch@12',
      'mid-epoch@15',
      'epoch@16',
    ]);
    expect(run.cks[1].removed.map((p) => path.basename(p))).toEqual(['epoch-0001.step-000003.ckpt']);
    expect(fs.readdirSync(run.dir).sort()).toEqual(['epoch-0001.ckpt', 'epoch-0002.ckpt']);
  });

  it('checkpoint.everyMinutes writes one when the time has come', async () => {
    // 1e-6 minutes: due after every step; the last step of an epoch gets the epoch checkpoint instead
    const run = await train({ over: { train: { epochs: 1 }, checkpoint: { everyMinutes: 1e-6 } } });
    expect(run.cks.map((c) => `${c.kind}@${c.globalStep}`)).toEqual([...Array.from({ length: 7 }, (_, i) => `mid-epoch@${i + 1}`), 'epoch@8']);
  });

  describe('live augmentation', () => {
    let changed: TrainResult;
    beforeAll(async () => {
      changed = (await train({ changeAt: 6 })).r;
      expect(changed.weightsSha256).not.toBe(straight.weightsSha256);
    });

    it('a change before the checkpoint comes back from the checkpoint', async () => {
      const first = await train({ changeAt: 6, stopAt: 10 });
      const ck = first.cks.at(-1)!;
      expect([ck.kind, ck.globalStep]).toEqual(['mid-epoch', 10]);
      expect((await inspectCheckpoint(ck.path)).config.augment.colorJitter.brightness).toBe(0.2); // the run's config is unchanged...
      const second = await train({ dir: first.dir, resumeFrom: ck.path }); // ...the checkpoint's augmentation is what resumes
      expect(second.r.weightsSha256).toBe(changed.weightsSha256);
    });

    it('a change recorded after the checkpoint is re-applied at its recorded step, not at the first retrained step', async () => {
      const first = await train({ stopAt: 4 });
      const ck = first.cks.at(-1)!;
      expect(ck.globalStep).toBe(4);
      // live, the change asked for during step 6's progress event applied from global step 6
      const second = await train({ dir: first.dir, resumeFrom: ck.path, augmentChanges: [{ globalStep: 6, patch: CHANGE }] });
      expect(second.r.weightsSha256).toBe(changed.weightsSha256);
    });
  });

  it('a failed checkpoint write (disk full) pauses the run, leaves no temp file and the previous checkpoint; resume writes it', async () => {
    let failures = 1;
    const errors: Error[] = [];
    let dir = '';
    const run = await train({
      over: { checkpoint: { everySteps: 4 } },
      // the second write (global step 8, the epoch checkpoint) fails half-way, like a full disk
      hooks: () =>
        fs.existsSync(path.join(dir, 'epoch-0001.step-000004.ckpt')) && failures > 0
          ? {
              afterPart: (i) => {
                if (i === 2 && failures-- > 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
              },
            }
          : undefined,
      onCheckpointError: (t, e) => {
        errors.push(e);
        // the user frees space and resumes; at this moment the folder holds only the previous checkpoint
        expect(fs.readdirSync(dir)).toEqual(['epoch-0001.step-000004.ckpt']);
        setTimeout(() => t.resume(), 10);
      },
      dir: (dir = tempDir()),
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'CHECKPOINT_WRITE_FAILED', path: dir });
    expect(errors[0].message).toContain('ENOSPC');
    expect(errors[0].message).toContain('epoch 1');
    expect(run.r.weightsSha256).toBe(straight.weightsSha256);
    expect(run.cks.filter((c) => c.kind === 'epoch').map((c) => c.epoch)).toEqual([1, 2]);
    expect(fs.readdirSync(dir).sort()).toEqual(['epoch-0001.ckpt', 'epoch-0002.ckpt']);
  });
});
