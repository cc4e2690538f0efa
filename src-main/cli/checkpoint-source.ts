// What `export`, `predict` and `scale-out` share: the `--checkpoint C` flag (a checkpoint file, or
// the id of a checkpoint the store knows), reading it with the settings in effect there, and the
// run's class list (wnid + name per class index) for labels and export metadata.
import fs from 'node:fs';
import path from 'node:path';
import type { CheckpointInfo } from '../../src-shared/api/schemas';
import type { RunConfig } from '../../src-shared/config/run-config';
import { WorkstationError } from '../../src-shared/errors';
import type { FlagSpec, ParsedArgs } from '../common/args';
import { str } from '../common/args';
import { appPaths } from '../common/paths';
import { DEMO_CLASSES, demoWnid } from '../data/demo-dataset';
import { indexDataset } from '../data/imagenet-index';
import { readWorkstationCheckpoint, type ClassInfo, type LoadedCheckpointFile } from '../ml/interop/checkpoint-safetensors';
import { configAtCheckpoint } from '../service/effective-config';
import { openStore, type Store } from '../store/index';
import type { CliIO } from './command';
import { resolveDbPath } from './db-flag';
import { resolveDataDir } from './service-session';

export const CHECKPOINT_FLAG: Record<'checkpoint', FlagSpec> = {
  checkpoint: { type: 'string', required: true, description: 'checkpoint file (.ckpt), or the id of a checkpoint in the store' },
};

export const CLASSES_FLAG: Record<'classes', FlagSpec> = {
  classes: {
    type: 'string',
    description: 'class list for labels: "index<TAB>wnid<TAB>name" lines or LOC_synset_mapping.txt (default: the run\'s dataset)',
  },
};

export interface CheckpointSource {
  file: string;
  /** the store's row for it, when the store knows the file */
  stored: CheckpointInfo | null;
  ck: LoadedCheckpointFile;
}

function findByPath(store: Store, file: string): CheckpointInfo | null {
  for (const run of store.runs.list()) for (const cp of store.checkpoints.list(run.id)) if (path.resolve(cp.path) === file) return cp;
  return null;
}

/**
 * Resolves --checkpoint: digits that are not a file name a store checkpoint, anything else a file.
 * When the store knows the checkpoint, its config is the one in effect there (configAtCheckpoint).
 */
export function resolveCheckpointSource(args: ParsedArgs, io: Pick<CliIO, 'cwd' | 'env'>, opts: { store?: Store } = {}): CheckpointSource {
  const arg = str(args, 'checkpoint')!;
  const asFile = path.resolve(io.cwd, arg);
  const byId = /^\d+$/.test(arg) && !fs.existsSync(asFile);
  const dbPath = resolveDbPath(args, io);
  const store = opts.store ?? (byId || fs.existsSync(dbPath) ? openStore(dbPath) : null);
  try {
    let stored: CheckpointInfo | null = null;
    let file = asFile;
    if (byId) {
      stored = store?.checkpoints.get(Number(arg)) ?? null;
      if (!stored) throw new WorkstationError('NOT_FOUND', `--checkpoint: no checkpoint ${arg} in ${dbPath}`, { field: 'checkpoint' });
      if (!stored.exists)
        throw new WorkstationError('NOT_FOUND', `--checkpoint: checkpoint ${arg}'s file was removed (${stored.path})`, {
          field: 'checkpoint',
          path: stored.path,
        });
      file = path.resolve(stored.path);
    } else {
      if (!fs.existsSync(file)) throw new WorkstationError('NOT_FOUND', `--checkpoint: ${file} not found`, { field: 'checkpoint', path: file });
      stored = store ? findByPath(store, file) : null;
    }
    const ck = readWorkstationCheckpoint(file);
    if (stored && store) {
      const at = configAtCheckpoint(store, stored);
      return { file, stored, ck: { ...ck, config: at.config, augment: at.config.augment } };
    }
    return { file, stored, ck };
  } finally {
    if (store && store !== opts.store) store.close();
  }
}

/** Parses a class list: "index<TAB>wnid<TAB>name" lines (imagenet-classes.tsv) or "wnid name" lines (LOC_synset_mapping.txt). */
export function readClassesFile(file: string): ClassInfo[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new WorkstationError('NOT_FOUND', `--classes: cannot read ${file}: ${(e as Error).message}`, { field: 'classes', path: file });
  }
  const rows: { index: number; c: ClassInfo }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const tab = line.split('\t');
    if (tab.length >= 3 && /^\d+$/.test(tab[0])) rows.push({ index: Number(tab[0]), c: { wnid: tab[1].trim(), name: tab.slice(2).join('\t').trim() } });
    else if (tab.length >= 3)
      return; // a header row ("index<TAB>wnid<TAB>name")
    else {
      const m = /^(\S+)\s*(.*)$/.exec(line.trim());
      if (!m) throw new WorkstationError('INVALID_ARGUMENT', `--classes: ${file} line ${i + 1} is not "wnid name"`, { field: 'classes', path: file });
      rows.push({ index: rows.length, c: { wnid: m[1], name: m[2] || m[1] } });
    }
  });
  rows.sort((a, b) => a.index - b.index);
  return rows.map((r) => r.c);
}

/**
 * The class list of a run: --classes when given, the demo dataset's classes when the run used it,
 * else the run's dataset index (cached under the data dir). null, with `why`, when the dataset
 * cannot be read here (moved, another machine).
 */
export async function classesFor(
  config: Readonly<RunConfig>,
  args: ParsedArgs,
  io: Pick<CliIO, 'cwd' | 'env'>,
): Promise<{ classes: ClassInfo[] | null; why: string | null }> {
  const file = str(args, 'classes');
  if (file !== undefined) return { classes: readClassesFile(path.resolve(io.cwd, file)), why: null };
  if (config.data.root === null) return { classes: DEMO_CLASSES.map((name, i) => ({ wnid: demoWnid(i), name })), why: null };
  try {
    const index = await indexDataset(config.data.root, {
      trainDir: config.data.trainDir,
      valDir: config.data.valDir,
      cacheDir: appPaths(resolveDataDir(args, io)).cacheDir,
    });
    return { classes: index.classes.map((c) => ({ wnid: c.wnid, name: c.name })), why: null };
  } catch (e) {
    return { classes: null, why: `the run's dataset cannot be read here (${(e as Error).message}); pass --classes FILE for class names` };
  }
}
