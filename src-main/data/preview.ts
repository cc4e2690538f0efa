// The augmentation preview shared by the app (augment.preview command) and the CLI
// (`workstation augment preview`): N samples produced exactly as training produces them — the
// workers' geometric transform (data/transform.ts) and the trainer's tensor path (prepareImages:
// ÷255, colour jitter, Normalize) — then de-normalised back to uint8 and encoded as PNG, with the
// parameters drawn for each sample.
//
// The whole preview (read, decode, crop, jitter, normalise, PNG) is one task for a worker of its
// own (data/preview-render.ts), in the worker pool's priority lane: it never queues behind the
// training decode tasks, and the training pool holds its next batch back while it runs, so a
// training step (synchronous tfjs on the main thread) starts after the preview instead of between
// its steps (data/worker-pool.ts; why: docs/BENCHMARKS.md, "Augmentation preview while training").
import type { DrawnParams } from '../../src-shared/api/schemas';
import type { AugmentParams } from '../../src-shared/config/augment';
import { WorkstationError } from '../../src-shared/errors';
import { nodeBundlePath } from '../common/paths';
import type { PreviewTask, PreviewTaskResult } from './preview-render';
import { createWorkerPool, type WorkerPool } from './worker-pool';

export { previewRngs } from './preview-render';

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

let pool: WorkerPool<PreviewTask, PreviewTaskResult> | null = null;

/**
 * The preview's own worker, started on the first preview and shared by every preview of the
 * process. It is never closed: an idle one does not keep the process alive (lazy pool).
 */
function previewPool(): WorkerPool<PreviewTask, PreviewTaskResult> {
  pool ??= createWorkerPool<PreviewTask, PreviewTaskResult>({ file: nodeBundlePath('decode-worker'), size: 1, lane: 'priority', lazy: true });
  return pool;
}

export async function previewAugment(opts: PreviewOptions): Promise<{ samples: PreviewSample[] }> {
  check(opts);
  const { images, count, seed, params, size } = opts;
  const out = await previewPool().run({ kind: 'preview', images, count, seed, params, size });
  return { samples: out.samples.map((s) => ({ source: s.source, png: Buffer.from(s.png.buffer, s.png.byteOffset, s.png.byteLength), params: s.params })) };
}
