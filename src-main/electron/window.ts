// The app window: created with the locked-down options from window-options.ts, shown once the
// renderer has painted (no white flash).
import { BrowserWindow } from 'electron';
import { mainWindowOptions } from './window-options';

export function createMainWindow(opts: { preloadPath: string; url: string }): BrowserWindow {
  const win = new BrowserWindow(mainWindowOptions(opts.preloadPath));
  win.once('ready-to-show', () => win.show());
  void win.loadURL(opts.url);
  return win;
}
