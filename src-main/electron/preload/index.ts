// The renderer's only door to the app (window.workstation): calls and events of the service
// API plus the save dialog and the folder picker. Runs sandboxed (CommonJS, `electron` only); main validates every
// call, so this stays a thin relay.
import { contextBridge, ipcRenderer } from 'electron';
import { IPC_CHANNELS } from '../ipc-channels';

type Handler = (payload: unknown) => void;
const listeners = new Map<string, Set<Handler>>();

ipcRenderer.on(IPC_CHANNELS.event, (_event, name: string, payload: unknown) => {
  for (const h of listeners.get(name) ?? []) h(payload);
});

contextBridge.exposeInMainWorld('workstation', {
  platform: 'electron' as const,
  call: (command: string, params: unknown): Promise<unknown> => ipcRenderer.invoke(IPC_CHANNELS.call, command, params),
  on(event: string, handler: Handler): () => void {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  },
  saveFile: (defaultName: string, content: string): Promise<string | null> => ipcRenderer.invoke(IPC_CHANNELS.saveFile, defaultName, content),
  pickFolder: (title?: string): Promise<string | null> => ipcRenderer.invoke(IPC_CHANNELS.pickFolder, title ?? null),
});
