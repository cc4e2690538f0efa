// `workstation scale-out --checkpoint C --out DIR [--epochs N] [--name] [--db] [--data-dir] [--json]`:
// writes a self-contained folder that continues the run with PyTorch DDP under torchrun
// (train_ddp.py, run.sh, config.json, scale-out.json, val-files.json, checkpoint.safetensors,
// README.md) and creates the continuation as a child run in the store, which train_ddp.py fills in
// live through a workstation service on this machine, and `workstation import-metrics DIR` (or the
// next service start) from the folder's metrics.jsonl. docs/SCALE-OUT.md.
import path from 'node:path';
import { bool, num, str } from '../../common/args';
import { appPaths } from '../../common/paths';
import { openStore } from '../../store/index';
import type { CommandSpec } from '../command';
import { CHECKPOINT_FLAG, resolveCheckpointSource } from '../checkpoint-source';
import { DB_FLAG, resolveDbPath } from '../db-flag';
import { writeScaleOut } from '../../service/scale-out/write-folder';
import { DATA_DIR_FLAG, resolveDataDir } from '../service-session';

const command: CommandSpec = {
  name: 'scale-out',
  summary: 'Write a PyTorch DDP (torchrun) folder that continues a run from a checkpoint, as a child run that reports back',
  flags: {
    ...CHECKPOINT_FLAG,
    out: { type: 'string', required: true, description: 'the folder to write (new or empty)' },
    epochs: { type: 'number', description: "the epoch the continuation ends at (default: the run's train.epochs)" },
    name: { type: 'string', description: 'name of the child run (default "<parent> ↳ DDP e<epoch>")' },
    json: { type: 'boolean', description: 'print {runId, outDir, files, plan} as JSON' },
    ...DB_FLAG,
    ...DATA_DIR_FLAG,
  },
  async run(args, io) {
    const store = openStore(resolveDbPath(args, io));
    try {
      const src = resolveCheckpointSource(args, io, { store });
      const r = await writeScaleOut({
        store,
        paths: appPaths(resolveDataDir(args, io), store.path),
        file: src.file,
        stored: src.stored,
        ck: src.ck,
        outDir: path.resolve(io.cwd, str(args, 'out')!),
        epochs: num(args, 'epochs'),
        name: str(args, 'name'),
      });
      if (bool(args, 'json'))
        io.stdout(
          JSON.stringify({ runId: r.run.id, name: r.run.name, parentRunId: r.run.parentRunId, outDir: r.outDir, files: r.files, plan: r.plan }, null, 2) + '\n',
        );
      else {
        const s = r.plan.start;
        io.stdout(
          [
            `run ${r.run.id} (${r.run.name}): child of run ${r.run.parentRunId ?? '-'}, continues ${s.kind === 'epoch' ? `after epoch ${s.epoch}` : `epoch ${s.epoch} at step ${s.stepInEpoch}`} to epoch ${r.plan.targetEpochs} in PyTorch DDP`,
            `wrote ${r.outDir}: ${r.files.join(', ')}`,
            `next: ${path.join(r.outDir, 'run.sh')} --nproc <GPUs>   then   workstation import-metrics ${r.outDir}`,
            `(run here, it reports each epoch live to the app or \`workstation serve\` on ${r.plan.dataDir} when one is running)`,
          ].join('\n') + '\n',
        );
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
export default command;
