// The one place the renderer talks to the training service. In Electron the preload bridge
// (`window.workstation`) carries the typed API over IPC; in a browser tab (`workstation serve`)
// a WebSocket to /ws carries the same request/response/event envelopes. Everything else in the
// renderer sees only `ClientApi`.
import { COMMANDS, EVENTS, EVENT_NAMES, EventEnvelopeSchema, ResponseEnvelopeSchema } from '../../src-shared/api/contract';
import type { CommandName, CommandParams, CommandResult, EventName, EventPayload, ServiceApi } from '../../src-shared/api/contract';
import { WorkstationError, fromWireError, ERROR_CODES } from '../../src-shared/errors';
import type { WireError } from '../../src-shared/errors';

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface ClientApi extends ServiceApi {
  readonly platform: 'electron' | 'browser';
  /** Saves text where the user chooses (Electron dialog) or as a browser download; the saved name, or null when cancelled. */
  saveFile(defaultName: string, content: string): Promise<string | null>;
  /** Transport state: called at once with the current state, then on each change. */
  onConnection(handler: (state: ConnectionState, detail: string | null) => void): () => void;
}

/** What Electron's preload exposes through contextBridge. */
interface PreloadBridge {
  platform: 'electron';
  call(command: string, params: unknown): Promise<unknown>;
  on(event: string, handler: (payload: unknown) => void): () => void;
  saveFile(defaultName: string, content: string): Promise<string | null>;
}

declare global {
  interface Window {
    workstation?: PreloadBridge;
  }
}

/** Errors lose their class crossing IPC / JSON; rebuild a WorkstationError with code and field. */
export function toWorkstationError(e: unknown): WorkstationError {
  if (e instanceof WorkstationError) return e;
  const obj = (typeof e === 'object' && e !== null ? e : {}) as Partial<WireError> & { message?: string };
  if (typeof obj.code === 'string' && (ERROR_CODES as readonly string[]).includes(obj.code)) {
    return fromWireError({
      name: obj.name ?? 'WorkstationError',
      code: obj.code,
      message: obj.message ?? String(e),
      field: obj.field,
      path: obj.path,
    });
  }
  const message = typeof obj.message === 'string' ? obj.message : String(e);
  // Electron's ipcRenderer.invoke wraps remote errors as "Error invoking remote method 'x': <message>".
  const json = message.match(/\{"name".*\}\s*$/);
  if (json) {
    try {
      return toWorkstationError(JSON.parse(json[0]));
    } catch {
      /* not a wire error */
    }
  }
  return new WorkstationError('INTERNAL', message.replace(/^Error invoking remote method '[^']+': (Error: )?/, ''));
}

/** Results are checked against the contract: a drift between service and UI fails loudly here. */
function checkResult<C extends CommandName>(command: C, raw: unknown): CommandResult<C> {
  const parsed = COMMANDS[command].result.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WorkstationError('INTERNAL', `${command}: unexpected result at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data as CommandResult<C>;
}

type AnyHandler = (payload: unknown) => void;

function createEmitter() {
  const handlers = new Map<string, Set<AnyHandler>>();
  return {
    on(event: string, handler: AnyHandler): () => void {
      let set = handlers.get(event);
      if (!set) handlers.set(event, (set = new Set()));
      set.add(handler);
      return () => set.delete(handler);
    },
    emit(event: string, payload: unknown): void {
      const schema = EVENTS[event as EventName];
      if (!schema) return;
      const parsed = schema.safeParse(payload);
      if (!parsed.success) {
        console.warn(`ignoring malformed ${event} event`, parsed.error.issues[0]);
        return;
      }
      for (const h of handlers.get(event) ?? []) h(parsed.data);
    },
  };
}

function browserDownload(name: string, content: string): string {
  const url = URL.createObjectURL(new Blob([content], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

function createElectronApi(bridge: PreloadBridge): ClientApi {
  const emitter = createEmitter();
  // The bridge's own subscription per event; payloads are validated like any other transport's.
  for (const name of EVENT_NAMES) bridge.on(name, (p) => emitter.emit(name, p));
  let conn: ConnectionState = 'open';
  let detail: string | null = null;
  const connHandlers = new Set<(s: ConnectionState, d: string | null) => void>();
  emitter.on('service.state', (p) => {
    const s = p as EventPayload<'service.state'>;
    conn = s.state === 'ready' ? 'open' : s.state === 'failed' ? 'closed' : 'connecting';
    detail = s.message;
    for (const h of connHandlers) h(conn, detail);
  });
  return {
    platform: 'electron',
    async call<C extends CommandName>(command: C, params: CommandParams<C>): Promise<CommandResult<C>> {
      let raw: unknown;
      try {
        raw = await bridge.call(command, params);
      } catch (e) {
        throw toWorkstationError(e);
      }
      return checkResult(command, raw);
    },
    on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void) {
      return emitter.on(event, handler as AnyHandler);
    },
    saveFile: (name, content) => bridge.saveFile(name, content),
    onConnection(handler) {
      connHandlers.add(handler);
      handler(conn, detail);
      return () => connHandlers.delete(handler);
    },
  };
}

interface Pending {
  command: CommandName;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

function createWebSocketApi(url: string): ClientApi {
  const emitter = createEmitter();
  const pending = new Map<number, Pending>();
  const outbox: string[] = [];
  const connHandlers = new Set<(s: ConnectionState, d: string | null) => void>();
  let nextId = 1;
  let ws: WebSocket | null = null;
  let state: ConnectionState = 'connecting';
  let detail: string | null = null;
  let attempt = 0;

  const setState = (s: ConnectionState, d: string | null) => {
    state = s;
    detail = d;
    for (const h of connHandlers) h(s, d);
  };

  const connect = () => {
    const socket = new WebSocket(url);
    ws = socket;
    socket.onopen = () => {
      attempt = 0;
      for (const msg of outbox.splice(0)) socket.send(msg);
      setState('open', null);
    };
    socket.onmessage = (ev) => {
      let msg: unknown;
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      const type = (msg as { type?: unknown }).type;
      if (type === 'event') {
        const env = EventEnvelopeSchema.safeParse(msg);
        if (env.success) emitter.emit(env.data.event, env.data.payload);
      } else if (type === 'response') {
        const env = ResponseEnvelopeSchema.safeParse(msg);
        if (!env.success) return;
        const p = pending.get(env.data.id);
        if (!p) return;
        pending.delete(env.data.id);
        if (env.data.ok) {
          try {
            p.resolve(checkResult(p.command, env.data.result));
          } catch (e) {
            p.reject(e);
          }
        } else p.reject(toWorkstationError(env.data.error ?? { message: `${p.command} failed` }));
      }
    };
    socket.onclose = (ev) => {
      if (ws !== socket) return;
      ws = null;
      for (const [id, p] of pending) {
        pending.delete(id);
        p.reject(new WorkstationError('INTERNAL', `${p.command}: connection to the service was lost`));
      }
      // Backoff: 0.5 s, 1 s, 2 s … capped at 10 s, so a restarting service is picked up quickly.
      const delay = Math.min(10_000, 500 * 2 ** attempt++);
      const why =
        ev.code === 1008 || ev.code === 4401
          ? 'The service refused the connection (token missing or expired: open the URL printed by `workstation serve`).'
          : null;
      setState('closed', why ?? `Reconnecting in ${Math.round(delay / 100) / 10} s…`);
      setTimeout(() => {
        setState('connecting', null);
        connect();
      }, delay);
    };
  };
  connect();

  return {
    platform: 'browser',
    call<C extends CommandName>(command: C, params: CommandParams<C>): Promise<CommandResult<C>> {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, {
          command,
          resolve: resolve as (v: unknown) => void,
          reject,
        });
        const msg = JSON.stringify({ type: 'request', id, command, params });
        if (ws && ws.readyState === WebSocket.OPEN) ws.send(msg);
        else outbox.push(msg);
      });
    },
    on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void) {
      return emitter.on(event, handler as AnyHandler);
    },
    saveFile: async (name, content) => browserDownload(name, content),
    onConnection(handler) {
      connHandlers.add(handler);
      handler(state, detail);
      return () => connHandlers.delete(handler);
    },
  };
}

export function createApi(): ClientApi {
  if (typeof window !== 'undefined' && window.workstation?.platform === 'electron') return createElectronApi(window.workstation);
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return createWebSocketApi(`${proto}//${location.host}/ws`);
}

/** The app-wide client (one connection per page). */
export const api: ClientApi = createApi();
