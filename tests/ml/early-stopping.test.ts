// train.earlyStopping: the patience / minDelta rule on epoch rows (higher-is-better accuracies,
// lower-is-better losses, epochs without the metric, a resumed run's history), and a real tiny
// ResNet-50 run on the pure-JS CPU backend where it fires: the run ends early, not stopped, on
// its last epoch checkpoint.
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../../src-shared/config/run-config';
import type { EpochMetrics } from '../../src-shared/metrics';
import { createEarlyStopping } from '../../src-main/ml/early-stopping';
import { Trainer } from '../../src-main/ml/trainer';
import { createMemoryBatchSource } from '../helpers/memory-batch-source';
import { tempDir } from '../helpers/samples';

function epoch(n: number, valTop1: number | null, over: Partial<EpochMetrics> = {}): EpochMetrics {
  return {
    epoch: n,
    trainLoss: 2,
    trainTop1: 10,
    trainTop5: 30,
    valLoss: valTop1 === null ? null : 3,
    valTop1,
    valTop5: valTop1 === null ? null : 50,
    lr: 0.1,
    momentum: 0.9,
    imagesPerSec: 100,
    epochSeconds: 10,
    skippedFiles: 0,
    imageSize: 32,
    ...over,
  };
}

/** Feeds the epochs; returns the epoch after which it said stop (null: never) and its message. */
function feed(cfg: Parameters<typeof createEarlyStopping>[0], epochs: EpochMetrics[], history: EpochMetrics[] = []) {
  const es = createEarlyStopping(cfg, history);
  for (const m of epochs) {
    const v = es.update(m);
    if (v) return v;
  }
  return null;
}

describe('early stopping rule', () => {
  it('val top-1: stops after `patience` epochs without an improvement larger than minDelta, naming the best', () => {
    const v = feed({ metric: 'valTop1', patience: 3, minDelta: 0.1 }, [
      epoch(1, 30),
      epoch(2, 38.5),
      epoch(3, 40),
      epoch(4, 41.0),
      epoch(5, 42.1),
      epoch(6, 42.15), // +0.05: not by 0.1
      epoch(7, 41),
      epoch(8, 42.2), // +0.1 exactly: not more than minDelta
      epoch(9, 50),
    ]);
    expect(v).toMatchObject({ stoppedAfterEpoch: 8, best: 42.1, bestEpoch: 5, patience: 3, minDelta: 0.1 });
    expect(v!.message).toBe('early stopping: val top-1 did not improve by 0.1 for 3 epochs (best 42.1 % at epoch 5)');
  });

  it('losses must fall; epochs without the metric (no validation) count neither way; null config never stops', () => {
    const losses = [3, 2.5, 2.6, 2.55, 2.4].map((l, i) => epoch(i + 1, 10, { valLoss: l }));
    expect(feed({ metric: 'valLoss', patience: 2, minDelta: 0 }, losses)).toMatchObject({ stoppedAfterEpoch: 4, best: 2.5, bestEpoch: 2 });
    expect(feed({ metric: 'valLoss', patience: 2, minDelta: 0 }, losses)!.message).toBe(
      'early stopping: val loss did not improve for 2 epochs (best 2.5 at epoch 2)',
    );
    const gaps = [epoch(1, 20), epoch(2, null), epoch(3, null), epoch(4, 19), epoch(5, null), epoch(6, 18)];
    expect(feed({ metric: 'valTop1', patience: 2, minDelta: 0 }, gaps)).toMatchObject({ stoppedAfterEpoch: 6, bestEpoch: 1 });
    expect(feed({ metric: 'valTop1', patience: 1, minDelta: 0 }, [epoch(1, 20), epoch(2, 10, { valTop1: NaN })])).toBeNull();
    expect(feed(null, [epoch(1, 50), epoch(2, 1), epoch(3, 1)])).toBeNull();
  });

  it('a resumed run replays its recorded epochs: it stops where the uninterrupted run would', () => {
    const all = [epoch(1, 30), epoch(2, 35), epoch(3, 34), epoch(4, 33), epoch(5, 36)];
    const cfg = { metric: 'valTop1' as const, patience: 2, minDelta: 0 };
    expect(feed(cfg, all)).toMatchObject({ stoppedAfterEpoch: 4 });
    expect(feed(cfg, all.slice(3), all.slice(0, 3))).toMatchObject({ stoppedAfterEpoch: 4, best: 35, bestEpoch: 2 });
  });
});

describe('early stopping in a real run (tiny ResNet-50, pure-JS CPU)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('fires after patience epochs: the run completes early (not stopped) on its last epoch checkpoint', async () => {
    const source = await createMemoryBatchSource({ classes: 4, perClass: 4, size: 32, batchSize: 4, seed: 5 });
    // no epoch can beat the first by 1000 points of val top-1: it stops after epoch 1 + patience
    const config = resolveRunConfig([
      {
        seed: 5,
        backend: 'cpu',
        model: { numClasses: 4, widthMultiplier: 1 / 32 },
        data: { trainSize: 32, valSize: 32 },
        train: { epochs: 6, batchSize: 4, logEverySteps: 2, earlyStopping: { metric: 'valTop1', patience: 2, minDelta: 1000 } },
        optimizer: { lr: 0.01 },
      },
    ]);
    expect(config.train.earlyStopping).toEqual({ metric: 'valTop1', patience: 2, minDelta: 1000 });
    const dir = tempDir('ws-early-');
    const before = tf.memory().numTensors;
    const trainer = await Trainer.create({ config, source, checkpointDir: dir });
    const r = await trainer.run();
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(r.stopped).toBe(false);
    expect(r.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(path.basename(r.lastCheckpoint!)).toBe('epoch-0003.ckpt');
    expect(r.earlyStopped).toMatchObject({ metric: 'valTop1', stoppedAfterEpoch: 3, bestEpoch: 1, best: r.epochs[0].valTop1 });
    expect(r.earlyStopped!.message).toMatch(/^early stopping: val top-1 did not improve by 1000 for 2 epochs \(best \d+\.\d % at epoch 1\)$/);
    // without the option the same config trains every epoch
    expect(resolveRunConfig([{}]).train.earlyStopping).toBeNull();
  });
});
