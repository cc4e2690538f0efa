// `workstation import-checkpoint FILE [--run ID] [--db] [--data-dir] [--json]`: converts a
// checkpoint written by a PyTorch DDP continuation (checkpoints/epoch-NNNN.safetensors of a
// scale-out folder) into a workstation checkpoint of its run and records it (with its epoch's
// metrics when the run has no row for that epoch yet). Training then continues in the workstation
// as a further child run: `workstation train --config <folder>/config.json --resume <printed path>`.
import path from 'node:path';
import { WorkstationError } from '../../../src-shared/errors';
import { bool, num } from '../../common/args';
import { appPaths } from '../../common/paths';
import { readSafetensorsFile } from '../../ml/interop/safetensors';
import { openStore } from '../../store/index';
import type { CommandSpec } from '../command';
import { DB_FLAG, resolveDbPath } from '../db-flag';
import { importCheckpointInto } from '../../service/scale-out/import';
import { DATA_DIR_FLAG, resolveDataDir } from '../service-session';

const command: CommandSpec = {
  name: 'import-checkpoint',
  summary: 'Convert a PyTorch DDP checkpoint (.safetensors) back into a workstation checkpoint of its run',
  positionals: [{ name: 'file', description: 'checkpoints/epoch-NNNN.safetensors of a scale-out folder', required: true }],
  flags: {
    run: { type: 'number', description: 'the run it belongs to (default: the run id recorded in the file)' },
    json: { type: 'boolean', description: 'print {runId, checkpointId, path, epoch, created} as JSON' },
    ...DB_FLAG,
    ...DATA_DIR_FLAG,
  },
  async run(args, io) {
    const file = path.resolve(io.cwd, args.positionals[0]);
    const meta = readSafetensorsFile(file).metadata;
    const runId = num(args, 'run') ?? (meta.workstation_run_id !== undefined ? Number(meta.workstation_run_id) : undefined);
    if (runId === undefined || !Number.isSafeInteger(runId))
      throw new WorkstationError('INVALID_ARGUMENT', `${file} does not say which run it belongs to: pass --run <id>`, { field: 'run', path: file });
    const store = openStore(resolveDbPath(args, io));
    try {
      const run = store.runs.get(runId);
      if (!run) throw new WorkstationError('NOT_FOUND', `run ${runId} is not in ${store.path} (pass --db, or --run for another run)`, { field: 'run' });
      const { row, created } = importCheckpointInto(store, appPaths(resolveDataDir(args, io), store.path), runId, file);
      if (bool(args, 'json')) io.stdout(JSON.stringify({ runId, checkpointId: row.id, path: row.path, epoch: row.epoch, created }) + '\n');
      else {
        io.stdout(`${created ? 'imported' : 'already imported'}: checkpoint ${row.id} of run ${runId} (${run.name}), epoch ${row.epoch}: ${row.path}\n`);
        io.stdout(
          `continue here as a child run: workstation train --config ${path.join(path.dirname(path.dirname(file)), 'config.json')} --resume ${row.path} --epochs <N>\n`,
        );
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
export default command;
