// The worker side of the augmentation preview (run by the decode worker script in the preview's
// own worker, data/preview.ts): each sample is produced as training produces it — the workers'
// geometric transform (data/transform.ts), then the trainer's tensor path (prepareImages: ÷255,
// colour jitter, Normalize) and the preview's de-normalisation back to uint8 — and encoded as PNG.
//
// The tensor path is done here in plain JS, float32 op by op exactly as tfjs's 'cpu' backend
// evaluates prepareImages + denormalizeToUint8 (the jitter is the same loop, color-jitter-cpu.ts),
// so no tfjs is loaded in the worker and the pixels are bit-identical to what a cpu-backend run
// feeds its model (tests/data/preview.test.ts compares them). The batched ops of the native
// backends agree with that loop to float rounding (both are checked against the same goldens).
import fs from 'node:fs';
import sharp from 'sharp';
import type { DrawnParams } from '../../src-shared/api/schemas';
import type { AugmentParams, NormalizeParams } from '../../src-shared/config/augment';
import { WorkstationError } from '../../src-shared/errors';
import { createRng, RNG_PURPOSE } from '../../src-shared/random';
import { jitterPixels } from '../ml/augment/color-jitter-cpu';
import { drawJitter, type JitterDraw } from '../ml/augment/color-jitter-draw';
import { applyTrainTransform, drawTrainTransform, orientedSize } from './transform';

export interface PreviewTask {
  kind: 'preview';
  /** image files; sample k uses images[k % images.length] */
  images: string[];
  count: number;
  seed: number;
  params: AugmentParams;
  /** output side in pixels (the training size) */
  size: number;
}

export interface PreviewTaskResult {
  /** PNG bytes per sample (a Buffer on this side, a Uint8Array once posted) */
  samples: { source: string; png: Uint8Array; params: DrawnParams }[];
}

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

const f32 = Math.fround;

/** tfjs-backend-cpu's Round kernel: half to even. */
function roundHalfEven(x: number): number {
  const base = Math.floor(x);
  const d = x - base;
  if (d < 0.5) return base;
  if (d > 0.5) return Math.ceil(x);
  return base % 2 === 0 ? base : base + 1;
}

/**
 * uint8 HWC pixels of one sample → what the model sees, back as uint8 levels: the plain-JS twin of
 * `denormalizeToUint8(prepareImages(px, [1, h, w], [draw], norm), norm)` on tfjs's cpu backend,
 * each op rounded to float32 where that backend stores its result.
 */
export function trainedLevels(px: Uint8Array, draw: JitterDraw, norm: NormalizeParams): Uint8Array {
  const x = new Float32Array(px.length);
  for (let i = 0; i < px.length; i++) x[i] = px[i] / 255; // cast to float32, div 255
  jitterPixels(x, px.length / 3, [draw]);
  const mean = Float32Array.from(norm.mean);
  const std = Float32Array.from(norm.std);
  const out = new Uint8Array(px.length);
  for (let i = 0; i < px.length; i++) {
    const c = i % 3;
    const n = f32(f32(x[i] - mean[c]) / std[c]); // normalize: sub mean, div std
    const y = f32(f32(f32(n * std[c]) + mean[c]) * 255); // inverse: mul std, add mean, mul 255
    const r = roundHalfEven(y);
    out[i] = r > 255 ? 255 : r < 0 ? 0 : r; // clipByValue(0, 255), toInt
  }
  return out;
}

async function readSource(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  let data: Buffer;
  try {
    data = fs.readFileSync(file); // a worker thread of its own: a thread-pool hop would only add latency
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

async function renderSample(task: PreviewTask, k: number, src: { data: Buffer; width: number; height: number }) {
  const { params, size } = task;
  const file = task.images[k % task.images.length];
  const rngs = previewRngs(task.seed, k);
  const geometry = drawTrainTransform(src.width, src.height, params, rngs.geometry);
  const jitter = drawJitter(params.colorJitter, rngs.jitter);
  let img;
  try {
    img = await applyTrainTransform(src.data, geometry, size, { sourceSize: src });
  } catch (e) {
    if (e instanceof WorkstationError) throw e;
    throw new WorkstationError('DECODE_ERROR', `cannot decode ${file}: ${(e as Error).message}`, { field: 'images', path: file, cause: e });
  }
  const levels = trainedLevels(img.data, jitter, params.normalize);
  const png = await sharp(levels, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
  return { source: file, png, params: { crop: { ...geometry.crop }, flip: geometry.flip, jitter: { ...jitter, order: [...jitter.order] } } };
}

/** Samples in order; the arguments were checked by the caller (data/preview.ts). */
export async function renderPreview(task: PreviewTask): Promise<PreviewTaskResult> {
  // each distinct file is read once (in order, so the first bad one is the one reported)
  const sources = new Map<string, Awaited<ReturnType<typeof readSource>>>();
  for (const file of task.images) if (!sources.has(file)) sources.set(file, await readSource(file));
  // two samples in flight: sharp's decode/encode of one overlaps the JS pixel loop of the other
  const samples: PreviewTaskResult['samples'] = new Array(task.count);
  let next = 0;
  const lane = async () => {
    while (next < task.count) {
      const k = next++;
      samples[k] = await renderSample(task, k, sources.get(task.images[k % task.images.length])!);
    }
  };
  await Promise.all([lane(), lane()]);
  return { samples };
}
