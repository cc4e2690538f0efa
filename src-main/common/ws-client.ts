// The Node WebSocket client for a running service's `/ws` (token from <dataDir>/service.json):
// Electron main reattaches to a service that kept training after the window closed, the CLI
// hands a command to the service that already owns the data dir, tests watch a live run. This
// file only moves JSON messages; the envelope logic is the shared link (service-link.ts).
import WebSocket from 'ws';
import { WorkstationError } from '../../src-shared/errors';
import { createCloseNotifier, createServiceLink, type LinkOptions, type MessageTransport, type ServiceLink } from './service-link';

export interface WsTarget {
  host: string;
  port: number;
  token: string;
}

/** ws://host:port/ws?token=… as the service's WebSocket transport expects it; a wildcard bind is reached on loopback. */
export function serviceWebSocketUrl(t: WsTarget): string {
  const host = t.host && t.host !== '0.0.0.0' && t.host !== '::' ? t.host : '127.0.0.1';
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `ws://${h}:${t.port}/ws?token=${encodeURIComponent(t.token)}`;
}

/**
 * Opens the socket; resolves once it is open. A refused handshake rejects with UNAUTHORIZED
 * (the HTTP status in the message), an unreachable port with NOT_FOUND.
 */
export function openWebSocketTransport(url: string, opts: { connectTimeoutMs?: number } = {}): Promise<MessageTransport> {
  // No Origin header: the service only checks it when a browser sends one.
  const ws = new WebSocket(url, { handshakeTimeout: opts.connectTimeoutMs ?? 5000 });
  const where = new URL(url).host;
  const msgCbs: ((m: unknown) => void)[] = [];
  const { add: onClose, fire } = createCloseNotifier();
  ws.on('message', (data) => {
    let msg: unknown;
    try {
      msg = JSON.parse(String(data));
    } catch {
      return;
    }
    for (const cb of msgCbs) cb(msg);
  });
  ws.on('close', (code) => fire(`WebSocket closed (${code})`));
  const transport: MessageTransport = {
    send(msg) {
      // a closed socket would drop the request silently and leave the call waiting forever
      if (ws.readyState !== WebSocket.OPEN) throw new WorkstationError('INTERNAL', `${msg.command}: the connection to the service is closed`);
      ws.send(JSON.stringify(msg));
    },
    onMessage: (cb) => void msgCbs.push(cb),
    onClose,
    close() {
      ws.close();
      fire('closed by client');
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(transport));
    ws.once('unexpected-response', (_req, res) => {
      reject(new WorkstationError('UNAUTHORIZED', `the service on ${where} refused the connection (HTTP ${res.statusCode})`));
      ws.terminate();
    });
    // kept for the socket's whole life: an 'error' without a listener would crash the process
    ws.on('error', (err) => {
      reject(new WorkstationError('NOT_FOUND', `cannot reach the service on ${where}: ${err.message}`));
      fire(`WebSocket error: ${err.message}`);
    });
  });
}

/** A link to the service named by `target` (host, port, token as service.json has them). */
export async function connectWs(target: WsTarget & LinkOptions & { connectTimeoutMs?: number }): Promise<ServiceLink> {
  const transport = await openWebSocketTransport(serviceWebSocketUrl(target), { connectTimeoutMs: target.connectTimeoutMs });
  return createServiceLink(transport, { timeoutMs: target.timeoutMs, onInvalid: target.onInvalid });
}
