// The augmentation preview shared by the app (augment.preview command) and the CLI
// (`workstation augment preview`): N samples produced exactly as training produces them — the
// workers' geometric transform (data/transform.ts) and the trainer's tensor path (prepareImages:
// ÷255, colour jitter, Normalize) — then de-normalised back to uint8 and encoded as PNG, with the
// parameters drawn for each sample.
import fs from 'node:fs';
import sharp from 'sharp';
import type { DrawnParams } from '../../src-shared/api/schemas';
import type { AugmentParams } from '../../src-shared/config/augment';
import { WorkstationError } from '../../src-shared/errors';
import { createRng, RNG_PURPOSE } from '../../src-shared/random';
import { drawJitter, type JitterDraw } from '../ml/augment/color-jitter';
import { denormalizeToUint8 } from '../ml/augment/normalize';
import { prepareImages } from '../ml/augment/prepare-batch';
import { applyTrainTransform, drawTrainTransform, orientedSize, type TrainDraw } from './transform';

export interface PreviewOptions {
  /** image files; sample k uses images[k % images.length] */
  images: string[];
  count: number;
  seed: number;
  params: AugmentParams;
  /** output side in pixels (the training size) */
  size: number;
}

export interface PreviewSample {
  source: string;
  png: Buffer;
  params: DrawnParams;
}

/** The same bounds as the augment.preview command (src-shared/api/contract.ts). */
export const PREVIEW_LIMITS = { images: 64, count: 64, minSize: 16, maxSize: 512 } as const;

/** Samples go through the tensor path in chunks, bounding float memory (results do not depend on it). */
const CHUNK = 16;

/**
 * Preview sample k draws from its own streams (seed, preview, crop|jitter, k): independent of the
 * count asked for and of the training streams, and the same for the same seed.
 */
export function previewRngs(seed: number, k: number) {
  return {
    geometry: createRng(seed, RNG_PURPOSE.preview, RNG_PURPOSE.crop, k),
    jitter: createRng(seed, RNG_PURPOSE.preview, RNG_PURPOSE.jitter, k),
  };
}

function check(opts: PreviewOptions): void {
  const { images, count, size, seed } = opts;
  if (images.length === 0 || images.length > PREVIEW_LIMITS.images) {
    throw new WorkstationError('INVALID_ARGUMENT', `images: give 1 to ${PREVIEW_LIMITS.images} image paths, got ${images.length}`, { field: 'images' });
  }
  if (!Number.isInteger(count) || count < 1 || count > PREVIEW_LIMITS.count) {
    throw new WorkstationError('INVALID_ARGUMENT', `count must be an integer from 1 to ${PREVIEW_LIMITS.count}, got ${count}`, { field: 'count' });
  }
  if (!Number.isInteger(size) || size < PREVIEW_LIMITS.minSize || size > PREVIEW_LIMITS.maxSize) {
    throw new WorkstationError('INVALID_ARGUMENT', `size must be an integer from ${PREVIEW_LIMITS.minSize} to ${PREVIEW_LIMITS.maxSize}, got ${size}`, {
      field: 'size',
    });
  }
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new WorkstationError('INVALID_ARGUMENT', `seed must be a non-negative integer, got ${seed}`, { field: 'seed' });
}

interface Source {
  /** file bytes: the decode workers transform buffers too */
  data: Buffer;
  width: number;
  height: number;
}

async function readSource(file: string): Promise<Source> {
  let data: Buffer;
  try {
    data = await fs.promises.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new WorkstationError('NOT_FOUND', `image not found: ${file}`, { field: 'images', path: file });
    throw new WorkstationError('NOT_FOUND', `cannot read image ${file}: ${code ?? (e as Error).message}`, { field: 'images', path: file, cause: e });
  }
  try {
    return { data, ...(await orientedSize(data)) };
  } catch (e) {
    throw new WorkstationError('DECODE_ERROR', `cannot read image ${file}: ${(e as Error).message}`, { field: 'images', path: file, cause: e });
  }
}

export async function previewAugment(opts: PreviewOptions): Promise<{ samples: PreviewSample[] }> {
  check(opts);
  const { images, count, seed, params, size } = opts;
  // Each distinct file is read once; samples cycle over them.
  const sources = new Map<string, Source>();
  for (const file of images) if (!sources.has(file)) sources.set(file, await readSource(file));

  const samples: PreviewSample[] = [];
  const pixelsPerImage = size * size * 3;
  for (let start = 0; start < count; start += CHUNK) {
    const n = Math.min(CHUNK, count - start);
    const batch = new Uint8Array(n * pixelsPerImage);
    const geometry: TrainDraw[] = [];
    const jitter: JitterDraw[] = [];
    for (let i = 0; i < n; i++) {
      const k = start + i;
      const file = images[k % images.length];
      const src = sources.get(file)!;
      const rngs = previewRngs(seed, k);
      const draw = drawTrainTransform(src.width, src.height, params, rngs.geometry);
      let img;
      try {
        img = await applyTrainTransform(src.data, draw, size, { sourceSize: src });
      } catch (e) {
        if (e instanceof WorkstationError) throw e;
        throw new WorkstationError('DECODE_ERROR', `cannot decode ${file}: ${(e as Error).message}`, { field: 'images', path: file, cause: e });
      }
      batch.set(img.data, i * pixelsPerImage);
      geometry.push(draw);
      jitter.push(drawJitter(params.colorJitter, rngs.jitter));
    }
    const x = prepareImages(batch, [n, size, size], jitter, params.normalize);
    let levels: Uint8Array;
    try {
      levels = denormalizeToUint8(x, params.normalize);
    } finally {
      x.dispose();
    }
    for (let i = 0; i < n; i++) {
      const raw = Buffer.from(levels.buffer, levels.byteOffset + i * pixelsPerImage, pixelsPerImage);
      const png = await sharp(raw, { raw: { width: size, height: size, channels: 3 } })
        .png()
        .toBuffer();
      samples.push({
        source: images[(start + i) % images.length],
        png,
        params: { crop: { ...geometry[i].crop }, flip: geometry[i].flip, jitter: { ...jitter[i], order: [...jitter[i].order] } },
      });
    }
  }
  return { samples };
}
