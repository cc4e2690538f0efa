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
import { createRunHandlers } from './handlers/runs';
import { createStateHandlers } from './handlers/state';
import { createSystemHandlers } from './handlers/system';
import type { HandlerContext, Handlers } from './handlers/types';
import { createRunManager, type LogFn, type RunManager } from './run-manager';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ServiceOptions {
  dbPath: string;
  dataDir: string;
  onLog?: (level: LogLevel, message: string) => void;
  /**
   * Mark runs left running/paused (and queued ones) by a dead process as 'interrupted' at open.
   * Default true. The CLI passes false when another live service owns the same data dir, so it
   * does not mark that service's active run interrupted.
   */
  recoverInterrupted?: boolean;
}

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
  const runs = createRunManager({ store, paths, emit, log, addDatasetRoot: (r) => datasetRoots.add(r) });

  if (opts.recoverInterrupted !== false) {
    for (const run of store.runs.markInterrupted()) {
      const ev = store.events.add({
        runId: run.id,
        kind: 'interrupted',
        epoch: run.lastEpoch,
        data: { reason: 'the service stopped without finishing this run (crash or kill); resume it from its last checkpoint' },
      });
      emit('run.event', ev);
      log('warn', `run ${run.id} (${run.name}) was interrupted; \`workstation resume --run ${run.id}\` continues it from its last checkpoint`, run.id);
    }
    // Queued runs of a dead service would wait forever for a slot that is gone: mark them too.
    for (const run of store.runs.list().filter((r) => r.status === 'queued')) {
      store.runs.setStatus(run.id, 'interrupted');
      store.events.add({ runId: run.id, kind: 'interrupted', data: { reason: 'queued when the previous service stopped' } });
    }
  }

  const ctx: HandlerContext = { store, runs, paths, datasetRoots, emit, log };
  const handlers: Handlers = {
    ...createRunHandlers(ctx),
    ...createCheckpointHandlers(ctx),
    ...createAugmentHandlers(ctx),
    ...createExportHandlers(ctx),
    ...createDatasetHandlers(ctx),
    ...createSystemHandlers(ctx),
    ...createStateHandlers(ctx),
  };

  let closed: Promise<void> | null = null;

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
          await runs.shutdown(reason);
        } finally {
          store.close();
        }
      })();
      return closed;
    },
    close: () => service.shutdown('service closed'),
  };
  return service;
}
