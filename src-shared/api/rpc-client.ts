// The one client-side implementation of the contract's request/response/event envelopes, shared
// by every transport (Node IPC, WebSocket from Node, Electron main, the browser tab). A transport
// only moves messages: it hands what arrives to `handleMessage` and calls `failAll` when the
// connection ends. Here, at the client boundary, results are checked against COMMANDS, events
// against EVENTS, and wire errors become WorkstationErrors again (code, field and path kept).
// Pure TypeScript: no Node, DOM or Electron APIs (setTimeout exists in all of them).
import { ERROR_CODES, WorkstationError, fromWireError, type ErrorCode } from '../errors';
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
  type RequestEnvelope,
  type ServiceApi,
} from './contract';

export interface RpcTransport {
  /** Sends one request; throws when it cannot (the call then fails at once with that error). */
  send(msg: RequestEnvelope): void;
}

export interface RpcClientOptions {
  /** a call without an answer after this long fails (the service may be wedged); none by default */
  timeoutMs?: number;
  /** told about each message dropped at the boundary (malformed envelope, unknown event, invalid payload) */
  onInvalid?(message: string): void;
}

export type AnyEventHandler = (event: EventName, payload: unknown) => void;

export interface RpcClient extends ServiceApi {
  /** every validated event, for forwarding (Electron main → renderer) */
  onAny(handler: AnyEventHandler): () => void;
  /** feed one decoded message from the transport (a response or an event envelope) */
  handleMessage(raw: unknown): void;
  /** rejects every call still waiting with `<command>: <reason>` (the connection is gone) */
  failAll(reason: string): void;
  /** calls sent and not answered yet */
  readonly pendingCount: number;
}

function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(COMMANDS, name);
}

function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(EVENTS, name);
}

/** A result checked against the contract: a drift between service and client fails loudly here. */
export function parseResult<C extends CommandName>(command: C, raw: unknown): CommandResult<C> {
  const parsed = COMMANDS[command].result.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WorkstationError('INTERNAL', `${command}: result does not match the contract at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data as CommandResult<C>;
}

/** A wire error (or anything shaped like one) as a WorkstationError; unknown codes become INTERNAL. */
export function errorFromWire(
  raw: { name?: unknown; code?: unknown; message?: unknown; field?: unknown; path?: unknown },
  fallbackMessage: string,
): WorkstationError {
  const message = typeof raw.message === 'string' ? raw.message : fallbackMessage;
  const known = typeof raw.code === 'string' && (ERROR_CODES as readonly string[]).includes(raw.code);
  return fromWireError({
    name: typeof raw.name === 'string' ? raw.name : 'WorkstationError',
    code: known ? (raw.code as ErrorCode) : 'INTERNAL',
    message,
    field: typeof raw.field === 'string' ? raw.field : undefined,
    path: typeof raw.path === 'string' ? raw.path : undefined,
  });
}

export interface EventHub {
  on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void;
  onAny(handler: AnyEventHandler): () => void;
  /** validates the payload against EVENTS and delivers it; anything invalid is reported and dropped */
  emit(event: string, payload: unknown): void;
}

/**
 * Per-event handler sets fed with validated payloads (also used where events arrive without envelopes).
 * With `isolate`, a handler that throws is reported there and the other handlers still run (the
 * service must not let one listener's bug break training).
 */
export function createEventHub(onInvalid: (message: string) => void = () => undefined, isolate?: (error: unknown) => void): EventHub {
  const handlers = new Map<EventName, Set<(p: unknown) => void>>();
  const anyHandlers = new Set<AnyEventHandler>();
  return {
    on(event, handler) {
      let set = handlers.get(event);
      if (!set) handlers.set(event, (set = new Set()));
      const h = handler as (p: unknown) => void;
      set.add(h);
      return () => void set.delete(h);
    },
    onAny(handler) {
      anyHandlers.add(handler);
      return () => void anyHandlers.delete(handler);
    },
    emit(event, payload) {
      if (!isEventName(event)) return onInvalid(`unknown event ${JSON.stringify(event)} dropped`);
      const parsed = EVENTS[event].safeParse(payload);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return onInvalid(`invalid ${event} payload dropped (${issue?.path.join('.') || '(root)'}: ${issue?.message})`);
      }
      const call = (fn: () => void): void => {
        if (!isolate) return fn();
        try {
          fn();
        } catch (e) {
          isolate(e);
        }
      };
      for (const h of handlers.get(event) ?? []) call(() => h(parsed.data));
      for (const h of anyHandlers) call(() => h(event, parsed.data));
    },
  };
}

interface Pending {
  command: CommandName;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer: ReturnType<typeof setTimeout> | null;
}

export function createRpcClient(transport: RpcTransport, opts: RpcClientOptions = {}): RpcClient {
  const onInvalid = opts.onInvalid ?? (() => undefined);
  const events = createEventHub(onInvalid);
  const pending = new Map<number, Pending>();
  let nextId = 1;

  const settle = (id: number): Pending | undefined => {
    const p = pending.get(id);
    if (!p) return undefined;
    pending.delete(id);
    if (p.timer !== null) clearTimeout(p.timer);
    return p;
  };

  const handleResponse = (raw: unknown): void => {
    const res = ResponseEnvelopeSchema.safeParse(raw);
    if (!res.success) return onInvalid('malformed response dropped');
    // No pending call: an answer after a timeout, or to a malformed request (id -1).
    const p = settle(res.data.id);
    if (!p) return;
    if (!res.data.ok) return p.reject(errorFromWire(res.data.error ?? {}, `${p.command}: the service reported an error without details`));
    try {
      p.resolve(parseResult(p.command, res.data.result));
    } catch (err) {
      p.reject(err);
    }
  };

  return {
    call<C extends CommandName>(command: C, params: CommandParams<C>): Promise<CommandResult<C>> {
      if (!isCommandName(command))
        return Promise.reject(new WorkstationError('INVALID_COMMAND', `unknown command ${JSON.stringify(command)}`, { field: 'command' }));
      const id = nextId++;
      return new Promise<CommandResult<C>>((resolve, reject) => {
        const timer =
          opts.timeoutMs === undefined
            ? null
            : setTimeout(() => {
                if (settle(id)) reject(new WorkstationError('INTERNAL', `${command}: no answer from the training service after ${opts.timeoutMs} ms`));
              }, opts.timeoutMs);
        pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer });
        try {
          transport.send({ type: 'request', id, command, params: params ?? {} });
        } catch (err) {
          settle(id);
          reject(
            err instanceof WorkstationError
              ? err
              : new WorkstationError('INTERNAL', `${command}: could not reach the training service: ${(err as Error)?.message ?? String(err)}`),
          );
        }
      });
    },
    on: events.on,
    onAny: events.onAny,
    handleMessage(raw) {
      const type = (raw as { type?: unknown } | null)?.type;
      if (type === 'response') return handleResponse(raw);
      if (type === 'event') {
        const ev = EventEnvelopeSchema.safeParse(raw);
        if (!ev.success) return onInvalid('malformed event dropped');
        return events.emit(ev.data.event, ev.data.payload);
      }
      onInvalid(`message of unknown type ${JSON.stringify(type)} dropped`);
    },
    failAll(reason) {
      for (const id of [...pending.keys()]) {
        const p = settle(id);
        p?.reject(new WorkstationError('INTERNAL', `${p.command}: ${reason}`));
      }
    },
    get pendingCount() {
      return pending.size;
    },
  };
}
