// WebSocket transport (package `ws`) on `/ws` of the headless server: the same request/response/
// event envelopes as Node IPC. The HTTP server authenticates the upgrade (token, Host, Origin)
// before a socket reaches this module. On connect the client gets a `service.state` ready event;
// it then calls `state.get` and follows events (a client connecting mid-run sees the live run).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventEnvelope, ResponseEnvelope } from '../../../src-shared/api/contract';
import type { Service } from '../service';
import { dispatchRequest } from './dispatch-request';

export interface WsTransport {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  clients(): number;
  close(): Promise<void>;
}

export function createWsTransport(service: Service): WsTransport {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  wss.on('connection', (ws: WebSocket) => {
    const send = (msg: ResponseEnvelope | EventEnvelope): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    };
    const offEvents = service.onAny((event, payload) => send({ type: 'event', event, payload }));
    send({ type: 'event', event: 'service.state', payload: { state: 'ready', message: null } });
    ws.on('message', (data) => {
      let raw: unknown;
      try {
        raw = JSON.parse(String(data));
      } catch {
        raw = undefined;
      }
      dispatchRequest(service, raw, send);
    });
    ws.on('close', offEvents);
    ws.on('error', offEvents);
  });
  return {
    handleUpgrade(req, socket, head) {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    },
    clients: () => wss.clients.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}
