// WebSocket transport (client side, Node): connects to a running service's `/ws` with its token
// (from <dataDir>/service.json) and exposes the typed ServiceApi. Used by the CLI to hand a
// command to the service that already owns the data dir instead of training beside it.
import WebSocket from 'ws';
import {
  COMMANDS,
  EVENTS,
  EventEnvelopeSchema,
  ResponseEnvelopeSchema,
  type CommandName,
  type CommandParams,
  type CommandResult,
  type EventName,
  type EventPayload,
  type ServiceApi,
} from '../../../src-shared/api/contract';
import { fromWireError, WorkstationError, type WireError } from '../../../src-shared/errors';

export interface WsClient extends ServiceApi {
  close(): void;
}

export function connectWs(opts: { host: string; port: number; token: string; timeoutMs?: number }): Promise<WsClient> {
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const ws = new WebSocket(`ws://${host}:${opts.port}/ws?token=${encodeURIComponent(opts.token)}`, { handshakeTimeout: opts.timeoutMs ?? 5000 });
  let nextId = 1;
  const pending = new Map<number, { command: CommandName; resolve(v: unknown): void; reject(e: unknown): void }>();
  const handlers = new Map<string, Set<(p: unknown) => void>>();
  ws.on('message', (data) => {
    let raw: unknown;
    try {
      raw = JSON.parse(String(data));
    } catch {
      return;
    }
    const ev = EventEnvelopeSchema.safeParse(raw);
    if (ev.success) {
      const payload = EVENTS[ev.data.event as EventName]?.safeParse(ev.data.payload);
      if (payload?.success) for (const h of handlers.get(ev.data.event) ?? []) h(payload.data);
      return;
    }
    const res = ResponseEnvelopeSchema.safeParse(raw);
    if (!res.success) return;
    const p = pending.get(res.data.id);
    if (!p) return;
    pending.delete(res.data.id);
    if (!res.data.ok) return p.reject(fromWireError((res.data.error ?? { name: 'Error', code: 'INTERNAL', message: 'unknown error' }) as WireError));
    const result = COMMANDS[p.command].result.safeParse(res.data.result);
    if (result.success) p.resolve(result.data);
    else p.reject(new WorkstationError('INTERNAL', `${p.command}: response does not match the contract`));
  });
  ws.on('close', () => {
    for (const p of pending.values()) p.reject(new WorkstationError('INTERNAL', `connection to the service closed before it answered ${p.command}`));
    pending.clear();
  });
  const client: WsClient = {
    call<C extends CommandName>(command: C, params: CommandParams<C>): Promise<CommandResult<C>> {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject });
        ws.send(JSON.stringify({ type: 'request', id, command, params }));
      });
    },
    on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void {
      let set = handlers.get(event);
      if (!set) handlers.set(event, (set = new Set()));
      set.add(handler as (p: unknown) => void);
      return () => set.delete(handler as (p: unknown) => void);
    },
    close: () => ws.close(),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => reject(new WorkstationError('UNAUTHORIZED', `the service refused the connection (HTTP ${res.statusCode})`)));
    ws.once('error', (e) => reject(new WorkstationError('NOT_FOUND', `cannot reach the service on port ${opts.port}: ${e.message}`)));
  });
}
