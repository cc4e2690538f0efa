// The streaming evaluator (src-main/ml/eval): on a small fixed set of solid-colour images and a
// model whose predictions follow from the colours (nearest colour prototype), the per-class
// table, confusions and top mistakes are the hand-counted ones; on real sample images with a
// tiny ResNet-50 the loss / top-1 / top-5 equal the trainer's own validation of that epoch exactly
// (with and without test-time flip), from the live model and from its checkpoint, and the tallies
// equal a direct forward pass. Tensors do not leak; cancellation stops between batches.
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Batch, BatchSource, EpochDataStats, Split } from '../../src-shared/batch-source';
import type { EvalMistake } from '../../src-shared/api/schemas';
import { resolveRunConfig, type RunConfigInput } from '../../src-shared/config/run-config';
import { loadCheckpointInto } from '../../src-main/ml/checkpoint';
import { evaluate, type EvalOutcome, type EvalProgress } from '../../src-main/ml/eval/evaluator';
import { TopMistakes } from '../../src-main/ml/eval/top-mistakes';
import type { ScoringModel } from '../../src-main/ml/eval/tta';
import { createModel } from '../../src-main/ml/models/index';
import { Trainer } from '../../src-main/ml/trainer';
import { createMemoryBatchSource } from '../helpers/memory-batch-source';
import { tempDir } from '../helpers/samples';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// --- a fixed set and a model whose predictions can be worked out by hand --------------------------
const COLOURS = {
  red: [255, 0, 0],
  green: [0, 255, 0],
  blue: [0, 0, 255],
  grey: [128, 128, 128],
  yellow: [255, 255, 0],
  cyan: [0, 255, 255],
} as const;
type Colour = keyof typeof COLOURS;
/** class c's prototype is the c-th colour: the model predicts the class of the nearest one */
const PROTOS: Colour[] = ['red', 'green', 'blue', 'grey', 'yellow', 'cyan'];
const SIZE = 4;

/** logits = −20 × squared distance of the image's mean colour (in [0,1]) to each class prototype */
const prototypeModel: ScoringModel = {
  numClasses: PROTOS.length,
  forward(x) {
    return tf.tidy(() => {
      const mean = tf.mean(x, [1, 2]); // [N, 3]
      const protos = tf.tensor2d(PROTOS.map((c) => COLOURS[c].map((v) => v / 255)));
      const d = tf.sum(tf.square(tf.sub(tf.expandDims(mean, 1), tf.expandDims(protos, 0))), 2);
      return tf.mul(d, -20) as tf.Tensor2D;
    });
  },
};

/** (label, colour) per image, in file order; the confusions are read straight off this table */
const FIXED: [number, Colour][] = [
  [0, 'red'],
  [0, 'red'],
  [0, 'red'],
  [0, 'green'], // class 0: 3 right, once taken for 1
  [1, 'green'],
  [1, 'green'],
  [1, 'blue'],
  [1, 'blue'], // class 1: 2 right, twice taken for 2
  [2, 'blue'],
  [2, 'blue'],
  [2, 'blue'], // class 2: all right
  [3, 'grey'],
  [3, 'red'],
  [3, 'red'], // class 3: 1 right, twice taken for 0
  [4, 'yellow'],
  [4, 'cyan'], // class 4: 1 right, once taken for 5
]; // class 5: no images

/** A BatchSource over explicit uint8 images (val split only), in order, in batches of `batchSize`. */
function fixedSource(items: { pixels: Uint8Array; label: number }[], batchSize: number, size = SIZE): BatchSource & { batchesServed: number } {
  const steps = Math.ceil(items.length / batchSize);
  const stats = new Map<string, EpochDataStats>();
  const src = {
    batchesServed: 0,
    numClasses: 6,
    stepsPerEpoch: (split: Split) => (split === 'val' ? steps : 0),
    imageSize: () => size,
    async *batches(split: Split, epoch: number): AsyncIterable<Batch> {
      const px = size * size * 3;
      for (let b = 0; b < steps; b++) {
        const chunk = items.slice(b * batchSize, (b + 1) * batchSize);
        const images = new Uint8Array(chunk.length * px);
        chunk.forEach((it, i) => images.set(it.pixels, i * px));
        src.batchesServed++;
        yield {
          split,
          epoch,
          index: b,
          n: chunk.length,
          height: size,
          width: size,
          images,
          labels: Int32Array.from(chunk, (it) => it.label),
          sampleIds: Int32Array.from(chunk, (_, i) => b * batchSize + i),
        };
      }
      stats.set(`${split}:${epoch}`, { split, epoch, images: items.length, skipped: 0, skippedFiles: [], size, seconds: 0 });
    },
    stats: (split: Split, epoch: number) => stats.get(`${split}:${epoch}`),
    async close() {},
  };
  return src;
}

function solid(colour: Colour): Uint8Array {
  const px = new Uint8Array(SIZE * SIZE * 3);
  for (let i = 0; i < SIZE * SIZE; i++) px.set(COLOURS[colour], i * 3);
  return px;
}

const IDENTITY = { mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number] };
const CLASSES = PROTOS.map((c, i) => ({ wnid: `n0000000${i}`, name: c }));

/** the probability the prototype model gives each class for a solid colour (double precision) */
function probsOf(colour: Colour): number[] {
  const m = COLOURS[colour].map((v) => v / 255);
  const logits = PROTOS.map((p) => -20 * COLOURS[p].reduce((s: number, v, k) => s + (v / 255 - m[k]) ** 2, 0));
  const max = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

async function evalFixed(opts: { batchSize?: number; mistakesPerClass?: number } = {}): Promise<EvalOutcome> {
  const out = await evaluate({
    model: prototypeModel,
    source: fixedSource(
      FIXED.map(([label, colour]) => ({ pixels: solid(colour), label })),
      opts.batchSize ?? 5,
    ),
    normalize: IDENTITY,
    labelSmoothing: 0,
    tta: 'none',
    classes: CLASSES,
    filePath: (id) => `/data/val/img-${id}.png`,
    totalImages: FIXED.length,
    mistakesPerClass: opts.mistakesPerClass,
  });
  if (out === 'cancelled') throw new Error('cancelled');
  return out;
}

describe('evaluator on a fixed set with predictable predictions', () => {
  it('per-class counts and confusions are the hand-counted ones, most frequent first', async () => {
    const out = await evalFixed();
    expect(out.images).toBe(16);
    expect(out.steps).toBe(4); // batches of 5, 5, 5, 1
    expect(out.top1).toBe((100 * 10) / 16);
    expect(out.perClass.map((c) => [c.classIndex, c.name, c.images, c.top1])).toEqual([
      [0, 'red', 4, 75],
      [1, 'green', 4, 50],
      [2, 'blue', 3, 100],
      [3, 'grey', 3, 100 / 3],
      [4, 'yellow', 2, 50],
      [5, 'cyan', 0, null],
    ]);
    expect(out.perClass[5].top5).toBeNull();
    // every (true, predicted) pair with true ≠ predicted, by count, then true class, then predicted
    expect(out.confusions).toEqual([
      { true: 1, predicted: 2, count: 2 },
      { true: 3, predicted: 0, count: 2 },
      { true: 0, predicted: 1, count: 1 },
      { true: 4, predicted: 5, count: 1 },
    ]);
    // the counts add up: hits + confusions = images
    expect(out.confusions.reduce((s, c) => s + c.count, 0)).toBe(16 - 10);
    // loss: the mean of −log p(true) over the images (the model's probabilities are known exactly)
    const nll = FIXED.reduce((s, [label, colour]) => s - Math.log(probsOf(colour)[label]), 0) / FIXED.length;
    expect(out.loss).toBeCloseTo(nll, 4);
  });

  it('the batch size changes nothing', async () => {
    const a = await evalFixed({ batchSize: 5 });
    const b = await evalFixed({ batchSize: 16 });
    const c = await evalFixed({ batchSize: 1 });
    for (const o of [b, c]) {
      expect(o.perClass).toEqual(a.perClass);
      expect(o.confusions).toEqual(a.confusions);
      expect(o.mistakes).toEqual(a.mistakes);
      expect(o.top1).toBe(a.top1);
      expect(o.top5).toBe(a.top5);
    }
  });

  it('keeps every mistake with its predicted class, its confidence and the true class probability, highest first', async () => {
    const out = await evalFixed();
    const p = (colour: Colour, c: number) => Math.fround(probsOf(colour)[c]);
    const expected: [number, number, Colour, number][] = [
      // [true class, predicted, colour, sampleId]
      [0, 1, 'green', 3],
      [1, 2, 'blue', 6],
      [1, 2, 'blue', 7],
      [3, 0, 'red', 12],
      [3, 0, 'red', 13],
      [4, 5, 'cyan', 15],
    ];
    expect(out.mistakes.map((m) => [m.classIndex, m.predicted, m.sampleId, m.path])).toEqual(
      expected.map(([t, pr, , id]) => [t, pr, id, `/data/val/img-${id}.png`]),
    );
    out.mistakes.forEach((m, i) => {
      const [t, pr, colour] = expected[i];
      expect(m.confidence).toBeCloseTo(p(colour, pr), 5);
      expect(m.trueProb).toBeCloseTo(p(colour, t), 5);
      expect(m.confidence).toBeGreaterThan(m.trueProb);
    });
  });

  it('keeps only the top mistakes per class (ties: the earlier image)', async () => {
    const out = await evalFixed({ mistakesPerClass: 1 });
    expect(out.mistakesPerClass).toBe(1);
    expect(out.mistakes.map((m) => [m.classIndex, m.sampleId])).toEqual([
      [0, 3],
      [1, 6],
      [3, 12],
      [4, 15],
    ]);
    // the counts do not depend on how many mistakes are kept
    expect(out.confusions).toEqual((await evalFixed()).confusions);
  });

  it('reports progress with an ETA, and a cancel between batches returns nothing partial', async () => {
    const seen: EvalProgress[] = [];
    const ctl = new AbortController();
    const src = fixedSource(
      FIXED.map(([label, colour]) => ({ pixels: solid(colour), label })),
      5,
    );
    const before = tf.memory().numTensors;
    const out = await evaluate({
      model: prototypeModel,
      source: src,
      normalize: IDENTITY,
      labelSmoothing: 0,
      tta: 'none',
      classes: CLASSES,
      filePath: String,
      totalImages: FIXED.length,
      progressIntervalMs: 0,
      signal: ctl.signal,
      onProgress: (p) => {
        seen.push(p);
        if (p.step === 2) ctl.abort();
      },
    });
    expect(out).toBe('cancelled');
    expect(src.batchesServed).toBeLessThanOrEqual(3);
    expect(seen.map((p) => [p.step, p.images])).toEqual([
      [0, 0],
      [1, 5],
      [2, 10],
    ]);
    expect(seen[2].etaSeconds).not.toBeNull();
    expect(seen[2].totalImages).toBe(16);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('TopMistakes', () => {
  it('holds at most K per class, most confident first, whatever the arrival order', () => {
    const t = new TopMistakes(3);
    const m = (classIndex: number, confidence: number, sampleId: number): EvalMistake => ({
      classIndex,
      predicted: 9,
      confidence,
      trueProb: 0,
      path: `/${sampleId}`,
      sampleId,
    });
    const confs = [0.2, 0.9, 0.1, 0.5, 0.95, 0.5, 0.3];
    confs.forEach((c, i) => t.offer(m(1, c, i)));
    t.offer(m(0, 0.4, 100));
    expect(t.list().map((x) => [x.classIndex, x.confidence, x.sampleId])).toEqual([
      [0, 0.4, 100],
      [1, 0.95, 4],
      [1, 0.9, 1],
      [1, 0.5, 3],
    ]);
    expect(t.wants(1, 0.1)).toBe(false);
    expect(t.wants(1, 0.6)).toBe(true);
    expect(t.wants(2, 0)).toBe(true);
  });
});

// --- a tiny ResNet-50 on real images: eval against the trainer's own validation -------------------
const BASE: RunConfigInput = {
  seed: 5,
  backend: 'cpu',
  model: { numClasses: 4, widthMultiplier: 1 / 32 },
  data: { trainSize: 32, valSize: 32 },
  train: { epochs: 1, batchSize: 3, logEverySteps: 2, labelSmoothing: 0.1 },
  optimizer: { lr: 0.05, momentum: 0.9 },
  schedule: { policy: 'constant' },
};

/** A direct forward pass over the val split: argmax (or top-k) per image of logits or flip-averaged probabilities. */
async function directTally(model: ScoringModel, source: BatchSource, norm: typeof IDENTITY, tta: 'none' | 'flip') {
  const perClass = new Map<number, { images: number; top1: number; top5: number }>();
  const pairs = new Map<string, number>();
  for await (const b of source.batches('val', 1)) {
    const scores = tf.tidy(() => {
      const x = tf.div(tf.sub(tf.div(tf.tensor4d(b.images, [b.n, b.height, b.width, 3], 'int32').toFloat(), 255), norm.mean), norm.std) as tf.Tensor4D;
      if (tta === 'none') return model.forward(x, false);
      return tf.div(tf.add(tf.softmax(model.forward(x, false)), tf.softmax(model.forward(tf.reverse(x, 2) as tf.Tensor4D, false))), 2);
    });
    const s = (await scores.array()) as number[][];
    scores.dispose();
    s.forEach((row, i) => {
      const label = b.labels[i];
      const order = row.map((v, c) => [v, c]).sort((p, q) => q[0] - p[0] || p[1] - q[1]);
      const pred = order[0][1];
      const c = perClass.get(label) ?? { images: 0, top1: 0, top5: 0 };
      c.images++;
      if (pred === label) c.top1++;
      if (order.slice(0, 5).some(([, k]) => k === label)) c.top5++;
      perClass.set(label, c);
      if (pred !== label) pairs.set(`${label}>${pred}`, (pairs.get(`${label}>${pred}`) ?? 0) + 1);
    });
  }
  return { perClass, pairs };
}

describe('evaluator against the trainer on a tiny ResNet-50 (pure-JS CPU)', () => {
  for (const tta of ['none', 'flip'] as const) {
    it(`tta ${tta}: loss / top-1 / top-5 equal the trainer's validation of the epoch exactly; tallies equal a direct forward pass`, async () => {
      const cfg = resolveRunConfig([BASE, { data: { valTta: tta } }]);
      const source = await createMemoryBatchSource({ classes: 4, perClass: 3, size: 32, batchSize: 3, seed: 5 });
      const dir = tempDir('eval-ml-');
      const trainer = await Trainer.create({ config: cfg, source, checkpointDir: dir });
      try {
        const result = await trainer.run();
        const val = result.epochs[0];
        expect(val.valTop1).not.toBeNull();
        const before = tf.memory().numTensors;
        const opts = {
          source,
          normalize: cfg.augment.normalize,
          labelSmoothing: cfg.train.labelSmoothing,
          tta,
          classes: ['a', 'b', 'c', 'd'].map((n, i) => ({ wnid: `w${i}`, name: n })),
          filePath: (id: number) => `/val/${id}`,
        };
        const live = await evaluate({ model: trainer.model, ...opts });
        expect(tf.memory().numTensors).toBe(before);
        if (live === 'cancelled') throw new Error('cancelled');
        expect(live.images).toBe(4);
        expect(live.top1).toBe(val.valTop1);
        expect(live.top5).toBe(val.valTop5);
        expect(live.loss).toBe(val.valLoss);

        // the same from the checkpoint file, loaded into a fresh model (what `workstation eval` does)
        const fresh = createModel(cfg.model, 999);
        try {
          loadCheckpointInto(path.join(dir, 'epoch-0001.ckpt'), fresh);
          const fromFile = await evaluate({ model: fresh, ...opts });
          if (fromFile === 'cancelled') throw new Error('cancelled');
          expect([fromFile.top1, fromFile.top5, fromFile.loss]).toEqual([val.valTop1, val.valTop5, val.valLoss]);
          expect(fromFile.perClass).toEqual(live.perClass);
          expect(fromFile.confusions).toEqual(live.confusions);
        } finally {
          fresh.dispose();
        }

        const direct = await directTally(trainer.model, source, cfg.augment.normalize, tta);
        for (const c of live.perClass) {
          const d = direct.perClass.get(c.classIndex) ?? { images: 0, top1: 0, top5: 0 };
          expect(c.images).toBe(d.images);
          expect(c.top1).toBe(d.images ? (100 * d.top1) / d.images : null);
          expect(c.top5).toBe(d.images ? (100 * d.top5) / d.images : null);
        }
        expect(Object.fromEntries(live.confusions.map((x) => [`${x.true}>${x.predicted}`, x.count]))).toEqual(Object.fromEntries(direct.pairs));
        expect(live.mistakes.length).toBe(live.confusions.reduce((s, x) => s + x.count, 0));
      } finally {
        trainer.dispose();
        await source.close();
      }
    });
  }
});
