// Electron main's link to the training service, whichever way it exists: reattached over
// WebSocket to a service that kept training after the last window closed (service.json), or a
// child it spawns and supervises over Node IPC. Also what closing the window does to it: stop
// it, or let it keep training in the background. Plain Node, tested without Electron.
import fs from 'node:fs';
import path from 'node:path';
import type { EventName } from '../../src-shared/api/contract';
import { createIpcClient } from '../common/ipc-client';
import { findLiveService, isProcessAlive, type ServiceFile } from '../common/service-file';
import type { LinkOptions, ServiceLink } from '../common/service-link';
import { connectWs } from '../common/ws-client';
import type { BackoffOptions } from './backoff';
import { serviceLaunchCommand, serviceLaunchEnv, serviceLogPath } from './service-launch';
import { createSupervisor, type SupervisedState, type Supervisor } from './supervisor';

export interface ServiceConnectionOptions {
  dataDir: string;
  dbPath: string;
  nodePath: string;
  serviceBundle: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  backoff?: Partial<BackoffOptions>;
  /** how long a freshly spawned service may take to answer state.get */
  readyTimeoutMs?: number;
  /** 'file' (default): the child's output goes to <dataDir>/logs/service.log, so it survives main exiting */
  output?: 'file' | 'pipe';
  onState?(state: SupervisedState, message: string | null): void;
  onEvent?(event: EventName, payload: unknown): void;
  onLog?(level: 'info' | 'warn' | 'error', msg: string): void;
}

export interface ServiceConnection {
  readonly mode: 'spawned' | 'reattached';
  /** resolves once the service first answers (at once when reattached); rejects if it never starts */
  readonly ready: Promise<void>;
  /** the current client, null while the service (re)starts */
  client(): ServiceLink | null;
  pid(): number | null;
  /** SIGTERM the service (it finishes the step, checkpoints, closes the DB) and wait for it */
  stop(graceMs?: number): Promise<void>;
  /** leave the service running (it keeps training), drop our connection */
  detach(): void;
}

/** Marks a service that a window left training in the background: ours to stop later. */
export function backgroundMarkerPath(dataDir: string): string {
  return path.join(dataDir, 'background-service.json');
}

function ownsBackgroundService(dataDir: string, pid: number): boolean {
  try {
    return (JSON.parse(fs.readFileSync(backgroundMarkerPath(dataDir), 'utf8')) as { pid?: unknown }).pid === pid;
  } catch {
    return false;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!isProcessAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isProcessAlive(pid);
}

/** Polls state.get until the service answers: IPC messages sent before it listens are lost. */
async function waitReady(client: ServiceLink, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < until && !client.closed) {
    try {
      await Promise.race([client.call('state.get', {}), new Promise((_, rej) => setTimeout(() => rej(new Error('no answer yet')), 1000))]);
      return;
    } catch (err) {
      last = err;
    }
  }
  throw new Error(`the service did not answer state.get within ${timeoutMs} ms${last ? ` (${(last as Error).message})` : ''}`);
}

/** A call without an answer after this long fails: the service may be wedged. */
const CALL_TIMEOUT_MS = 120_000;

/**
 * A link to a service that is still running (e.g. kept training after the window closed), or
 * null when there is none or it does not answer; a stale or malformed service.json is ignored.
 */
async function reattachService(
  dataDir: string,
  opts: LinkOptions & { onLog(level: 'info' | 'warn', msg: string): void },
): Promise<{ client: ServiceLink; info: ServiceFile } | null> {
  const live = findLiveService(dataDir);
  if (!live.file) {
    opts.onLog('info', `no service to reattach to (${live.reason})`);
    return null;
  }
  const info = live.file;
  let client: ServiceLink;
  try {
    client = await connectWs({ ...info, timeoutMs: opts.timeoutMs, onInvalid: opts.onInvalid });
  } catch (err) {
    opts.onLog('warn', `service.json names pid ${info.pid} on port ${info.port}, but connecting failed: ${(err as Error).message}`);
    return null;
  }
  try {
    await client.call('state.get', {});
  } catch (err) {
    opts.onLog('warn', `reattach: state.get failed: ${(err as Error).message}`);
    client.close();
    return null;
  }
  return { client, info };
}

/**
 * Reattaches to a live service (service.json) or spawns one. Resolves as soon as the
 * connection exists, so a window closed during start-up can still stop the child; await
 * `ready` before calling.
 */
export async function connectService(opts: ServiceConnectionOptions): Promise<ServiceConnection> {
  const log = opts.onLog ?? (() => undefined);
  const attached = await reattachService(opts.dataDir, { ...linkOptions(opts), onLog: log });
  if (attached) {
    log('info', `reattached to the running service (pid ${attached.info.pid}, port ${attached.info.port})`);
    return reattachedConnection(opts, attached.client, attached.info.pid);
  }
  return spawnedConnection(opts);
}

function linkOptions(opts: ServiceConnectionOptions): LinkOptions {
  return { timeoutMs: CALL_TIMEOUT_MS, onInvalid: (m) => opts.onLog?.('warn', `service-client: ${m}`) };
}

function reattachedConnection(opts: ServiceConnectionOptions, client: ServiceLink, pid: number): ServiceConnection {
  let current: ServiceLink | null = client;
  let fallback: ServiceConnection | null = null;
  let leaving = false;
  client.onAny((e, p) => opts.onEvent?.(e, p));
  opts.onState?.('ready', null);
  // The background service died while we watched it: start our own (it marks the run interrupted).
  client.onClose((reason) => {
    current = null;
    if (leaving) return;
    opts.onState?.('restarting', `Lost the background training service (${reason}); starting a new one.`);
    fallback = spawnedConnection(opts);
    fallback.ready.catch(() => undefined);
  });
  return {
    mode: 'reattached',
    ready: Promise.resolve(),
    client: () => fallback?.client() ?? current,
    pid: () => fallback?.pid() ?? pid,
    async stop(graceMs = 15_000) {
      leaving = true;
      if (fallback) return fallback.stop(graceMs);
      current?.close();
      // Only a service a window left in the background is ours to stop; a `workstation serve`
      // someone started by hand keeps running.
      if (!ownsBackgroundService(opts.dataDir, pid)) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      if (!(await waitForExit(pid, graceMs))) process.kill(pid, 'SIGKILL');
      fs.rmSync(backgroundMarkerPath(opts.dataDir), { force: true });
    },
    detach() {
      leaving = true;
      if (fallback) return fallback.detach();
      current?.close();
    },
  };
}

/** Spawns and supervises the service; returns at once (see `ready`). */
function spawnedConnection(opts: ServiceConnectionOptions): ServiceConnection {
  const { command, args } = serviceLaunchCommand({ nodePath: opts.nodePath, serviceBundle: opts.serviceBundle, dbPath: opts.dbPath, dataDir: opts.dataDir });
  let client: ServiceLink | null = null;
  let firstReady: (() => void) | null = null;
  let firstFailed: ((e: Error) => void) | null = null;
  const ready = new Promise<void>((res, rej) => {
    firstReady = res;
    firstFailed = rej;
  });
  ready.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection
  const supervisor: Supervisor = createSupervisor({
    command,
    args,
    cwd: opts.cwd,
    env: serviceLaunchEnv(opts.env ?? process.env, opts.dataDir),
    detached: true,
    logFile: opts.output === 'pipe' ? null : serviceLogPath(opts.dataDir),
    backoff: opts.backoff,
    onOutput: (line, stream) => opts.onLog?.(stream === 'stderr' ? 'warn' : 'info', `service: ${line}`),
    onState(state, message) {
      if (state !== 'ready') client = null;
      opts.onState?.(state, message);
      if (state === 'ready') firstReady?.();
      if (state === 'failed') firstFailed?.(new Error(message ?? 'the training service failed to start'));
    },
    async onSpawn(child) {
      const c = createIpcClient(child, linkOptions(opts));
      c.onAny((e, p) => opts.onEvent?.(e, p));
      await waitReady(c, opts.readyTimeoutMs ?? 60_000);
      client = c;
    },
  });
  supervisor.start();
  return {
    mode: 'spawned',
    ready,
    client: () => (supervisor.state === 'ready' ? client : null),
    pid: () => supervisor.child?.pid ?? null,
    async stop(graceMs) {
      client?.close();
      await supervisor.stop(graceMs);
    },
    detach() {
      const pid = supervisor.detach();
      if (pid !== null) {
        fs.mkdirSync(opts.dataDir, { recursive: true });
        fs.writeFileSync(backgroundMarkerPath(opts.dataDir), JSON.stringify({ pid, at: new Date().toISOString() }) + '\n');
      }
    },
  };
}
