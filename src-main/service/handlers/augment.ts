// augment.preview: augmented samples of chosen dataset images, produced by the real pipeline
// (data/preview.ts), as base64 PNGs with the drawn parameters. Image paths must lie inside a
// dataset root or the demo dataset (the same allow-list as `/api/file`). The samples are made in
// the preview's own worker, ahead of the active run's next training step (the worker pool's
// priority lane), so a preview answers within the step in progress rather than after many.
import { AugmentSchema, applyAugmentPatch } from '../../../src-shared/config/augment';
import { WorkstationError } from '../../../src-shared/errors';
import { previewAugment } from '../../data/preview';
import { allowedImagePath } from '../security';
import type { HandlerContext, Handlers } from './types';

export function createAugmentHandlers(ctx: HandlerContext): Handlers {
  return {
    'augment.preview': async ({ images, count, seed, params, size }) => {
      const roots = ctx.datasetRoots.list();
      const files = images.map((img, i) => {
        const ok = allowedImagePath(img, roots);
        if (!ok)
          throw new WorkstationError('UNAUTHORIZED', `images.${i}: ${img} is not an image inside a dataset root (index its dataset first)`, {
            field: `images.${i}`,
            path: img,
          });
        return ok;
      });
      // The patch applies on top of what the running run uses (so the preview shows what
      // "apply to the running run" would do), or on top of the defaults when nothing trains.
      const base = (ctx.runs.state().augment as ReturnType<typeof AugmentSchema.parse> | null) ?? AugmentSchema.parse({});
      const effective = applyAugmentPatch(base, params);
      const out = await previewAugment({ images: files, count, seed, params: effective, size });
      return { samples: out.samples.map((s) => ({ source: s.source, pngBase64: s.png.toString('base64'), params: s.params })) };
    },
  };
}
