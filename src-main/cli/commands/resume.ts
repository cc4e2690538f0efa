// `workstation resume --run <id|name> [--db] [--data-dir] [--json]`: continues an interrupted,
// stopped or failed run from its newest checkpoint of either kind — the SAME run, bit-exact
// ('exact' resume; from a mid-epoch checkpoint it continues at the next step). When a live service (the app, `serve`) owns the
// data dir and database, the command is handed to it over its WebSocket and followed to the
// end; otherwise the run trains in this process through the store.
import type { CheckpointInfo, RunSummary } from '../../../src-shared/api/schemas';
import { openStore } from '../../store/index';
import { bool, str } from '../../common/args';
import type { CliIO, CommandSpec } from '../command';
import { DB_FLAG, resolveDbPath } from '../db-flag';
import { liveServiceFor, runInService } from '../remote-run';
import { DATA_DIR_FLAG, WATCH_FLAGS, followInProcess, openCliService, outcomeFields, resolveDataDir } from '../service-session';

interface Final {
  run: RunSummary;
  epochs: unknown[];
  lastCheckpoint: string | null;
  weightsSha256: string | null;
  backend: string | null;
  error: string | null;
  resumedFrom: { epoch: number; stepInEpoch: number | null; checkpoint: string } | null;
}

function print(io: CliIO, json: boolean, f: Final): number {
  if (json)
    io.stdout(
      JSON.stringify({
        runId: f.run.id,
        name: f.run.name,
        status: f.run.status,
        resumedFrom: f.resumedFrom,
        epochs: f.epochs,
        lastCheckpoint: f.lastCheckpoint,
        weightsSha256: f.weightsSha256,
        backend: f.backend,
        error: f.error,
      }) + '\n',
    );
  else {
    io.stdout(`run ${f.run.id} (${f.run.name}) ${f.run.status}${f.error ? `: ${f.error}` : ''}\n`);
    if (f.lastCheckpoint) io.stdout(`last checkpoint: ${f.lastCheckpoint}\n`);
    if (f.weightsSha256) io.stdout(`weights sha256: ${f.weightsSha256}\n`);
  }
  return f.run.status === 'completed' ? 0 : f.run.status === 'stopped' ? 130 : 1;
}

/** Where a resume of the run will continue: its newest checkpoint of either kind. */
function resumePoint(cp: CheckpointInfo | undefined): Final['resumedFrom'] {
  if (!cp) return null;
  return { epoch: cp.epoch, stepInEpoch: cp.kind === 'mid-epoch' ? cp.stepInEpoch : (cp.stepInEpoch ?? null), checkpoint: cp.path };
}

function describePoint(cp: CheckpointInfo | undefined): string {
  if (!cp) return 'from the start (no checkpoint yet)';
  return cp.kind === 'mid-epoch' ? `from epoch ${cp.epoch} step ${cp.stepInEpoch} (${cp.path})` : `after epoch ${cp.epoch} (${cp.path})`;
}

const command: CommandSpec = {
  name: 'resume',
  summary: 'Continue an interrupted, stopped or failed run from its last checkpoint (same run, exact resume)',
  flags: {
    run: { type: 'string', required: true, description: 'run id or name (the latest run with that name)' },
    json: { type: 'boolean', description: 'print one JSON document at the end: {runId, status, resumedFrom, epochs, lastCheckpoint, weightsSha256, backend}' },
    ...DB_FLAG,
    ...DATA_DIR_FLAG,
    ...WATCH_FLAGS,
  },
  async run(args, io) {
    const json = bool(args, 'json');
    const idOrName = str(args, 'run') as string;
    const dbPath = resolveDbPath(args, io);
    const live = liveServiceFor(resolveDataDir(args, io), dbPath);
    if (live) {
      const store = openStore(dbPath);
      let target: RunSummary;
      let cp: CheckpointInfo | undefined;
      try {
        target = store.runs.resolve(idOrName);
        cp = store.checkpoints.latest(target.id);
      } finally {
        store.close();
      }
      io.stderr(`resuming run ${target.id} (${target.name}, ${target.status}) ${describePoint(cp)} in the running service\n`);
      const o = await runInService(live, 'runs.resume', { runId: target.id }, io);
      if (o.detached) return 0;
      return print(io, json, { ...o, backend: o.run.backend, error: o.run.error, resumedFrom: resumePoint(cp) });
    }
    const service = await openCliService(args, io);
    const outcome = await followInProcess(service, io, () => {
      const target = service.store.runs.resolve(idOrName);
      const cp = service.store.checkpoints.latest(target.id);
      io.stderr(`resuming run ${target.id} (${target.name}, ${target.status}) ${describePoint(cp)} to epoch ${target.targetEpochs}\n`);
      return service.runs.resume(target.id);
    });
    const from = outcome.result?.resumedFrom ?? null;
    return print(io, json, {
      ...outcomeFields(outcome),
      resumedFrom: from ? { epoch: from.epoch, stepInEpoch: from.stepInEpoch, checkpoint: from.checkpoint } : null,
    });
  },
};

export default command;
