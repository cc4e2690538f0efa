// BrowserWindow options for the app window. Pure (a plain object), so the security-relevant
// switches are asserted in unit tests; window.ts passes them to Electron.
import type { BrowserWindowConstructorOptions } from 'electron';

export function mainWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1400,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'ImageNet Workstation',
    backgroundColor: '#111318',
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      // The renderer is a web page: no Node, its own JS world, Chromium's sandbox.
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  };
}
