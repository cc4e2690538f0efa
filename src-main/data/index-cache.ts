// Cache of the dataset index, so 1.28 M files are not rescanned at every start. The key is cheap
// to compute: the mtime and entry count of the split folders and of every class folder (adding,
// removing or renaming a file changes its folder's mtime) plus mtime/size of the label files.
// One JSON file per (root, trainDir, valDir) in cacheDir, replaced atomically.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DatasetIndex } from './imagenet-index';

const VERSION = 1;

function dirStamp(dir: string, out: string[]): void {
  const st = fs.statSync(dir);
  out.push(`${dir}:${st.mtimeMs}`);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() || e.isSymbolicLink()) {
      try {
        const s = fs.statSync(p);
        if (s.isDirectory()) out.push(`${e.name}:${s.mtimeMs}`);
      } catch {
        out.push(`${e.name}:broken`);
      }
    }
  }
}

/** Hash describing the state of the tree as far as the index is concerned. */
export function treeKey(trainDir: string, valDir: string, labelFiles: string[]): string {
  const parts: string[] = [String(VERSION)];
  dirStamp(trainDir, parts);
  dirStamp(valDir, parts);
  for (const f of labelFiles) {
    const st = fs.statSync(f);
    parts.push(`${f}:${st.mtimeMs}:${st.size}`);
  }
  return crypto.createHash('sha256').update(parts.join('\n')).digest('hex');
}

function cacheFile(cacheDir: string, root: string, trainDir: string, valDir: string): string {
  const id = crypto.createHash('sha256').update(`${root}\n${trainDir}\n${valDir}`).digest('hex').slice(0, 16);
  return path.join(cacheDir, `index-${id}.json`);
}

interface CachedIndex {
  version: number;
  key: string;
  root: string;
  classes: DatasetIndex['classes'];
  train: { dir: string; files: string[]; labels: number[] };
  val: { dir: string; files: string[]; labels: number[] };
  valLayout: DatasetIndex['valLayout'];
  skipped: DatasetIndex['skipped'];
}

export function readCachedIndex(cacheDir: string, root: string, trainDir: string, valDir: string, key: string): DatasetIndex | null {
  const file = cacheFile(cacheDir, root, trainDir, valDir);
  let c: CachedIndex;
  try {
    c = JSON.parse(fs.readFileSync(file, 'utf8')) as CachedIndex;
  } catch {
    return null; // missing or unreadable: rescan
  }
  if (c.version !== VERSION || c.key !== key || c.root !== root) return null;
  return {
    root: c.root,
    classes: c.classes,
    train: { dir: c.train.dir, files: c.train.files, labels: Int32Array.from(c.train.labels) },
    val: { dir: c.val.dir, files: c.val.files, labels: Int32Array.from(c.val.labels) },
    valLayout: c.valLayout,
    skipped: c.skipped,
    fromCache: true,
  };
}

export function writeCachedIndex(cacheDir: string, index: DatasetIndex, key: string): void {
  fs.mkdirSync(cacheDir, { recursive: true });
  const file = cacheFile(cacheDir, index.root, index.train.dir, index.val.dir);
  const c: CachedIndex = {
    version: VERSION,
    key,
    root: index.root,
    classes: index.classes,
    train: { dir: index.train.dir, files: index.train.files, labels: Array.from(index.train.labels) },
    val: { dir: index.val.dir, files: index.val.files, labels: Array.from(index.val.labels) },
    valLayout: index.valLayout,
    skipped: index.skipped,
  };
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(c));
  fs.renameSync(tmp, file);
}
