// Checkpoint files: round trip, inspect, corruption detection, no partial load on mismatch,
// atomicity when the writer dies before the rename, and keep-last-K-plus-best rotation.
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../../src-shared/config/run-config';
import type { EpochMetrics } from '../../src-shared/metrics';
import {
  checkpointName,
  inspectCheckpoint,
  listCheckpoints,
  loadCheckpointInto,
  modelWeightsSha256,
  rotateCheckpoints,
  saveCheckpoint,
} from '../../src-main/ml/checkpoint';
import { readCheckpointFile } from '../../src-main/ml/checkpoint-file';
import { createModel, type Model } from '../../src-main/ml/models/index';
import { tempDir } from '../helpers/samples';

const cfg = resolveRunConfig([{ model: { numClasses: 4, widthMultiplier: 1 / 32 }, train: { epochs: 3 } }]);

function metrics(epoch: number, valTop1: number | null): EpochMetrics {
  return {
    epoch,
    trainLoss: 1,
    trainTop1: 10,
    trainTop5: 50,
    valLoss: 1,
    valTop1,
    valTop5: 60,
    lr: 0.001,
    momentum: 0.9,
    imagesPerSec: 1,
    epochSeconds: 1,
    skippedFiles: 0,
    imageSize: 32,
  };
}

function save(model: Model, file: string, epoch: number, valTop1: number | null = 10, hooks?: { beforeRename?: (t: string) => void }) {
  return saveCheckpoint({
    file,
    model,
    optimizer: [{ name: 'momentum/fc.kernel', shape: [2], data: new Float32Array([epoch, -epoch]) }],
    header: {
      epoch,
      step: epoch * 5,
      stepsPerEpoch: 5,
      config: cfg,
      metrics: metrics(epoch, valTop1),
      scheduler: { policy: { policy: 'constant' }, totalSteps: 15, startGlobalStep: 0, step: epoch * 5, baseLr: 0.001, baseMomentum: 0.9 },
      rng: { seed: 0, scheme: 'counter-based: hashKeys(seed, purpose, epoch, sampleId)' },
      backend: 'cpu',
    },
    hooks,
  });
}

/** Makes the BN running stats non-trivial so the round trip really covers them. */
function perturb(model: Model): void {
  for (const v of model.vars) {
    const t = tf.tidy(() => tf.add(v.variable, tf.randomUniform(v.shape, 0.1, 0.2, 'float32', 3)));
    v.variable.assign(t);
    t.dispose();
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('checkpoint files', () => {
  it('round-trips weights (incl. BN running stats) and optimizer state; inspect reports the header', async () => {
    const dir = tempDir();
    const a = createModel(cfg.model, 1);
    perturb(a);
    const file = path.join(dir, checkpointName(2));
    expect(path.basename(file)).toBe('epoch-0002.ckpt');
    const saved = save(a, file, 2);
    expect(saved.weightsSha256).toBe(modelWeightsSha256(a));

    const info = await inspectCheckpoint(file);
    expect(info).toMatchObject({
      epoch: 2,
      step: 10,
      arch: 'resnet50',
      numClasses: 4,
      widthMultiplier: 1 / 32,
      trainableParams: a.trainableParams,
      weightsSha256: saved.weightsSha256,
      bytes: fs.statSync(file).size,
      sha256: saved.sha256,
    });
    expect(info.metrics?.valTop1).toBe(10);
    expect(info.config.model.numClasses).toBe(4);

    const b = createModel(cfg.model, 2);
    expect(modelWeightsSha256(b)).not.toBe(saved.weightsSha256);
    const before = tf.memory().numTensors;
    const loaded = loadCheckpointInto(file, b);
    expect(tf.memory().numTensors).toBe(before);
    expect(modelWeightsSha256(b)).toBe(saved.weightsSha256);
    const rm = b.vars.find((v) => v.name === 'layer3.1.bn2.running_var')!.variable.dataSync();
    expect(Array.from(rm)).toEqual(Array.from(a.vars.find((v) => v.name === 'layer3.1.bn2.running_var')!.variable.dataSync()));
    expect(loaded.optimizer).toHaveLength(1);
    expect(Array.from(loaded.optimizer[0].data)).toEqual([2, -2]);
    a.dispose();
    b.dispose();
  });

  it('detects truncation and modification (CHECKPOINT_CORRUPT), and reports a missing file', async () => {
    const dir = tempDir();
    const m = createModel(cfg.model, 1);
    const file = path.join(dir, 'epoch-0001.ckpt');
    save(m, file, 1);
    const bytes = fs.readFileSync(file);
    const truncated = path.join(dir, 'truncated.ckpt');
    fs.writeFileSync(truncated, bytes.subarray(0, bytes.length - 1000));
    await expect(inspectCheckpoint(truncated)).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringContaining('truncated.ckpt') });
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 5000] ^= 1;
    fs.writeFileSync(path.join(dir, 'flipped.ckpt'), flipped);
    expect(() => loadCheckpointInto(path.join(dir, 'flipped.ckpt'), m)).toThrow(expect.objectContaining({ code: 'CHECKPOINT_CORRUPT' }));
    fs.writeFileSync(path.join(dir, 'junk.ckpt'), 'not a checkpoint at all, just some text that is long enough');
    await expect(inspectCheckpoint(path.join(dir, 'junk.ckpt'))).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT' });
    await expect(inspectCheckpoint(path.join(dir, 'nope.ckpt'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    m.dispose();
  });

  it('refuses a checkpoint of another architecture / class count / width without touching the model', () => {
    const dir = tempDir();
    const src = createModel(cfg.model, 1);
    const file = path.join(dir, 'epoch-0001.ckpt');
    save(src, file, 1);
    const other = createModel({ ...cfg.model, numClasses: 5 }, 3);
    const sha = modelWeightsSha256(other);
    expect(() => loadCheckpointInto(file, other)).toThrow(
      expect.objectContaining({ code: 'CHECKPOINT_MISMATCH', message: expect.stringContaining('numClasses 4 vs 5') }),
    );
    expect(modelWeightsSha256(other)).toBe(sha);
    const wider = createModel({ ...cfg.model, widthMultiplier: 1 / 16 }, 3);
    expect(() => loadCheckpointInto(file, wider)).toThrow(
      expect.objectContaining({ code: 'CHECKPOINT_MISMATCH', message: expect.stringContaining('widthMultiplier') }),
    );
    [src, other, wider].forEach((m) => m.dispose());
  });

  it('a writer that dies before the rename leaves the previous checkpoint intact and readable', async () => {
    const dir = tempDir();
    const m = createModel(cfg.model, 1);
    const file = path.join(dir, 'epoch-0001.ckpt');
    const first = save(m, file, 1);
    perturb(m);
    let temp = '';
    expect(() =>
      save(m, file, 1, 10, {
        beforeRename: (t) => {
          temp = t;
          throw new Error('simulated crash');
        },
      }),
    ).toThrow('simulated crash');
    // the new bytes were fully written and fsynced to the temp file, but the target is untouched
    expect(fs.existsSync(temp)).toBe(true);
    const info = await inspectCheckpoint(file);
    expect(info.sha256).toBe(first.sha256);
    expect(info.weightsSha256).toBe(first.weightsSha256);
    expect(readCheckpointFile(file).model.length).toBe(m.vars.length);
    // the next successful write sweeps the stale temp away
    const second = save(m, path.join(dir, 'epoch-0002.ckpt'), 2);
    expect(fs.existsSync(temp)).toBe(false);
    expect((await inspectCheckpoint(path.join(dir, 'epoch-0002.ckpt'))).weightsSha256).toBe(second.weightsSha256);
    m.dispose();
  });

  it('keeps the last K plus the best by val top-1', async () => {
    const dir = tempDir();
    const m = createModel(cfg.model, 1);
    const vals = [10, 50, 20, 30, 25];
    const removedAll: string[] = [];
    vals.forEach((v, i) => {
      save(m, path.join(dir, checkpointName(i + 1)), i + 1, v);
    });
    const removed = rotateCheckpoints(await listCheckpoints(dir), 2, true);
    removedAll.push(...removed.map((p) => path.basename(p)));
    expect(removedAll.sort()).toEqual(['epoch-0001.ckpt', 'epoch-0003.ckpt']);
    expect(fs.readdirSync(dir).sort()).toEqual(['epoch-0002.ckpt', 'epoch-0004.ckpt', 'epoch-0005.ckpt']);
    const noBest = rotateCheckpoints(await listCheckpoints(dir), 1, false);
    expect(noBest.map((p) => path.basename(p)).sort()).toEqual(['epoch-0002.ckpt', 'epoch-0004.ckpt']);
    m.dispose();
  });
});
