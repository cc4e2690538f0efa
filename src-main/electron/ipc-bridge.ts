// Relays the typed service API between the renderer (preload bridge) and the service client:
// calls are checked against the contract before they are forwarded, errors go back in their
// wire form (code + field survive), service events are pushed to the window. Also the save
// dialog for CSV export and the folder picker for the dataset root.
import fs from 'node:fs/promises';
import path from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, type IpcMainInvokeEvent } from 'electron';
import type { EventName } from '../../src-shared/api/contract';
import { WorkstationError, toWireError } from '../../src-shared/errors';
import { validateCall } from './call-validation';
import { folderDialogOptions, pickedFolder } from './folder-dialog';
import { isAllowedNavigation } from './csp';
import { IPC_CHANNELS } from './ipc-channels';
import type { ServiceClient } from './service-client';

export interface IpcBridgeOptions {
  client(): ServiceClient | null;
  window(): BrowserWindow | null;
  /** origins allowed to call (the app:// origin, or the dev server) */
  appOrigin: string;
}

/** Errors cross ipcRenderer.invoke only as a message: carry the wire error as JSON in it. */
function wireFailure(err: unknown): Error {
  return new Error(JSON.stringify(toWireError(err)));
}

function checkSender(event: IpcMainInvokeEvent, appOrigin: string): void {
  const url = event.senderFrame?.url ?? '';
  if (!isAllowedNavigation(url, appOrigin)) throw new WorkstationError('UNAUTHORIZED', `IPC from an unexpected page (${url || 'unknown'})`);
}

export function registerIpcBridge(opts: IpcBridgeOptions): { forward(event: EventName, payload: unknown): void; dispose(): void } {
  ipcMain.handle(IPC_CHANNELS.call, async (event, command: unknown, params: unknown) => {
    try {
      checkSender(event, opts.appOrigin);
      const checked = validateCall(command, params);
      const client = opts.client();
      if (!client) throw new WorkstationError('INTERNAL', 'the training service is (re)starting; try again in a moment');
      return await client.call(checked.command, checked.params as never);
    } catch (err) {
      throw wireFailure(err);
    }
  });

  ipcMain.handle(IPC_CHANNELS.saveFile, async (event, defaultName: unknown, content: unknown) => {
    try {
      checkSender(event, opts.appOrigin);
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
      checkSender(event, opts.appOrigin);
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
      if (win && !win.isDestroyed()) win.webContents.send(IPC_CHANNELS.event, event, payload);
    },
    dispose() {
      ipcMain.removeHandler(IPC_CHANNELS.call);
      ipcMain.removeHandler(IPC_CHANNELS.saveFile);
      ipcMain.removeHandler(IPC_CHANNELS.pickFolder);
    },
  };
}
