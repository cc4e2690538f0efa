// The renderer's only door to the app (window.workstation): a raw message transport for the
// service API's envelopes (the renderer runs the shared RPC client over it, as over WebSocket)
// plus the save dialog and the folder picker. Runs sandboxed (CommonJS, `electron` only) and
// exposes fixed channels only, never ipcRenderer or its events; main checks the sender and
// validates every request, so this stays a thin relay.
import { contextBridge, ipcRenderer } from 'electron';
import { IPC_CHANNELS } from '../ipc-channels';

type Listener = (msg: unknown) => void;
const listeners = new Set<Listener>();

ipcRenderer.on(IPC_CHANNELS.message, (_event, msg: unknown) => {
  for (const l of listeners) l(msg);
});

contextBridge.exposeInMainWorld('workstation', {
  platform: 'electron' as const,
  send: (msg: unknown): void => ipcRenderer.send(IPC_CHANNELS.request, msg),
  onMessage(listener: Listener): () => void {
    if (typeof listener !== 'function') throw new TypeError('onMessage(listener: function)');
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  },
  saveFile: (defaultName: string, content: string): Promise<string | null> => ipcRenderer.invoke(IPC_CHANNELS.saveFile, defaultName, content),
  pickFolder: (title?: string): Promise<string | null> => ipcRenderer.invoke(IPC_CHANNELS.pickFolder, title ?? null),
});
