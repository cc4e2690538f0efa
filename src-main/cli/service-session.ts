// What `train`, `resume` and `serve` share: the --data-dir flag, opening the training service
// in-process on the same database the app uses, and printing run progress to stderr.
import path from 'node:path';
import type { FlagSpec, ParsedArgs } from '../common/args';
import { str } from '../common/args';
import type { CliIO } from './command';
import { resolveDbPath } from './db-flag';
import { defaultDataDir } from '../common/paths';
import type { ServiceApi } from '../../src-shared/api/contract';
import { createService, type Service } from '../service/service';
import type { RunOutcome } from '../service/run-manager';
import type { RunSummary } from '../../src-shared/api/schemas';
import { liveServiceFile } from '../common/service-file';
import { parseFaults } from '../service/fault-injection';

export const DATA_DIR_FLAG: Record<'data-dir', FlagSpec> = {
  'data-dir': {
    type: 'string',
    description: 'data directory: checkpoints (runs/<id>), demo dataset, index cache (default: $WORKSTATION_HOME or the OS app-data folder)',
  },
};

export function resolveDataDir(args: ParsedArgs, io: Pick<CliIO, 'env' | 'cwd'>): string {
  const given = str(args, 'data-dir');
  return given !== undefined ? path.resolve(io.cwd, given) : defaultDataDir(io.env);
}

/**
 * Opens the service in this process. When another live service (the app, `serve`) owns the data
 * dir, runs it left 'running' are its own, so they are not marked interrupted here.
 */
export const WATCH_FLAGS: Record<'watch-interruptions' | 'imds-url', FlagSpec> = {
  'watch-interruptions': {
    type: 'boolean',
    description: 'poll the EC2 instance metadata service; on a spot interruption or scheduled maintenance, checkpoint and stop the run',
  },
  'imds-url': { type: 'string', description: 'instance metadata base URL (default http://169.254.169.254)' },
};

/**
 * `autoResume`: false by default (train/resume in-process never resume other runs); true/false from
 * a flag; 'settings' to follow the data dir's settings.json (serve without the flag).
 */
export async function openCliService(args: ParsedArgs, io: CliIO, opts: { quiet?: boolean; autoResume?: boolean | 'settings' } = {}): Promise<Service> {
  const dataDir = resolveDataDir(args, io);
  const dbPath = resolveDbPath(args, io);
  const other = liveServiceFile(dataDir);
  if (other && !opts.quiet) io.stderr(`note: a service (pid ${other.pid}) is running on ${dataDir}; this command trains in its own process\n`);
  return createService({
    dbPath,
    dataDir,
    recoverInterrupted: other === null,
    // train/resume in-process never resume other runs; serve follows its flag, else the settings
    autoResume: opts.autoResume === 'settings' ? undefined : (opts.autoResume ?? false),
    watchInterruptions:
      args.flags['watch-interruptions'] === undefined ? undefined : args.flags['watch-interruptions'] === true ? { baseUrl: str(args, 'imds-url') } : null,
    faults: parseFaults(io.env), // tests only (WORKSTATION_FAULT_CHECKPOINT_WRITE)
    onLog: (level, message) => {
      if (!opts.quiet || level === 'warn' || level === 'error') io.stderr(`[${level}] ${message}\n`);
    },
  });
}

function fixed(v: number | null | undefined, d = 3): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d);
}

/** Progress lines on stderr (stdout stays free for results / --json). */
export function printProgress(service: Pick<ServiceApi, 'on'>, io: CliIO, runId: () => number | null): () => void {
  const offs = [
    service.on('run.step', (p) => {
      if (p.runId !== runId()) return;
      const eta = p.etaSeconds === null ? '' : ` eta ${Math.round(p.etaSeconds)}s`;
      io.stderr(
        `run ${p.runId} epoch ${p.epoch}/${p.targetEpochs} ${p.phase} step ${p.step + 1}/${p.stepsInEpoch} loss ${fixed(p.loss, 4)} top1 ${fixed(p.top1, 2)} lr ${p.lr.toPrecision(4)} ${fixed(p.imagesPerSec, 1)} img/s${eta}\n`,
      );
    }),
    service.on('run.epoch', ({ runId: id, metrics: m }) => {
      if (id !== runId()) return;
      io.stderr(
        `run ${id} epoch ${m.epoch}: train loss ${fixed(m.trainLoss, 4)} top1 ${fixed(m.trainTop1, 2)} top5 ${fixed(m.trainTop5, 2)} | val loss ${fixed(m.valLoss, 4)} top1 ${fixed(m.valTop1, 2)} top5 ${fixed(m.valTop5, 2)} | ${fixed(m.epochSeconds, 1)} s\n`,
      );
    }),
    service.on('checkpoint.saved', (c) => {
      if (c.runId === runId()) io.stderr(`run ${c.runId} checkpoint epoch ${c.epoch}: ${c.path}\n`);
    }),
    service.on('run.status', ({ run }) => {
      if (run.id === runId()) io.stderr(`run ${run.id} (${run.name}) ${run.status}${run.error ? `: ${run.error}` : ''}\n`);
    }),
  ];
  return () => offs.forEach((off) => off());
}

/**
 * Trains in the in-process service: `begin` starts (or resumes) the run and returns it; progress
 * goes to stderr, Ctrl-C stops the run at the next step boundary (with a mid-epoch checkpoint),
 * and the service is closed once the run ends.
 */
export async function followInProcess(service: Service, io: CliIO, begin: () => RunSummary): Promise<RunOutcome> {
  let runId: number | null = null;
  const stopProgress = printProgress(service, io, () => runId);
  const onAbort = () => {
    if (runId === null) return;
    io.stderr(`interrupted: stopping run ${runId} at the next step boundary (\`workstation resume --run ${runId}\` continues it)\n`);
    try {
      service.runs.stop(runId);
    } catch {
      /* already ending */
    }
  };
  try {
    runId = begin().id;
    io.signal.addEventListener('abort', onAbort, { once: true });
    if (io.signal.aborted) onAbort();
    return await service.runs.whenFinished(runId);
  } finally {
    io.signal.removeEventListener('abort', onAbort);
    stopProgress();
    await service.close();
  }
}

/** The fields train/resume print from an in-process outcome. */
export function outcomeFields(o: RunOutcome): {
  run: RunSummary;
  epochs: unknown[];
  lastCheckpoint: string | null;
  weightsSha256: string | null;
  backend: string | null;
  error: string | null;
} {
  return {
    run: o.run,
    epochs: o.result?.epochs ?? [],
    lastCheckpoint: o.result?.lastCheckpoint ?? null,
    weightsSha256: o.result?.weightsSha256 ?? null,
    backend: o.backend?.name ?? null,
    error: o.error,
  };
}
