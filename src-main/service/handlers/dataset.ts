// dataset.index / dataset.status: index an ImageNet root (cached), or the demo dataset (generated
// on first use), and hand out sample image paths for the augmentation tuner. Indexed roots join
// the file allow-list.
import path from 'node:path';
import type { DatasetSummary } from '../../../src-shared/api/schemas';
import { WorkstationError } from '../../../src-shared/errors';
import { ensureDemoDataset } from '../../data/demo-dataset';
import { indexDataset, splitFilePath, type DatasetIndex } from '../../data/imagenet-index';
import type { HandlerContext, Handlers } from './types';

function summarize(index: DatasetIndex, demo: boolean): DatasetSummary {
  return {
    root: index.root,
    demo,
    classes: index.classes.length,
    train: { images: index.train.files.length },
    val: { images: index.val.files.length },
    skipped: index.skipped,
  };
}

/** Up to n training images, one per class first (a varied grid), then more of the same classes. */
function sampleImages(index: DatasetIndex, n: number): { images: string[]; classes: { wnid: string; name: string }[] } {
  const picked: number[] = [];
  const seen = new Set<number>();
  const { labels, files } = index.train;
  for (let i = 0; i < files.length && picked.length < n; i++) {
    if (seen.has(labels[i])) continue;
    seen.add(labels[i]);
    picked.push(i);
  }
  for (let i = 0; i < files.length && picked.length < n; i++) if (!picked.includes(i)) picked.push(i);
  return {
    images: picked.map((i) => splitFilePath(index.train, i)),
    classes: picked.map((i) => {
      const c = index.classes[labels[i]];
      return { wnid: c.wnid, name: c.name };
    }),
  };
}

export function createDatasetHandlers(ctx: HandlerContext): Handlers {
  const index = async (root: string): Promise<DatasetIndex> => {
    if (!path.isAbsolute(root))
      throw new WorkstationError('INVALID_ARGUMENT', `root: dataset root must be an absolute path, got "${root}"`, { field: 'root', path: root });
    const idx = await indexDataset(root, { cacheDir: ctx.paths.cacheDir });
    ctx.datasetRoots.add(root);
    return idx;
  };
  return {
    'dataset.index': async ({ root }) => summarize(await index(root), path.resolve(root) === path.resolve(ctx.paths.demoDatasetDir)),
    'dataset.status': async ({ root, samples }) => {
      const demo = root === null;
      const dir = root ?? (await ensureDemoDataset(ctx.paths.demoDatasetDir));
      const idx = await index(dir);
      const picked = sampleImages(idx, samples);
      return {
        summary: summarize(idx, demo || path.resolve(dir) === path.resolve(ctx.paths.demoDatasetDir)),
        sampleImages: picked.images,
        sampleClasses: picked.classes,
      };
    },
  };
}
