// `workstation data index <root> [--cache-dir DIR] [--train-dir train] [--val-dir val] [--no-cache] [--json]`:
// scans (or loads from the cache) an ImageNet tree and prints what training would use:
// classes, image counts per split, the validation layout, and the files it skipped.
import path from 'node:path';
import { bool, str } from '../../common/args';
import type { CommandSpec } from '../command';
import { indexDataset } from '../../data/imagenet-index';
import { appPaths, defaultDataDir } from '../../common/paths';

const command: CommandSpec = {
  name: 'data index',
  summary: 'Index an ImageNet folder tree (train/<wnid>/, val/ as folders, Kaggle CSV or devkit) and print classes, image counts, skipped files',
  positionals: [{ name: 'root', description: 'dataset root holding train/ and val/', required: true }],
  flags: {
    'cache-dir': { type: 'string', description: 'index cache folder (default: <data dir>/cache)' },
    'train-dir': { type: 'string', description: 'training folder under the root', default: 'train' },
    'val-dir': { type: 'string', description: 'validation folder under the root', default: 'val' },
    cache: { type: 'boolean', description: 'use and update the index cache (--no-cache: always rescan)', default: true },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  async run(args, io) {
    const root = path.resolve(io.cwd, args.positionals[0]);
    const cacheDir = args.flags.cache === false ? undefined : path.resolve(io.cwd, str(args, 'cache-dir') ?? appPaths(defaultDataDir(io.env)).cacheDir);
    let lastReport = 0;
    const index = await indexDataset(root, {
      trainDir: str(args, 'train-dir'),
      valDir: str(args, 'val-dir'),
      cacheDir,
      onProgress: (p) => {
        const now = Date.now();
        if (p.phase === 'train' && (now - lastReport > 500 || p.done === p.total)) {
          lastReport = now;
          io.stderr(`scanning ${p.phase}: ${p.done}/${p.total} class folders\n`);
        }
      },
    });
    const result = {
      root: index.root,
      classes: index.classes.length,
      classList: index.classes.map((c, i) => ({ index: i, wnid: c.wnid, name: c.name })),
      train: { dir: index.train.dir, images: index.train.files.length },
      val: { dir: index.val.dir, images: index.val.files.length, layout: index.valLayout },
      skipped: index.skipped,
      fromCache: index.fromCache,
      cacheDir: cacheDir ?? null,
    };
    if (bool(args, 'json')) {
      io.stdout(JSON.stringify(result, null, 2) + '\n');
      return 0;
    }
    const lines = [
      `dataset    ${result.root}${index.fromCache ? '  (from the index cache)' : ''}`,
      `classes    ${result.classes}  (${index.classes
        .slice(0, 3)
        .map((c) => `${c.wnid} ${c.name}`)
        .join(', ')}${result.classes > 3 ? ', …' : ''})`,
      `train      ${result.train.images} images in ${result.train.dir}`,
      `val        ${result.val.images} images in ${result.val.dir} (${result.val.layout})`,
      `skipped    ${result.skipped.length} file(s)`,
      ...result.skipped.slice(0, 20).map((s) => `  ${s.path}: ${s.reason}`),
      ...(result.skipped.length > 20 ? [`  … ${result.skipped.length - 20} more (--json lists all)`] : []),
    ];
    io.stdout(lines.join('\n') + '\n');
    return 0;
  },
};
export default command;
