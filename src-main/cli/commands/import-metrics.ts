// `workstation import-metrics [DIR] [--db] [--data-dir] [--json]`: brings a PyTorch DDP
// continuation (a `scale-out` folder) back into its child run: each epoch of metrics.jsonl becomes
// an epoch row, each checkpoint it wrote a workstation checkpoint of the run, and the run's status
// follows the script's end record. Without DIR, every scale-out folder the database knows is
// imported. Safe to repeat: only what is new is added.
import path from 'node:path';
import { bool } from '../../common/args';
import { appPaths } from '../../common/paths';
import { openStore } from '../../store/index';
import type { CommandSpec } from '../command';
import { DB_FLAG, resolveDbPath } from '../db-flag';
import { importKnownScaleOuts, importScaleOutFolder, type ScaleOutImport } from '../../service/scale-out/import';
import { DATA_DIR_FLAG, resolveDataDir } from '../service-session';

const command: CommandSpec = {
  name: 'import-metrics',
  summary: 'Import the epochs and checkpoints a PyTorch DDP scale-out folder reported (all known folders without DIR)',
  positionals: [{ name: 'dir', description: 'the scale-out folder (default: every one the database knows)' }],
  flags: {
    json: { type: 'boolean', description: 'print [{dir, runId, epochs, checkpoints, status, ended, unreadable}] as JSON' },
    ...DB_FLAG,
    ...DATA_DIR_FLAG,
  },
  async run(args, io) {
    const store = openStore(resolveDbPath(args, io));
    try {
      const paths = appPaths(resolveDataDir(args, io), store.path);
      let results: ScaleOutImport[];
      let problems: { dir: string; message: string }[] = [];
      if (args.positionals[0] !== undefined) results = [importScaleOutFolder(store, paths, path.resolve(io.cwd, args.positionals[0]))];
      else ({ imported: results, problems } = importKnownScaleOuts(store, paths));
      if (bool(args, 'json'))
        io.stdout(
          JSON.stringify(
            results.map((r) => ({
              ...r,
              checkpoints: r.checkpoints.map((c) => ({ source: c.source, id: c.checkpoint.id, path: c.checkpoint.path, epoch: c.checkpoint.epoch })),
            })),
            null,
            2,
          ) + '\n',
        );
      else {
        if (results.length === 0 && problems.length === 0) io.stdout('no scale-out folders to import\n');
        for (const r of results) {
          io.stdout(
            `run ${r.runId} (${r.dir}): ${r.epochs.length ? `epochs ${r.epochs.join(', ')}` : 'no new epochs'}, ${r.checkpoints.length} new checkpoint(s), ${r.ended ? `ended: ${r.status}` : 'still training (no end record yet)'}\n`,
          );
          for (const u of r.unreadable) io.stdout(`  unreadable line ${u.line}: ${u.text}\n`);
        }
      }
      for (const p of problems) io.stderr(`warning: ${p.dir}: ${p.message}\n`);
      return 0;
    } finally {
      store.close();
    }
  },
};
export default command;
