// previewAugment: real sample JPEGs through the training transform + tensor path to PNG, in the
// preview's own worker. The pixels must be exactly what a (cpu-backend) training step feeds the
// model for the reported draws, and a preview must not wait for the training decode lane.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { DrawnParamsSchema } from '../../src-shared/api/schemas';
import { AugmentSchema, applyAugmentPatch, type NormalizeParams } from '../../src-shared/config/augment';
import { nodeBundlePath } from '../../src-main/common/paths';
import type { DecodeResult, DecodeTask } from '../../src-main/data/decode-task';
import { previewAugment } from '../../src-main/data/preview';
import { trainedLevels } from '../../src-main/data/preview-render';
import { createWorkerPool } from '../../src-main/data/worker-pool';
import { drawJitter } from '../../src-main/ml/augment/color-jitter';
import { applyTrainTransform, applyValTransform } from '../../src-main/data/transform';
import { denormalizeToUint8 } from '../../src-main/ml/augment/normalize';
import { prepareImages } from '../../src-main/ml/augment/prepare-batch';
import { createRng } from '../../src-shared/random';
import { SAMPLES_DIR, tempDir } from '../helpers/samples';

const AIREDALE = path.join(SAMPLES_DIR, 'n02096051_Airedale.JPEG'); // grayscale JPEG
const CAN_OPENER = path.join(SAMPLES_DIR, 'n02951585_can_opener.JPEG'); // EXIF orientation 6
const GOLDFINCH = path.join(SAMPLES_DIR, 'n01531178_goldfinch.JPEG');
const defaults = AugmentSchema.parse({});
const noAugment = applyAugmentPatch(defaults, {
  randomResizedCrop: { enabled: false },
  hflip: 0,
  colorJitter: { p: 0 },
});

/**
 * Two references for "a plain resize of the (EXIF-oriented) image": the pipeline's own plain resize
 * (the validation transform in 'resize' mode, which shares the resampler: the native libjpeg
 * DCT-scaled decode + triangle filter when built, sharp otherwise) and sharp's resize, an independent
 * resampler that differs at edges by tens of levels but only by ~2-3 on average. Sizes stay at
 * ≥ 160 px: below that sharp shrinks JPEGs on load depending on the pipeline.
 */
async function plainResizes(file: string, size: number): Promise<{ pipeline: Uint8Array; sharp: Uint8Array }> {
  return {
    pipeline: (await applyValTransform(file, { mode: 'resize', resize: size, size })).data,
    sharp: await sharp(file).rotate().resize(size, size, { fit: 'fill', kernel: 'linear' }).toColourspace('srgb').removeAlpha().raw().toBuffer(),
  };
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

async function rawPng(png: Buffer) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data, info };
}

function maxAbsDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('previewAugment', () => {
  it('produces count samples cycling over the images, PNGs of size×size, with valid drawn params', async () => {
    const before = tf.memory().numTensors;
    const { samples } = await previewAugment({ images: [GOLDFINCH, AIREDALE, CAN_OPENER], count: 5, seed: 3, params: defaults, size: 64 });
    expect(samples.map((s) => s.source)).toEqual([GOLDFINCH, AIREDALE, CAN_OPENER, GOLDFINCH, AIREDALE]);
    for (const s of samples) {
      const meta = await sharp(s.png).metadata();
      expect(meta.format).toBe('png');
      expect([meta.width, meta.height, meta.channels]).toEqual([64, 64, 3]);
      expect(DrawnParamsSchema.parse(s.params)).toEqual(s.params);
      expect(s.params.jitter!.order).toHaveLength(4);
    }
    // The can opener is 500 wide × 375 high as stored, EXIF-rotated to portrait: crops live in the rotated frame.
    const oriented = await sharp(CAN_OPENER).rotate().metadata();
    const stored = await sharp(CAN_OPENER).metadata();
    expect(oriented.autoOrient).toBeDefined();
    const { width: ow, height: oh } = stored.autoOrient!;
    expect(ow).toBe(stored.height);
    const c = samples[2].params.crop;
    expect(c.x + c.width).toBeLessThanOrEqual(ow);
    expect(c.y + c.height).toBeLessThanOrEqual(oh);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('same seed → byte-identical PNGs and params; another seed → different samples', async () => {
    const opts = { images: [GOLDFINCH, CAN_OPENER], count: 4, seed: 11, params: defaults, size: 48 };
    const a = await previewAugment(opts);
    const b = await previewAugment(opts);
    const c = await previewAugment({ ...opts, seed: 12 });
    a.samples.forEach((s, i) => {
      expect(Buffer.compare(s.png, b.samples[i].png)).toBe(0);
      expect(s.params).toEqual(b.samples[i].params);
    });
    expect(a.samples.some((s, i) => Buffer.compare(s.png, c.samples[i].png) !== 0)).toBe(true);
    // Sample k does not depend on how many samples were asked for.
    const fewer = await previewAugment({ ...opts, count: 2 });
    fewer.samples.forEach((s, i) => expect(Buffer.compare(s.png, a.samples[i].png)).toBe(0));
  });

  it('jitter and flip off, crop = whole image → a plain resize (incl. grayscale and EXIF-rotated files)', async () => {
    for (const file of [GOLDFINCH, AIREDALE, CAN_OPENER]) {
      const { samples } = await previewAugment({ images: [file], count: 1, seed: 1, params: noAugment, size: 160 });
      const s = samples[0];
      const oriented = await sharp(file).rotate().metadata();
      expect(s.params.flip).toBe(false);
      expect(s.params.jitter!.applied).toBe(false);
      const expected = await plainResizes(file, 160);
      const got = await rawPng(s.png);
      expect(got.info.channels).toBe(3);
      expect(maxAbsDiff(got.data, expected.pipeline)).toBeLessThanOrEqual(2);
      expect(meanAbsDiff(got.data, expected.sharp)).toBeLessThan(4);
      // The sharp bound is tight enough to catch a mirrored (or rotated) image.
      const mirrored = await previewAugment({ images: [file], count: 1, seed: 1, params: { ...noAugment, hflip: 1 }, size: 160 });
      expect(meanAbsDiff((await rawPng(mirrored.samples[0].png)).data, expected.sharp)).toBeGreaterThan(8);
      const { width, height } = (await sharp(file).metadata()).autoOrient!;
      expect(s.params.crop).toEqual({ x: 0, y: 0, width, height });
      expect(oriented.format).toBe('jpeg');
    }
  });

  it('RandomResizedCrop with scale [1,1] and the image aspect ratio also gives the plain resize', async () => {
    const { width, height } = (await sharp(GOLDFINCH).metadata()).autoOrient!;
    const params = applyAugmentPatch(noAugment, { randomResizedCrop: { enabled: true, scale: [1, 1], ratio: [width / height, width / height] } });
    const { samples } = await previewAugment({ images: [GOLDFINCH], count: 1, seed: 4, params, size: 160 });
    expect(samples[0].params.crop).toEqual({ x: 0, y: 0, width, height });
    const expected = await plainResizes(GOLDFINCH, 160);
    expect(maxAbsDiff((await rawPng(samples[0].png)).data, expected.pipeline)).toBeLessThanOrEqual(2);
  });

  it('flip p = 1 mirrors the plain resize; jitter p = 1 changes pixels and reports applied factors', async () => {
    const plain = (await previewAugment({ images: [GOLDFINCH], count: 1, seed: 2, params: noAugment, size: 32 })).samples[0];
    const flipped = (await previewAugment({ images: [GOLDFINCH], count: 1, seed: 2, params: { ...noAugment, hflip: 1 }, size: 32 })).samples[0];
    expect(flipped.params.flip).toBe(true);
    const a = (await rawPng(plain.png)).data;
    const b = (await rawPng(flipped.png)).data;
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        for (let ch = 0; ch < 3; ch++) expect(b[(y * 32 + x) * 3 + ch]).toBe(a[(y * 32 + (31 - x)) * 3 + ch]);
      }
    }
    const jitterParams = applyAugmentPatch(noAugment, { colorJitter: { p: 1, brightness: 0.5, contrast: 0.5, saturation: 0.5, hue: 0.2 } });
    const jittered = (await previewAugment({ images: [GOLDFINCH], count: 1, seed: 2, params: jitterParams, size: 32 })).samples[0];
    const j = jittered.params.jitter!;
    expect(j.applied).toBe(true);
    expect(j.brightness).toBeGreaterThanOrEqual(0.5);
    expect(j.brightness).toBeLessThan(1.5);
    expect(Math.abs(j.hue)).toBeLessThan(0.2);
    expect(maxAbsDiff((await rawPng(jittered.png)).data, a)).toBeGreaterThan(10);
  });

  it('the reported params reproduce each PNG through the training functions (geometry → prepareImages), bit for bit', async () => {
    const cases = [
      { params: applyAugmentPatch(defaults, { colorJitter: { p: 0.7, hue: 0.2 } }), size: 40, count: 6 },
      // every op at full strength, and a normalisation other than ImageNet's
      {
        params: applyAugmentPatch(defaults, {
          colorJitter: { p: 1, brightness: 0.9, contrast: 0.9, saturation: 0.9, hue: 0.5 },
          normalize: { mean: [0.5, 0.25, 0.75], std: [0.2, 0.6, 0.33] },
        }),
        size: 96,
        count: 8,
      },
    ];
    for (const { params, size, count } of cases) {
      const { samples } = await previewAugment({ images: [CAN_OPENER, AIREDALE, GOLDFINCH], count, seed: 8, params, size });
      expect(samples.some((s) => s.params.jitter!.applied)).toBe(true);
      for (const s of samples) {
        const px = await applyTrainTransform(fs.readFileSync(s.source), { crop: s.params.crop, flip: s.params.flip }, size);
        const x = prepareImages(px.data, [1, size, size], [s.params.jitter!], params.normalize);
        const expected = denormalizeToUint8(x, params.normalize);
        x.dispose();
        expect(maxAbsDiff((await rawPng(s.png)).data, expected)).toBe(0);
      }
    }
  });

  it('its plain-JS tensor path equals prepareImages + denormalizeToUint8 on the cpu backend for any pixels and draws', () => {
    const rng = createRng(5, 1);
    const side = 24;
    const norms: NormalizeParams[] = [defaults.normalize, { mean: [0.1, 0.9, 0.45], std: [0.05, 1.7, 0.31] }];
    for (let t = 0; t < 40; t++) {
      const px = Uint8Array.from({ length: side * side * 3 }, () => rng.int(256));
      // flat areas too: gray pixels and equal channels take other branches of the hue code
      if (t % 4 === 0) px.fill(rng.int(256), 0, side * 9);
      const draw = drawJitter({ p: 0.9, brightness: rng.next(), contrast: rng.next(), saturation: rng.next(), hue: rng.next() / 2 }, rng);
      const norm = norms[t % 2];
      const x = prepareImages(px, [1, side, side], [draw], norm);
      const expected = denormalizeToUint8(x, norm);
      x.dispose();
      expect(maxAbsDiff(trainedLevels(px, draw, norm), expected)).toBe(0);
    }
  });

  // (a FIFO: POSIX; the app's training boxes are Linux)
  it('completes while the training decode lane is blocked on a read that never returns', async () => {
    // a training pool on the real decode worker, its only worker stuck reading a FIFO nobody writes
    const fifo = path.join(tempDir('ws-preview-fifo-'), 'stuck.JPEG');
    execFileSync('mkfifo', [fifo]);
    const training = createWorkerPool<DecodeTask, DecodeResult>({ file: nodeBundlePath('decode-worker'), size: 1 });
    const task = (file: string): DecodeTask => ({ kind: 'decode', files: [file], sampleIds: [0], positions: [0], buffer: null, size: 32, seed: 0, epoch: 0 });
    const stuck = [training.run(task(fifo)), training.run(task(GOLDFINCH))]; // one reading, one queued behind it
    let stuckSettled = false;
    void Promise.allSettled(stuck).then(() => (stuckSettled = true));
    try {
      const { samples } = await previewAugment({ images: [GOLDFINCH, AIREDALE], count: 8, seed: 3, params: defaults, size: 224 });
      expect(samples).toHaveLength(8);
      expect(stuckSettled).toBe(false);
    } finally {
      // unblock the reader (open for writing, close: it reads an empty file), then close the pool
      fs.closeSync(fs.openSync(fifo, 'w'));
      const [empty, after] = await Promise.all(stuck);
      expect(empty.failed).toHaveLength(1);
      expect(after.failed).toEqual([]);
      await training.close();
    }
  });

  it('rejects bad input with errors naming the field or file', async () => {
    await expect(previewAugment({ images: [], count: 1, seed: 0, params: defaults, size: 32 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'images',
    });
    await expect(previewAugment({ images: [GOLDFINCH], count: 0, seed: 0, params: defaults, size: 32 })).rejects.toMatchObject({ field: 'count' });
    await expect(previewAugment({ images: [GOLDFINCH], count: 1, seed: 0, params: defaults, size: 4 })).rejects.toMatchObject({ field: 'size' });
    const missing = path.join(SAMPLES_DIR, 'no-such-file.JPEG');
    await expect(previewAugment({ images: [missing], count: 1, seed: 0, params: defaults, size: 32 })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      path: missing,
    });
    const notImage = path.join(tempDir('ws-preview-'), 'text.JPEG');
    fs.writeFileSync(notImage, 'not a jpeg');
    await expect(previewAugment({ images: [GOLDFINCH, notImage], count: 1, seed: 0, params: defaults, size: 32 })).rejects.toMatchObject({
      code: 'DECODE_ERROR',
      path: notImage,
    });
  });
});
