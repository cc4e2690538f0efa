// `workstation export-csv --run <id|name> [--lineage] [--out <file>] [--db]`: a run's epochs (or
// its lineage as one continuous series) as CSV, to stdout or atomically to a file.
import fs from 'node:fs';
import path from 'node:path';
import { bool, str } from '../../common/args';
import type { CommandSpec } from '../command';
import { DB_FLAG, resolveDbPath } from '../db-flag';
import { openStore } from '../../store/index';
import { exportCsv } from '../../service/csv-export';

/** Writes next to the target, fsyncs, then renames: a reader never sees a half-written file. */
export function writeFileAtomic(file: string, data: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

const command: CommandSpec = {
  name: 'export-csv',
  summary: "Export a run's per-epoch metrics as CSV (--lineage: continuous across forked runs)",
  flags: {
    run: { type: 'string', required: true, description: 'run id or name (the latest run with that name)' },
    lineage: { type: 'boolean', description: "include the ancestors' epochs up to each fork epoch" },
    out: { type: 'string', description: 'write to this file (atomically) instead of stdout' },
    ...DB_FLAG,
  },
  async run(args, io) {
    const store = openStore(resolveDbPath(args, io));
    try {
      const run = store.runs.resolve(str(args, 'run')!);
      const result = exportCsv(store, run.id, { lineage: bool(args, 'lineage') });
      const out = str(args, 'out');
      if (out === undefined) io.stdout(result.csv);
      else {
        const file = path.resolve(io.cwd, out);
        writeFileAtomic(file, result.csv);
        io.stderr(`wrote ${result.rows} rows to ${file}\n`);
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
export default command;
