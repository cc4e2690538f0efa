// The ImageNet file index: which images make up train and val, and their class indices.
//
// Layouts (root holds `trainDir` and `valDir`, default train/ and val/):
//   train/<wnid>/*.JPEG                       one folder per class (extensions jpeg/jpg/png, any case)
//   val/<wnid>/*.JPEG                         validation as folders per class, or
//   val/*.JPEG + LOC_val_solution.csv         Kaggle: ImageId,PredictionString (wnid = first token), or
//   val/*.JPEG + ILSVRC2012_validation_ground_truth.txt + map_clsloc.txt
//                                             devkit: 1-based ILSVRC2012 ids, one per line in file-name
//                                             order; map_clsloc.txt ("wnid id name" lines, from the
//                                             ILSVRC2015 devkit) maps the ids (NOT sorted-wnid order) to wnids.
// Label files are looked up in the val folder, then in the root. Class names come from
// LOC_synset_mapping.txt ("wnid name, name…") when present, else map_clsloc.txt, else the wnid.
// Class index = position of the wnid in sorted order; validation labels use the train classes.
import fs from 'node:fs';
import path from 'node:path';
import { WorkstationError } from '../../src-shared/errors';
import { readCachedIndex, treeKey, writeCachedIndex } from './index-cache';

export interface DatasetClass {
  wnid: string;
  name: string;
}

export interface SplitIndex {
  /** absolute folder the file names are relative to */
  dir: string;
  /** file paths relative to `dir` (train: "<wnid>/<file>") */
  files: string[];
  /** class index per file */
  labels: Int32Array;
}

export type ValLayout = 'folders' | 'kaggle-csv' | 'devkit';

export interface DatasetIndex {
  root: string;
  classes: DatasetClass[];
  train: SplitIndex;
  val: SplitIndex;
  valLayout: ValLayout;
  /** files that are not part of the dataset, with why (not an image, unlabelled, …) */
  skipped: { path: string; reason: string }[];
  /** true when loaded from the index cache instead of scanning */
  fromCache: boolean;
}

export interface IndexProgress {
  phase: 'train' | 'val';
  /** class folders (train) or files (val) scanned so far */
  done: number;
  total: number;
}

export interface IndexOptions {
  trainDir?: string;
  valDir?: string;
  /** where the index cache lives; undefined = no cache */
  cacheDir?: string;
  onProgress?(p: IndexProgress): void;
}

const IMAGE_EXT = /\.(jpe?g|png)$/i;
const WNID_MAP = 'LOC_synset_mapping.txt';
const KAGGLE_CSV = 'LOC_val_solution.csv';
const DEVKIT_GT = 'ILSVRC2012_validation_ground_truth.txt';
const DEVKIT_MAP = 'map_clsloc.txt';

function datasetError(message: string, p: string): WorkstationError {
  return new WorkstationError('DATASET_ERROR', `${message}: ${p}`, { path: p });
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** First existing file among the candidates, or null. */
function findFile(name: string, dirs: string[]): string | null {
  for (const d of dirs) {
    const p = path.join(d, name);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

function readLines(p: string): string[] {
  return fs
    .readFileSync(p, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

function readSynsetNames(dirs: string[]): Map<string, string> {
  const names = new Map<string, string>();
  const loc = findFile(WNID_MAP, dirs);
  if (loc) {
    for (const line of readLines(loc)) {
      const sp = line.indexOf(' ');
      if (sp > 0) names.set(line.slice(0, sp), line.slice(sp + 1).trim());
    }
    return names;
  }
  const cls = findFile(DEVKIT_MAP, dirs);
  if (cls) {
    for (const line of readLines(cls)) {
      const [wnid, , name] = line.split(/\s+/);
      if (wnid && name) names.set(wnid, name.replace(/_/g, ' '));
    }
  }
  return names;
}

/** Files that the index depends on besides the folders (their mtime/size go into the cache key). */
export function labelFiles(root: string, valDir: string): string[] {
  const dirs = [valDir, root];
  return [WNID_MAP, KAGGLE_CSV, DEVKIT_GT, DEVKIT_MAP].map((n) => findFile(n, dirs)).filter((p): p is string => p !== null);
}

function scanTrain(
  trainDir: string,
  skipped: DatasetIndex['skipped'],
  onProgress?: IndexOptions['onProgress'],
): { wnids: string[]; files: string[]; labels: number[] } {
  const entries = fs.readdirSync(trainDir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const wnids: string[] = [];
  for (const e of entries) {
    const p = path.join(trainDir, e.name);
    if (e.isDirectory() || (e.isSymbolicLink() && isDir(p))) wnids.push(e.name);
    else skipped.push({ path: p, reason: 'not a class folder' });
  }
  if (wnids.length === 0) throw datasetError('no class folders in the training folder', trainDir);
  const files: string[] = [];
  const labels: number[] = [];
  wnids.forEach((wnid, c) => {
    const dir = path.join(trainDir, wnid);
    const names = fs.readdirSync(dir).sort();
    let n = 0;
    for (const name of names) {
      if (IMAGE_EXT.test(name)) {
        files.push(`${wnid}/${name}`);
        labels.push(c);
        n++;
      } else skipped.push({ path: path.join(dir, name), reason: 'not a .jpeg/.jpg/.png file' });
    }
    if (n === 0) throw datasetError(`class folder "${wnid}" has no images`, dir);
    onProgress?.({ phase: 'train', done: c + 1, total: wnids.length });
  });
  return { wnids, files, labels };
}

function scanValFolders(valDir: string, classOf: Map<string, number>, skipped: DatasetIndex['skipped']): { files: string[]; labels: number[] } {
  const files: string[] = [];
  const labels: number[] = [];
  const entries = fs.readdirSync(valDir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(valDir, e.name);
    if (!(e.isDirectory() || (e.isSymbolicLink() && isDir(p)))) {
      skipped.push({ path: p, reason: 'not a class folder' });
      continue;
    }
    const c = classOf.get(e.name);
    if (c === undefined) throw datasetError(`validation class "${e.name}" is not a training class`, p);
    const names = fs.readdirSync(p).sort();
    let n = 0;
    for (const name of names) {
      if (IMAGE_EXT.test(name)) {
        files.push(`${e.name}/${name}`);
        labels.push(c);
        n++;
      } else skipped.push({ path: path.join(p, name), reason: 'not a .jpeg/.jpg/.png file' });
    }
    if (n === 0) throw datasetError(`validation class folder "${e.name}" has no images`, p);
  }
  return { files, labels };
}

/** Flat val/ folder with a label per file name (without extension). */
function labelFlatVal(
  valDir: string,
  labelOf: Map<string, string>,
  labelFile: string,
  classOf: Map<string, number>,
  skipped: DatasetIndex['skipped'],
): { files: string[]; labels: number[] } {
  const files: string[] = [];
  const labels: number[] = [];
  for (const name of fs.readdirSync(valDir).sort()) {
    const p = path.join(valDir, name);
    if (!IMAGE_EXT.test(name)) {
      skipped.push({ path: p, reason: 'not a .jpeg/.jpg/.png file' });
      continue;
    }
    const wnid = labelOf.get(name.replace(IMAGE_EXT, ''));
    if (wnid === undefined) {
      skipped.push({ path: p, reason: `no label in ${path.basename(labelFile)}` });
      continue;
    }
    const c = classOf.get(wnid);
    if (c === undefined) throw datasetError(`label "${wnid}" of ${name} is not a training class (${labelFile})`, labelFile);
    files.push(name);
    labels.push(c);
  }
  return { files, labels };
}

function kaggleLabels(csv: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = readLines(csv);
  if (!/^ImageId\s*,\s*PredictionString/i.test(lines[0] ?? '')) throw datasetError('expected the header "ImageId,PredictionString"', csv);
  for (const line of lines.slice(1)) {
    const comma = line.indexOf(',');
    if (comma < 0) throw datasetError(`malformed line "${line.slice(0, 80)}"`, csv);
    const wnid = line
      .slice(comma + 1)
      .trim()
      .split(/\s+/)[0];
    out.set(line.slice(0, comma).trim(), wnid);
  }
  return out;
}

function devkitLabels(valDir: string, gt: string, mapFile: string | null): Map<string, string> {
  if (!mapFile) throw datasetError(`${DEVKIT_GT} needs ${DEVKIT_MAP} ("wnid id name" lines, ILSVRC2015 devkit data/) beside it to map ILSVRC ids to wnids`, gt);
  const idToWnid = new Map<number, string>();
  for (const line of readLines(mapFile)) {
    const [wnid, id] = line.split(/\s+/);
    if (!wnid || !/^\d+$/.test(id ?? '')) throw datasetError(`malformed line "${line.slice(0, 80)}"`, mapFile);
    idToWnid.set(Number(id), wnid);
  }
  const ids = readLines(gt);
  // the ground truth lists one id per validation image in file-name order
  const images = fs
    .readdirSync(valDir)
    .filter((n) => IMAGE_EXT.test(n))
    .sort();
  const out = new Map<string, string>();
  images.forEach((name, i) => {
    if (i >= ids.length) return;
    const wnid = idToWnid.get(Number(ids[i]));
    if (wnid === undefined) throw datasetError(`line ${i + 1}: ILSVRC id "${ids[i]}" is not in ${DEVKIT_MAP}`, gt);
    out.set(name.replace(IMAGE_EXT, ''), wnid);
  });
  return out;
}

/** Scans the tree (no cache). */
export function scanDataset(root: string, opts: IndexOptions = {}): DatasetIndex {
  const absRoot = path.resolve(root);
  if (!isDir(absRoot)) throw new WorkstationError('NOT_FOUND', `dataset folder not found: ${absRoot}`, { path: absRoot });
  const trainDir = path.resolve(absRoot, opts.trainDir ?? 'train');
  const valDir = path.resolve(absRoot, opts.valDir ?? 'val');
  if (!isDir(trainDir)) throw datasetError('missing training folder', trainDir);
  if (!isDir(valDir)) throw datasetError('missing validation folder', valDir);
  const skipped: DatasetIndex['skipped'] = [];
  const train = scanTrain(trainDir, skipped, opts.onProgress);
  const classOf = new Map(train.wnids.map((w, i) => [w, i]));
  const names = readSynsetNames([valDir, absRoot]);
  const classes = train.wnids.map((wnid) => ({ wnid, name: names.get(wnid) ?? wnid }));

  const valEntries = fs.readdirSync(valDir, { withFileTypes: true });
  const hasFolders = valEntries.some((e) => e.isDirectory() || (e.isSymbolicLink() && isDir(path.join(valDir, e.name))));
  let val: { files: string[]; labels: number[] };
  let valLayout: ValLayout;
  if (hasFolders) {
    valLayout = 'folders';
    val = scanValFolders(valDir, classOf, skipped);
  } else {
    const csv = findFile(KAGGLE_CSV, [valDir, absRoot]);
    const gt = findFile(DEVKIT_GT, [valDir, absRoot]);
    if (csv) {
      valLayout = 'kaggle-csv';
      val = labelFlatVal(valDir, kaggleLabels(csv), csv, classOf, skipped);
    } else if (gt) {
      valLayout = 'devkit';
      val = labelFlatVal(valDir, devkitLabels(valDir, gt, findFile(DEVKIT_MAP, [path.dirname(gt), valDir, absRoot])), gt, classOf, skipped);
    } else throw datasetError(`validation folder has no class folders and no ${KAGGLE_CSV} or ${DEVKIT_GT} to label its files`, valDir);
  }
  if (val.files.length === 0) throw datasetError('no labelled validation images', valDir);
  opts.onProgress?.({ phase: 'val', done: val.files.length, total: val.files.length });
  return {
    root: absRoot,
    classes,
    train: { dir: trainDir, files: train.files, labels: Int32Array.from(train.labels) },
    val: { dir: valDir, files: val.files, labels: Int32Array.from(val.labels) },
    valLayout,
    skipped,
    fromCache: false,
  };
}

/**
 * The dataset index, from the cache when the tree has not changed (key: root, split folders,
 * mtimes of every class folder and label file), else scanned and cached.
 */
export async function indexDataset(root: string, opts: IndexOptions = {}): Promise<DatasetIndex> {
  const absRoot = path.resolve(root);
  if (!isDir(absRoot)) throw new WorkstationError('NOT_FOUND', `dataset folder not found: ${absRoot}`, { path: absRoot });
  const trainDir = path.resolve(absRoot, opts.trainDir ?? 'train');
  const valDir = path.resolve(absRoot, opts.valDir ?? 'val');
  if (!isDir(trainDir)) throw datasetError('missing training folder', trainDir);
  if (!isDir(valDir)) throw datasetError('missing validation folder', valDir);
  if (!opts.cacheDir) return scanDataset(absRoot, opts);
  const key = treeKey(trainDir, valDir, labelFiles(absRoot, valDir));
  const cached = readCachedIndex(opts.cacheDir, absRoot, trainDir, valDir, key);
  if (cached) return cached;
  const index = scanDataset(absRoot, opts);
  writeCachedIndex(opts.cacheDir, index, key);
  return index;
}

/** Absolute path of a file of a split. */
export function splitFilePath(split: SplitIndex, i: number): string {
  return path.join(split.dir, split.files[i]);
}
