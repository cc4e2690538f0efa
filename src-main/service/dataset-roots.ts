// The allow-list of folders whose images the service may read for clients (augmentation preview,
// `/api/file`): the demo dataset, the data roots of runs in the store, and every root the user
// indexed through dataset.index (remembered in <dataDir>/dataset-roots.json across restarts).
import fs from 'node:fs';
import path from 'node:path';
import type { AppPaths } from '../common/paths';
import type { Store } from '../store/index';

export interface DatasetRoots {
  add(root: string): void;
  list(): string[];
}

export function createDatasetRoots(paths: AppPaths, store: Store): DatasetRoots {
  const file = path.join(paths.dataDir, 'dataset-roots.json');
  const added = new Set<string>();
  try {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    if (Array.isArray(saved)) for (const r of saved) if (typeof r === 'string' && path.isAbsolute(r)) added.add(r);
  } catch {
    /* none saved yet */
  }
  // Run configs never change after creation: cache their roots by run id.
  const runRoots = new Map<number, string | null>();
  return {
    add(root) {
      const abs = path.resolve(root);
      if (added.has(abs)) return;
      added.add(abs);
      try {
        fs.mkdirSync(paths.dataDir, { recursive: true });
        fs.writeFileSync(file, JSON.stringify([...added], null, 2) + '\n');
      } catch {
        /* still allowed for this process */
      }
    },
    list() {
      for (const run of store.runs.list()) {
        if (runRoots.has(run.id)) continue;
        let root: string | null = null;
        try {
          const data = store.runs.config(run.id).data as { root?: unknown } | undefined;
          if (typeof data?.root === 'string' && path.isAbsolute(data.root)) root = data.root;
        } catch {
          /* deleted meanwhile */
        }
        runRoots.set(run.id, root);
      }
      const roots = new Set<string>([paths.demoDatasetDir, ...added]);
      for (const r of runRoots.values()) if (r) roots.add(path.resolve(r));
      return [...roots];
    },
  };
}
