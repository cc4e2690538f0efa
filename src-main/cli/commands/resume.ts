// `workstation resume --run <id|name> [--db] [--data-dir] [--json]`: continues an interrupted,
// stopped or failed run from its newest checkpoint — the SAME run, bit-exact ('exact' resume;
// the epoch that was cut short is retrained). When a live service (the app, `serve`) owns the
// data dir and database, the command is handed to it over its WebSocket and followed to the
// end; otherwise the run trains in this process through the store.
import path from 'node:path';
import type { ServiceApi } from '../../../src-shared/api/contract';
import type { RunSummary } from '../../../src-shared/api/schemas';
import { openStore } from '../../store/index';
import { liveServiceFile } from '../../common/service-file';
import { connectWs } from '../../common/ws-client';
import type { RunOutcome } from '../../service/run-manager';
import { bool, str } from '../../common/args';
import type { CliIO, CommandSpec } from '../command';
import { DB_FLAG, resolveDbPath } from '../db-flag';
import { DATA_DIR_FLAG, openCliService, printProgress, resolveDataDir } from '../service-session';

interface Final {
  run: RunSummary;
  epochs: unknown[];
  lastCheckpoint: string | null;
  weightsSha256: string | null;
  backend: string | null;
  error: string | null;
}

function print(io: CliIO, json: boolean, f: Final): number {
  if (json)
    io.stdout(
      JSON.stringify({
        runId: f.run.id,
        name: f.run.name,
        status: f.run.status,
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

/** Hands the resume to the live service and follows the run until it ends. */
async function resumeRemote(api: ServiceApi & { close(): void }, idOrName: string, dbPath: string, io: CliIO, json: boolean): Promise<number> {
  const store = openStore(dbPath);
  let target: RunSummary;
  try {
    target = store.runs.resolve(idOrName);
  } finally {
    store.close();
  }
  const stopProgress = printProgress(api, io, () => target.id);
  try {
    const ended = new Promise<RunSummary>((resolve) =>
      api.on('run.status', ({ run }) => {
        if (run.id === target.id && ['completed', 'stopped', 'failed', 'interrupted'].includes(run.status)) resolve(run);
      }),
    );
    const r = await api.call('runs.resume', { runId: target.id });
    io.stderr(`run ${r.id} (${r.name}) ${r.status} in the running service; following it (Ctrl-C detaches, the run keeps training)\n`);
    const detached = new Promise<null>((resolve) => io.signal.addEventListener('abort', () => resolve(null), { once: true }));
    const run = await Promise.race([ended, detached]);
    if (!run) return 0;
    const got = await api.call('runs.get', { runId: run.id });
    const last = got.checkpoints.filter((c) => c.exists).at(-1);
    return print(io, json, { run, epochs: got.epochs, lastCheckpoint: last?.path ?? null, weightsSha256: null, backend: run.backend, error: run.error });
  } finally {
    stopProgress();
    api.close();
  }
}

const command: CommandSpec = {
  name: 'resume',
  summary: 'Continue an interrupted, stopped or failed run from its last checkpoint (same run, exact resume)',
  flags: {
    run: { type: 'string', required: true, description: 'run id or name (the latest run with that name)' },
    json: { type: 'boolean', description: 'print one JSON document at the end: {runId, status, epochs, lastCheckpoint, weightsSha256, backend}' },
    ...DB_FLAG,
    ...DATA_DIR_FLAG,
  },
  async run(args, io) {
    const json = bool(args, 'json');
    const idOrName = str(args, 'run') as string;
    const live = liveServiceFile(resolveDataDir(args, io));
    const dbPath = resolveDbPath(args, io);
    if (live && path.resolve(live.dbPath) === path.resolve(dbPath)) {
      return resumeRemote(await connectWs({ host: live.host, port: live.port, token: live.token }), idOrName, dbPath, io, json);
    }
    const service = await openCliService(args, io);
    let runId: number | null = null;
    const stopProgress = printProgress(service, io, () => runId);
    const onAbort = () => {
      if (runId === null) return;
      io.stderr(`interrupted: stopping run ${runId} at the next step boundary\n`);
      try {
        service.runs.stop(runId);
      } catch {
        /* already ending */
      }
    };
    let outcome: RunOutcome;
    try {
      const target = service.store.runs.resolve(idOrName);
      runId = target.id;
      const cp = service.store.checkpoints.latest(target.id);
      io.stderr(
        `resuming run ${target.id} (${target.name}, ${target.status}) ${cp ? `from epoch ${cp.epoch} (${cp.path})` : 'from the start (no checkpoint yet)'} to epoch ${target.targetEpochs}\n`,
      );
      service.runs.resume(target.id);
      io.signal.addEventListener('abort', onAbort, { once: true });
      if (io.signal.aborted) onAbort();
      outcome = await service.runs.whenFinished(target.id);
    } finally {
      io.signal.removeEventListener('abort', onAbort);
      stopProgress();
      await service.close();
    }
    const { run, result, backend, error } = outcome;
    return print(io, json, {
      run,
      epochs: result?.epochs ?? [],
      lastCheckpoint: result?.lastCheckpoint ?? null,
      weightsSha256: result?.weightsSha256 ?? null,
      backend: backend?.name ?? null,
      error,
    });
  },
};

export default command;
