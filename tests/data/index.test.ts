// The ImageNet index on real folder trees: the three validation layouts, class order, names,
// skipped files, clear DATASET_ERRORs naming the path, and the index cache.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWorkstationError } from '../../src-shared/errors';
import { indexDataset, scanDataset } from '../../src-main/data/imagenet-index';
import { makeImagenetTree, sampleFiles, tempDir } from '../helpers/samples';

function expectDatasetError(fn: () => unknown, pathPart: string, msg: RegExp) {
  try {
    fn();
  } catch (e) {
    expect(isWorkstationError(e)).toBe(true);
    const err = e as { code: string; message: string; path?: string };
    expect(err.code).toBe('DATASET_ERROR');
    expect(err.message).toMatch(msg);
    expect(err.message).toContain(pathPart);
    expect(err.path).toContain(pathPart);
    return;
  }
  throw new Error('expected a DATASET_ERROR');
}

/** train/ as folders (from makeImagenetTree) + a flat val/ of the given sample files. */
function flatValTree(classes: number, valFiles: string[]): string {
  const root = makeImagenetTree(classes, 2);
  fs.rmSync(path.join(root, 'val'), { recursive: true });
  fs.mkdirSync(path.join(root, 'val'));
  valFiles.forEach((f, i) => fs.symlinkSync(f, path.join(root, 'val', `ILSVRC2012_val_${String(i + 1).padStart(8, '0')}.JPEG`)));
  return root;
}

describe('indexDataset', () => {
  it('indexes folder-per-class train and val: sorted-wnid class index, names from LOC_synset_mapping.txt, non-images skipped', async () => {
    const root = makeImagenetTree(4, 3);
    const wnids = fs.readdirSync(path.join(root, 'train')).sort();
    // extension case does not matter; other files are skipped and reported
    fs.symlinkSync(sampleFiles()[10], path.join(root, 'train', wnids[1], 'extra.jpg'));
    fs.symlinkSync(sampleFiles()[11], path.join(root, 'train', wnids[1], 'extra2.PnG'));
    fs.writeFileSync(path.join(root, 'train', wnids[2], 'README.txt'), 'notes');
    fs.writeFileSync(path.join(root, 'LOC_synset_mapping.txt'), wnids.map((w, i) => `${w} class number ${i}, alias`).join('\n') + '\n');
    const progress: number[] = [];
    const index = await indexDataset(root, { onProgress: (p) => p.phase === 'train' && progress.push(p.done) });
    expect(index.classes.map((c) => c.wnid)).toEqual(wnids);
    expect(index.classes[3].name).toBe('class number 3, alias');
    expect(index.train.files.length).toBe(4 * 3 + 2);
    expect(index.val.files.length).toBe(4);
    expect(index.valLayout).toBe('folders');
    for (let i = 0; i < index.train.files.length; i++) expect(index.train.labels[i]).toBe(wnids.indexOf(index.train.files[i].split('/')[0]));
    for (let i = 0; i < index.val.files.length; i++) expect(index.val.labels[i]).toBe(wnids.indexOf(index.val.files[i].split('/')[0]));
    expect(index.train.files).toContain(`${wnids[1]}/extra2.PnG`);
    expect(index.skipped).toEqual([{ path: path.join(root, 'train', wnids[2], 'README.txt'), reason: 'not a .jpeg/.jpg/.png file' }]);
    expect(progress).toEqual([1, 2, 3, 4]);
  });

  it('labels a flat val/ from Kaggle LOC_val_solution.csv (first token of PredictionString)', async () => {
    const files = sampleFiles();
    const root = flatValTree(3, [files[2], files[0], files[1], files[0]]);
    const wnids = fs.readdirSync(path.join(root, 'train')).sort();
    const csv = [
      'ImageId,PredictionString',
      `ILSVRC2012_val_00000001,${wnids[2]} 10 20 30 40 ${wnids[2]} 1 2 3 4`,
      `ILSVRC2012_val_00000002,${wnids[0]} 1 1 5 5`,
      `ILSVRC2012_val_00000003,${wnids[1]} 0 0 9 9`,
    ];
    fs.writeFileSync(path.join(root, 'LOC_val_solution.csv'), csv.join('\n') + '\n');
    const index = await indexDataset(root);
    expect(index.valLayout).toBe('kaggle-csv');
    expect(index.val.files).toEqual(['ILSVRC2012_val_00000001.JPEG', 'ILSVRC2012_val_00000002.JPEG', 'ILSVRC2012_val_00000003.JPEG']);
    expect(Array.from(index.val.labels)).toEqual([2, 0, 1]);
    // the 4th image has no row: skipped, not guessed
    expect(index.skipped).toEqual([{ path: path.join(root, 'val', 'ILSVRC2012_val_00000004.JPEG'), reason: 'no label in LOC_val_solution.csv' }]);
  });

  it('labels a flat val/ from the devkit ground truth through map_clsloc.txt (ILSVRC ids are not sorted-wnid order)', async () => {
    const files = sampleFiles();
    const root = flatValTree(3, [files[0], files[1], files[2], files[2]]);
    const wnids = fs.readdirSync(path.join(root, 'train')).sort();
    // ILSVRC2012 ids in an order unrelated to sorted wnids, like the real devkit (1 = n02119789 kit fox)
    fs.writeFileSync(path.join(root, 'map_clsloc.txt'), [`${wnids[2]} 1 third_one`, `${wnids[0]} 2 first_one`, `${wnids[1]} 3 second_one`].join('\n') + '\n');
    fs.writeFileSync(path.join(root, 'ILSVRC2012_validation_ground_truth.txt'), ['2', '3', '1', '1'].join('\n') + '\n');
    const index = await indexDataset(root);
    expect(index.valLayout).toBe('devkit');
    expect(Array.from(index.val.labels)).toEqual([0, 1, 2, 2]);
    expect(index.classes.map((c) => c.name)).toEqual(['first one', 'second one', 'third one']);
  });

  it('fails with DATASET_ERROR naming the path: empty class folder, missing train/val, unknown labels, devkit without mapping', () => {
    const a = makeImagenetTree(3, 1);
    const empty = path.join(a, 'train', 'n99999999');
    fs.mkdirSync(empty);
    expectDatasetError(() => scanDataset(a), empty, /has no images/);

    const b = makeImagenetTree(2, 1);
    fs.rmSync(path.join(b, 'val'), { recursive: true });
    expectDatasetError(() => scanDataset(b), path.join(b, 'val'), /missing validation folder/);
    fs.rmSync(path.join(b, 'train'), { recursive: true });
    expectDatasetError(() => scanDataset(b), path.join(b, 'train'), /missing training folder/);

    const c = makeImagenetTree(2, 1);
    fs.mkdirSync(path.join(c, 'val', 'n00000042'));
    fs.symlinkSync(sampleFiles()[5], path.join(c, 'val', 'n00000042', 'x.JPEG'));
    expectDatasetError(() => scanDataset(c), path.join(c, 'val', 'n00000042'), /not a training class/);

    const d = flatValTree(2, [sampleFiles()[0]]);
    fs.writeFileSync(path.join(d, 'LOC_val_solution.csv'), 'ImageId,PredictionString\nILSVRC2012_val_00000001,n12345678 1 2 3 4\n');
    expectDatasetError(() => scanDataset(d), path.join(d, 'LOC_val_solution.csv'), /"n12345678".*not a training class/);

    const e = flatValTree(2, [sampleFiles()[0]]);
    fs.writeFileSync(path.join(e, 'ILSVRC2012_validation_ground_truth.txt'), '1\n');
    expectDatasetError(() => scanDataset(e), 'ILSVRC2012_validation_ground_truth.txt', /map_clsloc\.txt/);

    const f = flatValTree(2, [sampleFiles()[0]]);
    expectDatasetError(() => scanDataset(f), path.join(f, 'val'), /no class folders and no LOC_val_solution\.csv/);
  });

  it('caches the index keyed on the tree and rescans when a class folder changes', async () => {
    const root = makeImagenetTree(3, 2);
    const cacheDir = tempDir('ws-cache-');
    const first = await indexDataset(root, { cacheDir });
    expect(first.fromCache).toBe(false);
    expect(fs.readdirSync(cacheDir).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    let scanned = 0;
    const second = await indexDataset(root, { cacheDir, onProgress: () => scanned++ });
    expect(second.fromCache).toBe(true);
    expect(scanned).toBe(0);
    expect(second.train.files).toEqual(first.train.files);
    expect(Array.from(second.train.labels)).toEqual(Array.from(first.train.labels));
    expect(second.classes).toEqual(first.classes);
    // a new file changes the class folder's mtime → rescan
    const wnid = first.classes[1].wnid;
    const dir = path.join(root, 'train', wnid);
    fs.symlinkSync(sampleFiles()[20], path.join(dir, 'new.JPEG'));
    const future = new Date(Date.now() + 5000);
    fs.utimesSync(dir, future, future); // coarse-mtime file systems
    const third = await indexDataset(root, { cacheDir });
    expect(third.fromCache).toBe(false);
    expect(third.train.files.length).toBe(first.train.files.length + 1);
  });
});
