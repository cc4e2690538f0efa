// WebSocket transport (client side, Node): connects to a running service's `/ws` with its token
// (from <dataDir>/service.json) and exposes the typed ServiceApi. Used by the CLI to hand a
// command to the service that already owns the data dir instead of training beside it. The
// envelope logic is the shared RPC client; this file only moves JSON messages.
import WebSocket from 'ws';
import type { ServiceApi } from '../../../src-shared/api/contract';
import { createRpcClient } from '../../../src-shared/api/rpc-client';
import { WorkstationError } from '../../../src-shared/errors';

export interface WsClient extends ServiceApi {
  close(): void;
}

export function connectWs(opts: { host: string; port: number; token: string; timeoutMs?: number }): Promise<WsClient> {
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const ws = new WebSocket(`ws://${host}:${opts.port}/ws?token=${encodeURIComponent(opts.token)}`, { handshakeTimeout: opts.timeoutMs ?? 5000 });
  const rpc = createRpcClient({
    send(msg) {
      // a closed socket would drop the request silently and leave the call waiting forever
      if (ws.readyState !== WebSocket.OPEN) throw new WorkstationError('INTERNAL', `${msg.command}: the connection to the service is closed`);
      ws.send(JSON.stringify(msg));
    },
  });
  ws.on('message', (data) => {
    let raw: unknown;
    try {
      raw = JSON.parse(String(data));
    } catch {
      return;
    }
    rpc.handleMessage(raw);
  });
  ws.on('close', () => rpc.failAll('connection to the service closed before it answered'));
  const client: WsClient = { call: rpc.call, on: rpc.on, close: () => ws.close() };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => reject(new WorkstationError('UNAUTHORIZED', `the service refused the connection (HTTP ${res.statusCode})`)));
    ws.once('error', (e) => reject(new WorkstationError('NOT_FOUND', `cannot reach the service on port ${opts.port}: ${e.message}`)));
  });
}
