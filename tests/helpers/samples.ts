// Access to ../shared/data (real ImageNet sample JPEGs) for tests; builds small ImageNet-shaped
// trees in temp dirs from them (symlinks), never committed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const SHARED_DATA = path.resolve(__dirname, '../../../shared/data');
export const SAMPLES_DIR = path.join(SHARED_DATA, 'imagenet-samples');
export const CLASSES_TSV = path.join(SHARED_DATA, 'imagenet-classes.tsv');

export function sampleFiles(): string[] {
  return fs
    .readdirSync(SAMPLES_DIR)
    .filter((f) => f.endsWith('.JPEG'))
    .sort()
    .map((f) => path.join(SAMPLES_DIR, f));
}

export function tempDir(prefix = 'ws-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * A tiny ImageNet tree: `classes` classes (the first wnids in sorted order), `perClass` train
 * images each (the class's own sample plus samples borrowed from other classes) and one val
 * image per class, as symlinks.
 */
export function makeImagenetTree(classes: number, perClass: number, root = tempDir('ws-imagenet-')): string {
  const files = sampleFiles();
  for (let c = 0; c < classes; c++) {
    const file = files[c];
    const wnid = path.basename(file).split('_')[0];
    const trainDir = path.join(root, 'train', wnid);
    const valDir = path.join(root, 'val', wnid);
    fs.mkdirSync(trainDir, { recursive: true });
    fs.mkdirSync(valDir, { recursive: true });
    for (let k = 0; k < perClass; k++) {
      const src = files[(c + k * classes) % files.length];
      fs.symlinkSync(src, path.join(trainDir, `${wnid}_${k}.JPEG`));
    }
    fs.symlinkSync(file, path.join(valDir, `${wnid}_val.JPEG`));
  }
  return root;
}
