// The training service: one object that owns the store, the run manager and the command
// handlers, and implements the typed ServiceApi. Every transport (Node IPC, WebSocket, the CLI
// in-process) goes through `dispatch`, which validates the command name and params with the
// contract's zod schemas; any handler error becomes a typed error, never a crash.
import {
  COMMANDS,
  type CommandName,
  type CommandParams,
  type CommandResult,
  type EventName,
  type EventPayload,
  type ServiceApi,
} from '../../src-shared/api/contract';
import { createEventHub } from '../../src-shared/api/rpc-client';
import { zodIssueToError } from '../../src-shared/config/run-config';
import { WorkstationError } from '../../src-shared/errors';
import { appPaths, type AppPaths } from '../common/paths';
import { openStore, type Store } from '../store/index';
import { createDatasetRoots, type DatasetRoots } from './dataset-roots';
import { createAugmentHandlers } from './handlers/augment';
import { createCheckpointHandlers } from './handlers/checkpoints';
import { createDatasetHandlers } from './handlers/dataset';
import { createExportHandlers } from './handlers/export';
import { createEvalHandlers } from './handlers/evaluations';
import { createFileHandlers } from './handlers/files';
import { createEvalManager } from './eval-manager';
import { createRunHandlers } from './handlers/runs';
import { createStateHandlers } from './handlers/state';
import { createSystemHandlers } from './handlers/system';
import { createSelftestHandlers } from './handlers/selftest';
import type { HandlerContext, Handlers } from './handlers/types';
import { createRunManager, type LogFn, type RunManager } from './run-manager';
import type { Faults } from './fault-injection';
import { describeNotice, startInterruptionWatcher, type InterruptionWatcher } from '../common/interruption-watcher';
import type { RunEvent } from '../../src-shared/api/schemas';
import { applySettingsPatch, type Settings, type SettingsPatch } from '../../src-shared/config/settings';
import { readSettings, writeSettings } from './settings-file';
import { createEventDetector } from './notify/detect';
import { createWebhookSender, redactUrl, webhookPayload, type WebhookOptions } from './notify/webhook';
import { createCompareHandlers } from './handlers/compare';
import { createLrFindHandlers } from './handlers/lr-find';
import { makeFolder } from '../common/make-folder';
import { importKnownScaleOuts } from './scale-out/import';
import { createScaleOutHandlers } from './handlers/scale-out';
import { SCALE_OUT_ENGINE } from './scale-out/write-folder';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ServiceOptions {
  dbPath: string;
  dataDir: string;
  onLog?: (level: LogLevel, message: string) => void;
  /**
   * Mark queued runs of a previous service as 'interrupted' at open (a queue lives in its
   * service's memory). Default true; the CLI passes false when another live service owns the
   * data dir, since the queued runs are that service's. Runs left running/paused by a process
   * that is gone are always marked (their owner's pid/heartbeat says so; a live owner's never).
   */
  recoverInterrupted?: boolean;
  /**
   * Resume by themselves the runs that were training when their process died (crash, kill,
   * power loss), from their newest checkpoint. Undefined: the data dir's settings (default on).
   */
  autoResume?: boolean;
  /**
   * Poll the EC2 metadata service and stop the active run gracefully (checkpoint first) on a spot
   * interruption or scheduled maintenance. Undefined: the data dir's settings (default off).
   */
  watchInterruptions?: { baseUrl?: string; intervalMs?: number } | null;
  /** fault injection for tests (see fault-injection.ts) */
  faults?: Faults;
  /** notices (service/notify): how often stalls are looked for (default 5 s) and webhook retry timing (tests) */
  notify?: { tickMs?: number; webhook?: Partial<Pick<WebhookOptions, 'maxAttempts' | 'backoffMs' | 'maxBackoffMs' | 'timeoutMs'>> };
}

/** Auto-resume gives up after this many crashes in a row, each within CRASH_LOOP_MS of its auto-resume. */
export const AUTO_RESUME_LIMIT = 3;
export const CRASH_LOOP_MS = 60_000;

export interface Service extends ServiceApi {
  /** untyped entry used by transports: validates `command` and `params`, returns the result */
  dispatch(command: string, params: unknown): Promise<unknown>;
  /** every event, for transports that forward them all */
  onAny(handler: (event: EventName, payload: unknown) => void): () => void;
  /** folders whose images file endpoints may serve (dataset roots + demo dataset) */
  fileRoots(): string[];
  readonly paths: AppPaths;
  readonly store: Store;
  readonly runs: RunManager;
  /** stop the active run at the next step boundary (it becomes 'stopped', resumable from its last checkpoint) and close the store */
  shutdown(reason?: string): Promise<void>;
  /** alias of shutdown('closed') */
  close(): Promise<void>;
}

export async function createService(opts: ServiceOptions): Promise<Service> {
  const paths = appPaths(opts.dataDir, opts.dbPath);
  // one clear line for a data dir that cannot exist (under a file, in /proc), before any mkdir below it
  makeFolder(paths.dataDir, 'data directory', 'data-dir');
  let settings: Settings = readSettings(paths.dataDir); // an invalid file is an error before anything opens
  const store = openStore(paths.dbPath);
  // An invalid payload is a bug on our side: say so loudly but keep the service up; a listener's
  // bug must not break training or the other listeners.
  const hub = createEventHub(
    (message) => opts.onLog?.('error', `event does not match its schema: ${message}`),
    () => undefined,
  );
  const emit = <E extends EventName>(event: E, payload: EventPayload<E>): void => hub.emit(event, payload);
  const log: LogFn = (level, message, runId = null) => {
    opts.onLog?.(level, message);
    emit('log.line', { level, message, runId: runId ?? null, at: new Date().toISOString() });
  };

  const datasetRoots: DatasetRoots = createDatasetRoots(paths, store);
  const runs = createRunManager({
    store,
    paths,
    emit,
    log,
    addDatasetRoot: (r) => datasetRoots.add(r),
    faults: opts.faults,
    slotBusy: () => evals.slotBusy(),
  });
  // evaluations share the compute slot with training (eval-manager.ts): they start when it frees
  const evals = createEvalManager({ store, paths, emit, log, runs, addDatasetRoot: (r) => datasetRoots.add(r), faults: opts.faults });
  hub.on('run.status', () => evals.kick());

  // Runs whose training process is gone (every reader already shows them 'interrupted'): write it
  // down, and note what they were doing and when their owner was last heard of.
  const before = new Map(
    store.runs
      .list()
      .filter((r) => r.status === 'interrupted' || r.status === 'running' || r.status === 'paused')
      .map((r) => [r.id, { stored: store.runs.owner(r.id), wasTraining: r.status !== 'paused' }]),
  );
  const interrupted = store.runs.markInterrupted();
  for (const run of interrupted) {
    const prev = before.get(run.id);
    const ev = store.events.add({
      runId: run.id,
      kind: 'interrupted',
      epoch: run.lastEpoch,
      data: {
        reason: 'the process training this run stopped without finishing it (crash, kill or power loss)',
        pid: prev?.stored?.pid ?? null,
        lastHeartbeatAt: prev?.stored?.heartbeatAt ?? null,
      },
    });
    emit('run.event', ev);
    log('warn', `run ${run.id} (${run.name}) was interrupted; \`workstation resume --run ${run.id}\` continues it from its newest checkpoint`, run.id);
  }
  // What PyTorch DDP continuations (workstation scale-out) reported since the last start: their
  // epochs and checkpoints join the lineage; a folder that cannot be read is logged, never fatal.
  try {
    const scaled = importKnownScaleOuts(store, paths);
    for (const i of scaled.imported)
      if (i.epochs.length || i.checkpoints.length)
        log(
          'info',
          `scale-out ${i.dir}: run ${i.runId} got epochs [${i.epochs.join(', ')}] and ${i.checkpoints.length} checkpoint(s) from PyTorch DDP`,
          i.runId,
        );
    for (const p of scaled.problems) log('warn', `scale-out folder ${p.dir}: ${p.message}`);
  } catch (e) {
    log('warn', `scale-out import: ${(e as Error).message}`);
  }
  if (opts.recoverInterrupted !== false) {
    // Queued runs of a dead service would wait forever for a slot that is gone: mark them too.
    for (const run of store.runs.list().filter((r) => r.status === 'queued' && !r.owner)) {
      store.runs.setStatus(run.id, 'interrupted');
      store.events.add({ runId: run.id, kind: 'interrupted', data: { reason: 'queued when the previous service stopped' } });
    }
  }

  let closed: Promise<void> | null = null;

  if (opts.autoResume ?? settings.autoResume) {
    for (const run of interrupted) {
      if (!before.get(run.id)?.wasTraining) continue; // a paused run stays paused-and-interrupted: the user paused it
      // a PyTorch DDP continuation died on its machine: restarting it is run.sh's job, not this trainer's
      if (run.backend?.startsWith(SCALE_OUT_ENGINE)) continue;
      const loop = crashLoopCount(store.events.list(run.id));
      if (loop >= AUTO_RESUME_LIMIT) {
        const ev = store.events.add({
          runId: run.id,
          kind: 'note',
          data: {
            message: `auto-resume stopped: the run crashed within a minute of resuming ${loop} times in a row; fix the cause (see its log), then resume it by hand`,
          },
        });
        emit('run.event', ev);
        log('error', `run ${run.id} (${run.name}) is not resumed automatically: it crashed within a minute of resuming ${loop} times in a row`, run.id);
        continue;
      }
      try {
        runs.resume(run.id, { auto: true });
        log('info', `run ${run.id} (${run.name}) resumed automatically from its newest checkpoint`, run.id);
      } catch (e) {
        log('warn', `run ${run.id} could not be resumed automatically: ${(e as Error).message}`, run.id);
      }
    }
  }

  let watcher: InterruptionWatcher | null = null;
  const watchFromSettings = (s: Settings) => (s.watchInterruptions ? { baseUrl: s.imdsUrl ?? undefined } : null);
  const startWatching = (w: { baseUrl?: string; intervalMs?: number }): InterruptionWatcher =>
    startInterruptionWatcher({
      ...w,
      onLog: (level, message) => log(level, `interruption watcher: ${message}`),
      onNotice: (n) => {
        const state = runs.state();
        const run = state.activeRun;
        log('warn', `${describeNotice(n)}${run ? `: checkpointing run ${run.id} and stopping it` : ''}`);
        if (!run) return;
        emit('run.event', store.events.add({ runId: run.id, kind: 'note', data: { message: describeNotice(n), interruption: n } }));
        try {
          runs.stop(run.id); // a graceful stop writes a mid-epoch checkpoint at the next step boundary
        } catch (e) {
          log('warn', `stopping run ${run.id}: ${(e as Error).message}`, run.id);
        }
      },
    });
  const watch = opts.watchInterruptions === undefined ? watchFromSettings(settings) : opts.watchInterruptions;
  if (watch) watcher = startWatching(watch);
  // Notices: completed / failed / diverged / stalled / starved runs, as a 'notify' event for the
  // clients' desktop notifications and as a webhook POST (background, retried; never blocks training).
  const webhook = createWebhookSender({ url: () => settings.webhookUrl, log: (level, message) => log(level, message), ...opts.notify?.webhook });
  const detector = createEventDetector({
    settings: () => settings.notifications,
    notify: (n) => {
      emit('notify', n);
      if (settings.webhookUrl) webhook.send({ ...webhookPayload(n, store.runs.get(n.runId)), id: n.id, kind: n.kind });
    },
  });
  hub.onAny((event, payload) => detector.onEvent(event, payload));
  const stallTimer = setInterval(() => detector.tick(), opts.notify?.tickMs ?? 5000);
  stallTimer.unref();
  const settingsCtl = {
    get: () => settings,
    async set(patch: SettingsPatch): Promise<Settings> {
      const next = applySettingsPatch(settings, patch);
      writeSettings(paths.dataDir, next);
      if (next.webhookUrl !== settings.webhookUrl)
        log('info', next.webhookUrl ? `notices are POSTed to ${redactUrl(next.webhookUrl)}` : 'no webhook for notices any more');
      const wasOn = watchFromSettings(settings);
      settings = next;
      const nowOn = watchFromSettings(next);
      // an explicit --watch-interruptions of this process is not overridden by the app
      if (opts.watchInterruptions === undefined && JSON.stringify(wasOn) !== JSON.stringify(nowOn)) {
        await watcher?.stop();
        watcher = nowOn ? startWatching(nowOn) : null;
        log('info', nowOn ? 'watching for EC2 spot interruptions and maintenance' : 'no longer watching for EC2 interruptions');
      }
      return next;
    },
  };

  const ctx: HandlerContext = { store, runs, paths, datasetRoots, emit, log, settings: settingsCtl };
  const handlers: Handlers = {
    ...createRunHandlers(ctx),
    ...createCheckpointHandlers(ctx),
    ...createAugmentHandlers(ctx),
    ...createExportHandlers(ctx),
    ...createEvalHandlers(ctx, evals),
    ...createFileHandlers(ctx),
    ...createDatasetHandlers(ctx),
    ...createSystemHandlers(ctx),
    ...createSelftestHandlers(ctx, { faults: opts.faults, slotBusy: () => evals.slotBusy() }),
    ...createStateHandlers(ctx),
    ...createCompareHandlers(ctx),
    ...createLrFindHandlers(ctx, { slotBusy: () => evals.slotBusy(), faults: opts.faults }),
    ...createScaleOutHandlers(ctx),
  };

  async function dispatch(command: string, params: unknown): Promise<unknown> {
    if (closed) throw new WorkstationError('INVALID_STATE', 'the service is shutting down');
    if (!Object.prototype.hasOwnProperty.call(COMMANDS, command)) {
      throw new WorkstationError('INVALID_COMMAND', `unknown command "${command}"`, { field: 'command' });
    }
    const name = command as CommandName;
    const parsed = COMMANDS[name].params.safeParse(params ?? {});
    if (!parsed.success) {
      const e = zodIssueToError(parsed.error, 'INVALID_ARGUMENT');
      throw new WorkstationError('INVALID_ARGUMENT', `${name}: ${e.message}`, { field: e.field });
    }
    const handler = handlers[name] as ((p: unknown) => unknown) | undefined;
    if (!handler) throw new WorkstationError('INVALID_COMMAND', `command "${command}" is not implemented by this service`, { field: 'command' });
    const result = await handler(parsed.data);
    const checked = COMMANDS[name].result.safeParse(result);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new WorkstationError('INTERNAL', `${name}: result does not match the contract at ${issue?.path.join('.')}: ${issue?.message}`);
    }
    return checked.data;
  }

  const service: Service = {
    paths,
    store,
    runs,
    dispatch,
    call<C extends CommandName>(command: C, params: CommandParams<C>): Promise<CommandResult<C>> {
      return dispatch(command, params) as Promise<CommandResult<C>>;
    },
    on: hub.on,
    onAny: hub.onAny,
    fileRoots: () => datasetRoots.list(),
    shutdown(reason = 'service shutting down') {
      closed ??= (async () => {
        try {
          await watcher?.stop();
          clearInterval(stallTimer);
          await evals.shutdown();
          await runs.shutdown(reason);
        } finally {
          await webhook.close(); // pending notices get a moment, then are abandoned
          store.close();
        }
      })();
      return closed;
    },
    close: () => service.shutdown('service closed'),
  };
  return service;
}

/**
 * How many times in a row (newest first) the run was resumed automatically and then died within
 * CRASH_LOOP_MS: an auto-resume 'resume' event followed by an 'interrupted' event whose owner's
 * last heartbeat came less than a minute after it.
 */
export function crashLoopCount(events: RunEvent[]): number {
  let count = 0;
  for (let i = events.length - 1; i >= 0; i--) {
    const ev = events[i];
    if (ev.kind !== 'interrupted') continue;
    const resume = events
      .slice(0, i)
      .reverse()
      .find((e) => e.kind === 'resume');
    if (!resume || resume.data.auto !== true) break;
    const last = typeof ev.data.lastHeartbeatAt === 'string' ? Date.parse(ev.data.lastHeartbeatAt) : Date.parse(ev.at);
    if (!(last - Date.parse(resume.at) < CRASH_LOOP_MS)) break;
    count++;
    i = events.indexOf(resume);
  }
  return count;
}
