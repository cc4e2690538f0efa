// The learning-rate range test (ml/lr-find.ts): the geometric lr ramp, the debiased smoothing,
// the steepest-descent suggestion, and real tiny ResNet-50 range tests on the pure-JS CPU
// backend: one entry per step, stopped when the loss diverges, reproducible, no tensors left
// behind, and a checkpoint it starts from is read, never written.
import * as tf from '@tensorflow/tfjs';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../../src-shared/config/run-config';
import { debiasedEma, lrFind, lrRange, suggestLr } from '../../src-main/ml/lr-find';
import { Trainer } from '../../src-main/ml/trainer';
import { createMemoryBatchSource } from '../helpers/memory-batch-source';
import { tempDir } from '../helpers/samples';

const CONFIG = resolveRunConfig([
  {
    seed: 4,
    backend: 'cpu',
    model: { numClasses: 4, widthMultiplier: 1 / 32 },
    data: { trainSize: 32, valSize: 32 },
    train: { epochs: 1, batchSize: 4 },
    optimizer: { lr: 0.01, momentum: 0.9 },
  },
]);

const source = () => createMemoryBatchSource({ classes: 4, perClass: 4, size: 32, batchSize: 4, seed: 4 });
const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

describe('range test arithmetic', () => {
  it('the lr grows geometrically from min to max, one value per step', () => {
    const lrs = lrRange(1e-6, 1, 7);
    expect(lrs).toHaveLength(7);
    expect(lrs[0]).toBeCloseTo(1e-6, 18);
    expect(lrs[6]).toBeCloseTo(1, 12);
    for (let i = 1; i < 7; i++) expect(lrs[i] / lrs[i - 1]).toBeCloseTo(10, 9);
    expect(() => lrRange(1, 0.1, 10)).toThrow(/min lr < max lr/);
    expect(() => lrRange(1e-3, 1, 1)).toThrow(/at least 2/);
  });

  it('smoothing is the debiased EMA (the first value comes out unchanged)', () => {
    const s = debiasedEma([2, 4, 4], 0.5);
    expect(s[0]).toBe(2);
    // avg: 1, 2.5, 3.25; debias 0.5, 0.75, 0.875
    expect(s[1]).toBeCloseTo(2.5 / 0.75, 12);
    expect(s[2]).toBeCloseTo(3.25 / 0.875, 12);
    expect(debiasedEma([1, NaN, 3], 0)).toEqual([1, NaN, 3]);
  });

  it('suggests the lr where the smoothed loss falls fastest against log lr, skipping the first 10 % and the last 5 steps', () => {
    const lrs = lrRange(1e-5, 10, 40);
    // flat, a slow fall, the steepest fall from step 22 to 23, then a blow-up at the end
    const loss = lrs.map((_, i) => (i < 10 ? 2.3 : i < 22 ? 2.3 - 0.01 * (i - 10) : i === 22 ? 2.18 : i < 35 ? 1.5 - 0.01 * (i - 23) : 1 + (i - 34) * 5));
    expect(suggestLr(lrs, loss)).toBe(lrs[22]);
    // a loss that never falls: no suggestion
    expect(
      suggestLr(
        lrs,
        lrs.map((_, i) => 2 + i),
      ),
    ).toBeNull();
    // a short test uses every point
    expect(suggestLr([1e-3, 1e-2, 1e-1], [2, 1, 1.5])).toBe(1e-3);
  });
});

describe('range test on a tiny ResNet-50 (pure-JS CPU)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('records one entry per step, stops when the loss diverges, is reproducible and frees its tensors', async () => {
    const src = await source();
    const seen: number[] = [];
    const before = tf.memory().numTensors;
    // the lr climbs to 1e4: the loss must blow up long before the last step
    const a = await lrFind({ config: CONFIG, source: src, steps: 40, minLr: 1e-4, maxLr: 1e4, onStep: (p) => seen.push(p.step) });
    expect(tf.memory().numTensors).toBe(before);
    expect(a.backend.name).toBe('cpu');
    expect(a.stopReason).toBe('diverged');
    const n = a.lr.length;
    expect(n).toBeGreaterThan(5);
    expect(n).toBeLessThan(40);
    expect(a.loss).toHaveLength(n);
    expect(a.smoothedLoss).toHaveLength(n);
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(a.lr).toEqual(lrRange(1e-4, 1e4, 40).slice(0, n));
    // the last entry is the step it diverged at: not finite, or 4× the best smoothed loss before it
    const last = a.smoothedLoss[n - 1];
    const best = Math.min(...a.smoothedLoss.slice(0, n - 1));
    expect(!Number.isFinite(a.loss[n - 1]) || last > 4 * best).toBe(true);
    expect(a.smoothedLoss.slice(0, n - 1).every(Number.isFinite)).toBe(true);
    expect(a.smoothedLoss[0]).toBe(a.loss[0]);
    if (a.suggestedLr !== null) expect(a.lr).toContain(a.suggestedLr);
    // the same seed and data: the same curve
    const b = await lrFind({ config: CONFIG, source: src, steps: 40, minLr: 1e-4, maxLr: 1e4 });
    expect(b.loss).toEqual(a.loss);
    await src.close();
  });

  it('a test shorter than the divergence takes every step; from a checkpoint it starts there and leaves the file as it was', async () => {
    const src = await source();
    const dir = tempDir('ws-lrfind-');
    const t = await Trainer.create({ config: CONFIG, source: src, checkpointDir: dir });
    const trained = await t.run();
    t.dispose();
    const file = trained.lastCheckpoint!;
    const before = { sha: sha(file), files: fs.readdirSync(dir).sort() };
    const fresh = await lrFind({ config: CONFIG, source: src, steps: 6, minLr: 1e-6, maxLr: 1e-5 });
    expect(fresh.stopReason).toBe('completed');
    expect(fresh.lr).toHaveLength(6); // more steps than one epoch has (4): the test goes on into the next
    const fromCkpt = await lrFind({ config: CONFIG, source: src, steps: 6, minLr: 1e-6, maxLr: 1e-5, resumeFrom: file });
    expect(fromCkpt.lr).toHaveLength(6);
    expect(fromCkpt.loss[0]).not.toBe(fresh.loss[0]); // other weights
    expect({ sha: sha(file), files: fs.readdirSync(dir).sort() }).toEqual(before);
    // stopping from outside ends it at a step boundary with what it has
    let k = 0;
    const stopped = await lrFind({ config: CONFIG, source: src, steps: 50, minLr: 1e-6, maxLr: 1e-5, shouldStop: () => ++k > 3 });
    expect(stopped).toMatchObject({ stopReason: 'stopped' });
    expect(stopped.lr).toHaveLength(3);
    await src.close();
  });
});
