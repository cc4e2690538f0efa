// The one place the renderer talks to the training service. The contract's request/response/
// event envelopes travel over Electron IPC (the preload bridge, `window.workstation`, a raw
// message transport) or, in a browser tab (`workstation serve`), a WebSocket to /ws; over
// either, the shared RPC client builds the typed API. Everything else in the renderer sees only
// `ClientApi`.
import type { RequestEnvelope, ServiceApi } from '../../src-shared/api/contract';
import { createRpcClient, errorFromWire } from '../../src-shared/api/rpc-client';
import { WorkstationError, ERROR_CODES } from '../../src-shared/errors';
import type { WireError } from '../../src-shared/errors';

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface ClientApi extends ServiceApi {
  readonly platform: 'electron' | 'browser';
  /** Saves text where the user chooses (Electron dialog) or as a browser download; the saved name, or null when cancelled. */
  saveFile(defaultName: string, content: string): Promise<string | null>;
  /**
   * Opens the native folder picker (Electron only; null in a browser tab, where paths are typed:
   * a page cannot see the service machine's folders). Resolves to the folder, or null when cancelled.
   */
  readonly pickFolder: ((title?: string) => Promise<string | null>) | null;
  /** Transport state: called at once with the current state, then on each change. */
  onConnection(handler: (state: ConnectionState, detail: string | null) => void): () => void;
  /**
   * An <img> source for an image inside a dataset root: the `/api/file` endpoint in a browser tab,
   * a data: URL from `dataset.file` in Electron (no HTTP server there); same allow-list either way.
   */
  imageSrc(path: string): Promise<string>;
}

/** What Electron's preload exposes through contextBridge: envelopes out and in, and the dialogs. */
interface PreloadBridge {
  platform: 'electron';
  send(msg: RequestEnvelope): void;
  onMessage(listener: (msg: unknown) => void): () => void;
  saveFile(defaultName: string, content: string): Promise<string | null>;
  pickFolder(title?: string): Promise<string | null>;
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
  if (typeof obj.code === 'string' && (ERROR_CODES as readonly string[]).includes(obj.code)) return errorFromWire(obj, String(e));
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

/** Dropped events are a drift between service and UI: say so in the console. */
const warnInvalid = (message: string): void => console.warn(`api: ${message}`);

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

/** The transport state both clients report through `onConnection`. */
/** What a browser tab whose token the service no longer accepts says (instead of "Reconnecting…" forever). */
export const STALE_TOKEN =
  "This page's access token is no longer valid: the service was restarted with a new one. Open the URL that `workstation serve` printed this time (it carries the new token), or run `workstation serve` again.";

function createConnectionState(initial: ConnectionState): {
  set(s: ConnectionState, d: string | null): void;
  detail(): string | null;
  onConnection: ClientApi['onConnection'];
} {
  let state = initial;
  let detail: string | null = null;
  const handlers = new Set<(s: ConnectionState, d: string | null) => void>();
  return {
    detail: () => detail,
    set(s, d) {
      state = s;
      detail = d;
      for (const h of handlers) h(s, d);
    },
    onConnection(handler) {
      handlers.add(handler);
      handler(state, detail);
      return () => handlers.delete(handler);
    },
  };
}

function createElectronApi(bridge: PreloadBridge): ClientApi {
  const rpc = createRpcClient({ send: (msg) => bridge.send(msg) }, { onInvalid: warnInvalid });
  bridge.onMessage(rpc.handleMessage);
  const conn = createConnectionState('open');
  // Main stays up while the service (re)starts: its service.state events are the connection's state.
  rpc.on('service.state', (s) => conn.set(s.state === 'ready' ? 'open' : s.state === 'failed' ? 'closed' : 'connecting', s.message));
  return {
    platform: 'electron',
    call: rpc.call,
    on: rpc.on,
    saveFile: (name, content) => bridge.saveFile(name, content),
    async pickFolder(title) {
      try {
        return await bridge.pickFolder(title);
      } catch (e) {
        throw toWorkstationError(e);
      }
    },
    onConnection: conn.onConnection,
    async imageSrc(path) {
      const f = await rpc.call('dataset.file', { path });
      return `data:${f.contentType};base64,${f.base64}`;
    },
  };
}

function createWebSocketApi(url: string): ClientApi {
  // Requests made while (re)connecting wait here and go out once the socket opens.
  const outbox: string[] = [];
  const conn = createConnectionState('connecting');
  let ws: WebSocket | null = null;
  let attempt = 0;
  const rpc = createRpcClient(
    {
      send(msg) {
        const text = JSON.stringify(msg);
        if (ws && ws.readyState === WebSocket.OPEN) ws.send(text);
        else outbox.push(text);
      },
    },
    { onInvalid: warnInvalid },
  );

  const connect = () => {
    const socket = new WebSocket(url);
    ws = socket;
    socket.onopen = () => {
      attempt = 0;
      for (const msg of outbox.splice(0)) socket.send(msg);
      conn.set('open', null);
    };
    socket.onmessage = (ev) => {
      let msg: unknown;
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      rpc.handleMessage(msg);
    };
    socket.onclose = () => {
      if (ws !== socket) return;
      ws = null;
      // The calls still waiting have failed: drop their unsent requests too, so a reconnect
      // does not run a command the UI already reported as failed.
      outbox.length = 0;
      rpc.failAll('connection to the service was lost');
      // Backoff: 0.5 s, 1 s, 2 s … capped at 10 s, so a restarting service is picked up quickly.
      const delay = Math.min(10_000, 500 * 2 ** attempt++);
      if (conn.detail() !== STALE_TOKEN) conn.set('closed', `Reconnecting in ${Math.round(delay / 100) / 10} s…`);
      // A browser never sees why an upgrade was refused (the close code is 1006 either way): ask
      // over HTTP. 401 = this page's token no longer counts (the service restarted with a new one).
      void fetch('/api/ping', { method: 'HEAD', credentials: 'same-origin', cache: 'no-store' }).then(
        (r) => {
          if (r.status === 401 && ws === null) conn.set('closed', STALE_TOKEN);
        },
        () => undefined, // not reachable: the plain reconnect message stays
      );
      setTimeout(() => {
        if (conn.detail() !== STALE_TOKEN) conn.set('connecting', null);
        connect();
      }, delay);
    };
  };
  connect();

  return {
    platform: 'browser',
    call: rpc.call,
    on: rpc.on,
    saveFile: async (name, content) => browserDownload(name, content),
    pickFolder: null,
    onConnection: conn.onConnection,
    // same origin: the page's token cookie goes with it
    imageSrc: async (path) => `/api/file?path=${encodeURIComponent(path)}`,
  };
}

export function createApi(): ClientApi {
  if (typeof window !== 'undefined' && window.workstation?.platform === 'electron') return createElectronApi(window.workstation);
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return createWebSocketApi(`${proto}//${location.host}/ws`);
}

/** The app-wide client (one connection per page). */
export const api: ClientApi = createApi();
