// The typed client Electron main uses to talk to the training service, over either transport:
// Node IPC to a child it spawned, or the service's WebSocket when it reattaches to a service
// that kept training after the window closed (<dataDir>/service.json names it). Plain Node.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import type { CommandName, CommandParams, CommandResult, EventName, ServiceApi } from '../../src-shared/api/contract';
import { createRpcClient } from '../../src-shared/api/rpc-client';
import { WorkstationError } from '../../src-shared/errors';

/** A message pipe to the service (both transports carry the contract's envelopes). */
export interface Transport {
  send(msg: unknown): void;
  onMessage(cb: (msg: unknown) => void): void;
  onClose(cb: (reason: string) => void): void;
  close(): void;
}

export interface ServiceClient extends ServiceApi {
  /** raw event stream (already validated), for forwarding to the renderer */
  onAny(handler: (event: EventName, payload: unknown) => void): () => void;
  onClose(handler: (reason: string) => void): () => void;
  close(): void;
  readonly closed: boolean;
}

export interface ClientOptions {
  /** a call without an answer after this long fails (the service may be wedged) */
  timeoutMs?: number;
  onLog?(level: 'warn' | 'error', msg: string): void;
}

/** The shared RPC client over one transport, plus the connection's end (which is final). */
export function createServiceClient(transport: Transport, opts: ClientOptions = {}): ServiceClient {
  const rpc = createRpcClient(transport, { timeoutMs: opts.timeoutMs ?? 120_000, onInvalid: (m) => opts.onLog?.('warn', `service-client: ${m}`) });
  let closed = false;
  const closeHandlers = new Set<(reason: string) => void>();
  transport.onMessage(rpc.handleMessage);
  transport.onClose((reason) => {
    if (closed) return;
    closed = true;
    rpc.failAll(`the training service went away (${reason})`);
    for (const h of closeHandlers) h(reason);
  });

  return {
    call<C extends CommandName>(command: C, params: CommandParams<C>): Promise<CommandResult<C>> {
      if (closed) return Promise.reject(new WorkstationError('INTERNAL', `the training service is not connected (${command})`));
      return rpc.call(command, params);
    },
    on: rpc.on,
    onAny: rpc.onAny,
    onClose(handler) {
      closeHandlers.add(handler);
      return () => closeHandlers.delete(handler);
    },
    close() {
      transport.close();
    },
    get closed() {
      return closed;
    },
  };
}

/** Close callbacks that run once, for whichever end of the connection is noticed first. */
function createCloseNotifier(): { add(cb: (reason: string) => void): void; fire(reason: string): void } {
  const cbs: ((reason: string) => void)[] = [];
  let done = false;
  return {
    add: (cb) => void cbs.push(cb),
    fire(reason) {
      if (done) return;
      done = true;
      for (const cb of cbs) cb(reason);
    },
  };
}

/** Node IPC to a child spawned with an 'ipc' stdio slot. */
export function createIpcTransport(child: ChildProcess): Transport {
  const { add: onClose, fire } = createCloseNotifier();
  child.once('disconnect', () => fire('IPC channel closed'));
  child.once('exit', (code, signal) => fire(signal ? `killed by ${signal}` : `exit code ${code}`));
  return {
    send(msg) {
      if (!child.connected) throw new Error('IPC channel is closed');
      child.send(msg as object);
    },
    onMessage(cb) {
      child.on('message', cb);
    },
    onClose,
    close() {
      if (child.connected) child.disconnect();
      fire('closed by client');
    },
  };
}

/** What a running service writes to <dataDir>/service.json so clients can find it. */
export interface ServiceInfo {
  pid: number;
  port: number;
  token: string;
  host?: string;
}

export function serviceInfoPath(dataDir: string): string {
  return path.join(dataDir, 'service.json');
}

export function readServiceInfo(dataDir: string): ServiceInfo | null {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(serviceInfoPath(dataDir), 'utf8'));
  } catch {
    return null;
  }
  const r = raw as Partial<ServiceInfo> | null;
  if (!r || !Number.isInteger(r.pid) || !Number.isInteger(r.port) || typeof r.token !== 'string' || !r.token) return null;
  return { pid: r.pid as number, port: r.port as number, token: r.token, ...(typeof r.host === 'string' ? { host: r.host } : {}) };
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** ws://host:port/ws?token=… as the service's WebSocket transport expects it. */
export function serviceWebSocketUrl(info: ServiceInfo): string {
  const host = info.host && info.host !== '0.0.0.0' && info.host !== '::' ? info.host : '127.0.0.1';
  const h = host.includes(':') ? `[${host}]` : host;
  return `ws://${h}:${info.port}/ws?token=${encodeURIComponent(info.token)}`;
}

export function createWebSocketTransport(url: string, opts: { origin?: string; connectTimeoutMs?: number } = {}): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    // No Origin by default: the service only checks it when a browser sends one.
    if (opts.origin) headers.origin = opts.origin;
    const ws = new WebSocket(url, { headers, handshakeTimeout: opts.connectTimeoutMs ?? 5000 });
    const msgCbs: ((m: unknown) => void)[] = [];
    const { add: onClose, fire } = createCloseNotifier();
    ws.on('message', (data) => {
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return;
      }
      for (const cb of msgCbs) cb(msg);
    });
    ws.once('open', () =>
      resolve({
        send(msg) {
          if (ws.readyState !== WebSocket.OPEN) throw new Error('WebSocket is closed');
          ws.send(JSON.stringify(msg));
        },
        onMessage(cb) {
          msgCbs.push(cb);
        },
        onClose,
        close() {
          ws.close();
          fire('closed by client');
        },
      }),
    );
    ws.once('error', (err) => {
      reject(err);
      fire(`WebSocket error: ${err.message}`);
    });
    ws.once('close', (code) => fire(`WebSocket closed (${code})`));
  });
}

/**
 * Reattach to a service that is still running (e.g. kept training after the window closed).
 * Returns null when there is none, or it does not answer; a stale service.json is ignored.
 */
export async function reattachService(
  dataDir: string,
  opts: ClientOptions & { connectTimeoutMs?: number } = {},
): Promise<{ client: ServiceClient; info: ServiceInfo } | null> {
  const info = readServiceInfo(dataDir);
  if (!info || !isProcessAlive(info.pid)) return null;
  let transport: Transport;
  try {
    transport = await createWebSocketTransport(serviceWebSocketUrl(info), { connectTimeoutMs: opts.connectTimeoutMs });
  } catch (err) {
    opts.onLog?.('warn', `service.json names pid ${info.pid} on port ${info.port}, but connecting failed: ${(err as Error).message}`);
    return null;
  }
  const client = createServiceClient(transport, opts);
  try {
    await client.call('state.get', {});
  } catch (err) {
    opts.onLog?.('warn', `reattach: state.get failed: ${(err as Error).message}`);
    client.close();
    return null;
  }
  return { client, info };
}
