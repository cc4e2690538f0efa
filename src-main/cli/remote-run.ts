// What `train` and `resume` do when a live service (the app, `serve`) owns the data dir and
// database: hand the command to it over its WebSocket, so the run has one owner, shows live in
// the app and queues like any other, and follow the run's events here until it ends (Ctrl-C
// detaches; the run keeps training in the service).
import path from 'node:path';
import type { CommandName, CommandParams } from '../../src-shared/api/contract';
import type { RunSummary } from '../../src-shared/api/schemas';
import { liveServiceFile, type ServiceFile } from '../common/service-file';
import { connectWs } from '../common/ws-client';
import { readCheckpointFile } from '../ml/checkpoint-file';
import type { CliIO } from './command';
import { printProgress } from './service-session';

const ENDED = ['completed', 'stopped', 'failed', 'interrupted'];

/** The live service of this data dir when it serves the same database, else null. */
export function liveServiceFor(dataDir: string, dbPath: string): ServiceFile | null {
  const live = liveServiceFile(dataDir);
  return live && path.resolve(live.dbPath) === path.resolve(dbPath) ? live : null;
}

export interface RemoteOutcome {
  run: RunSummary;
  epochs: unknown[];
  lastCheckpoint: string | null;
  weightsSha256: string | null;
  /** true when Ctrl-C detached before the run ended */
  detached: boolean;
}

/**
 * Sends `command` (it returns the run) to the live service and follows that run to its end.
 * Events are watched from before the call, so a run that ends at once is not missed.
 */
export async function runInService<C extends 'runs.start' | 'runs.fork' | 'runs.resume'>(
  live: ServiceFile,
  command: C & CommandName,
  params: CommandParams<C>,
  io: CliIO,
): Promise<RemoteOutcome> {
  const api = await connectWs({ host: live.host, port: live.port, token: live.token });
  let runId: number | null = null;
  const ended = new Map<number, RunSummary>();
  let wake: (() => void) | null = null;
  const offStatus = api.on('run.status', ({ run }) => {
    if (!ENDED.includes(run.status)) return;
    ended.set(run.id, run);
    wake?.();
  });
  const stopProgress = printProgress(api, io, () => runId);
  try {
    const r = (await api.call(command, params)) as RunSummary;
    runId = r.id;
    io.stderr(`run ${r.id} (${r.name}) ${r.status} in the running service (pid ${live.pid}); following it (Ctrl-C detaches, the run keeps training)\n`);
    let detached = false;
    const onAbort = () => {
      detached = true;
      wake?.();
    };
    io.signal.addEventListener('abort', onAbort, { once: true });
    while (!ended.has(r.id) && !detached && !io.signal.aborted) await new Promise<void>((resolve) => (wake = resolve));
    io.signal.removeEventListener('abort', onAbort);
    const got = await api.call('runs.get', { runId: r.id });
    const last = got.checkpoints.filter((c) => c.exists).at(-1) ?? null;
    let weightsSha256: string | null = null;
    if (last && !detached) {
      try {
        // the header only (checksum verified): no tfjs needed to say which weights the run ended on
        weightsSha256 = readCheckpointFile<{ weightsSha256: string }>(last.path, false).header.weightsSha256;
      } catch {
        /* unreadable: say nothing rather than something wrong */
      }
    }
    return { run: got.run, epochs: got.epochs, lastCheckpoint: last?.path ?? null, weightsSha256, detached: detached || io.signal.aborted };
  } finally {
    offStatus();
    stopProgress();
    api.close();
  }
}
