// `workstation import-log <file> [--name] [--batch-size] [--json] [--db]`: turns a past training
// log (tqdm + print lines) into runs in the store and reports every line it could not read.
import fs from 'node:fs';
import path from 'node:path';
import { WorkstationError } from '../../../src-shared/errors';
import { bool, num, str } from '../../common/args';
import type { CommandSpec } from '../command';
import { DB_FLAG, resolveDbPath } from '../db-flag';
import { openStore } from '../../store/index';
import { DEFAULT_LOG_BATCH_SIZE } from '../log-import/assemble';
import { importLog } from '../log-import/import';

const command: CommandSpec = {
  name: 'import-log',
  summary: 'Import a past training log (tqdm + print lines) as runs; each resume becomes a child run',
  positionals: [{ name: 'file', description: 'the log file', required: true }],
  flags: {
    name: { type: 'string', description: 'base name of the imported runs (default: the file name)' },
    'batch-size': {
      type: 'number',
      default: DEFAULT_LOG_BATCH_SIZE,
      description: `training batch size, turns it/s into images/s (default ${DEFAULT_LOG_BATCH_SIZE})`,
    },
    'allow-duplicate': { type: 'boolean', description: 'import a log that was imported before (refused otherwise)' },
    json: { type: 'boolean', description: 'print the result as JSON' },
    ...DB_FLAG,
  },
  async run(args, io) {
    const file = path.resolve(io.cwd, args.positionals[0]);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new WorkstationError('NOT_FOUND', `cannot read log file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
        path: file,
        field: 'file',
      });
    }
    const store = openStore(resolveDbPath(args, io));
    try {
      const result = importLog(store, text, {
        name: str(args, 'name'),
        source: file,
        batchSize: num(args, 'batch-size'),
        allowDuplicate: bool(args, 'allow-duplicate'),
      });
      if (bool(args, 'json')) {
        io.stdout(JSON.stringify(result, null, 2) + '\n');
      } else {
        for (const r of result.runs) {
          const lineage = r.parentRunId === null ? '' : `, forks run #${r.parentRunId} at epoch ${r.forkEpoch}`;
          const best = r.bestValTop1 === null ? '' : `, best val top-1 ${r.bestValTop1}`;
          io.stdout(`run #${r.id} ${r.name}: ${r.epochs} epochs (${r.firstEpoch}-${r.lastEpoch})${lineage}${best}\n`);
        }
        if (result.runs.length === 0) io.stdout('no finished epochs found; no runs created\n');
        for (const w of result.warnings) io.stdout(`warning: line ${w.line}: ${w.message}\n`);
        io.stdout(`${result.unreadable.length} unreadable line${result.unreadable.length === 1 ? '' : 's'}${result.unreadable.length ? ':' : ''}\n`);
        for (const u of result.unreadable) io.stdout(`  line ${u.line}: ${u.text}\n`);
      }
      return result.runs.length > 0 ? 0 : 1;
    } finally {
      store.close();
    }
  },
};
export default command;
