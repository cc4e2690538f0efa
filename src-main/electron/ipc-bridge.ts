// Relays the service API's envelopes between the renderer (its preload transport) and the
// service client: each request is checked and answered by renderer-relay.ts (errors go back in
// their wire form, code + field kept), service events are pushed to the window as event
// envelopes. Also the save dialog for CSV export and the folder picker for the dataset root.
import fs from 'node:fs/promises';
import path from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, type IpcMainEvent } from 'electron';
import type { EventEnvelope, EventName } from '../../src-shared/api/contract';
import { WorkstationError, toWireError } from '../../src-shared/errors';
import type { ServiceLink } from '../common/service-link';
import { folderDialogOptions, pickedFolder } from './folder-dialog';
import { IPC_CHANNELS } from './ipc-channels';
import { checkSender, relayRendererRequest } from './renderer-relay';

export interface IpcBridgeOptions {
  client(): ServiceLink | null;
  window(): BrowserWindow | null;
  /** origins allowed to call (the app:// origin, or the dev server) */
  appOrigin: string;
}

/** Errors cross ipcRenderer.invoke only as a message: carry the wire error as JSON in it. */
function wireFailure(err: unknown): Error {
  return new Error(JSON.stringify(toWireError(err)));
}

export function registerIpcBridge(opts: IpcBridgeOptions): { forward(event: EventName, payload: unknown): void; dispose(): void } {
  const onRequest = (event: IpcMainEvent, raw: unknown): void => {
    relayRendererRequest(raw, { senderUrl: event.senderFrame?.url ?? '', appOrigin: opts.appOrigin, client: opts.client() }, (msg) => {
      if (!event.sender.isDestroyed()) event.reply(IPC_CHANNELS.message, msg);
    });
  };
  ipcMain.on(IPC_CHANNELS.request, onRequest);

  ipcMain.handle(IPC_CHANNELS.saveFile, async (event, defaultName: unknown, content: unknown) => {
    try {
      checkSender(event.senderFrame?.url ?? '', opts.appOrigin);
      if (typeof defaultName !== 'string' || typeof content !== 'string')
        throw new WorkstationError('INVALID_ARGUMENT', 'saveFile(defaultName: string, content: string)', { field: 'defaultName' });
      const win = opts.window();
      const dialogOpts = {
        title: 'Export CSV',
        defaultPath: path.join(app.getPath('downloads'), path.basename(defaultName) || 'export.csv'),
        filters: [
          { name: 'CSV', extensions: ['csv'] },
          { name: 'All files', extensions: ['*'] },
        ],
      };
      const res = win ? await dialog.showSaveDialog(win, dialogOpts) : await dialog.showSaveDialog(dialogOpts);
      if (res.canceled || !res.filePath) return null;
      await fs.writeFile(res.filePath, content, 'utf8');
      return res.filePath;
    } catch (err) {
      throw wireFailure(err);
    }
  });

  ipcMain.handle(IPC_CHANNELS.pickFolder, async (event, title: unknown) => {
    try {
      checkSender(event.senderFrame?.url ?? '', opts.appOrigin);
      const dialogOpts = folderDialogOptions(title);
      const win = opts.window();
      return pickedFolder(win ? await dialog.showOpenDialog(win, dialogOpts) : await dialog.showOpenDialog(dialogOpts));
    } catch (err) {
      throw wireFailure(err);
    }
  });

  return {
    forward(event, payload) {
      const win = opts.window();
      const msg: EventEnvelope = { type: 'event', event, payload };
      if (win && !win.isDestroyed()) win.webContents.send(IPC_CHANNELS.message, msg);
    },
    dispose() {
      ipcMain.removeListener(IPC_CHANNELS.request, onRequest);
      ipcMain.removeHandler(IPC_CHANNELS.saveFile);
      ipcMain.removeHandler(IPC_CHANNELS.pickFolder);
    },
  };
}
