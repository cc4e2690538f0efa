// Electron main: one window, the training service behind it (reattached when one kept training
// in the background, else spawned and supervised), the typed API relayed through the preload
// bridge, and the "a run is training" question when the window closes. Everything that can be
// plain Node lives in the modules it wires together; this file only talks to Electron.
import path from 'node:path';
import { app, dialog, Notification, session, type BrowserWindow } from 'electron';
import { createDesktopNotifier } from './desktop-notify';
import type { ServiceState } from '../../src-shared/api/schemas';
import { appPaths, defaultDataDir } from '../common/paths';
import { busyRun, closeChoice, closePrompt, type CloseChoice } from './close-prompt';
import { APP_ORIGIN, allowedOrigins, buildCsp } from './csp';
import { registerIpcBridge } from './ipc-bridge';
import { installMenu } from './menu';
import { hardenAllContents, hardenSession, registerAppScheme, serveRenderer } from './security';
import { connectService, type ServiceConnection } from './service-connection';
import { resolveServiceNode } from './service-launch';
import { createMainWindow } from './window';

registerAppScheme();

if (!app.requestSingleInstanceLock()) {
  // A second launch focuses the first window instead of starting a second service client.
  app.quit();
} else {
  void start().catch((err: unknown) => {
    dialog.showErrorBox('ImageNet Workstation could not start', err instanceof Error ? (err.stack ?? err.message) : String(err));
    app.exit(1);
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms))]);
}

async function start(): Promise<void> {
  await app.whenReady();
  const root = app.getAppPath();
  const env = process.env;
  // electron-vite dev serves the renderer itself and tells us where.
  const devUrl = env.ELECTRON_RENDERER_URL ?? null;
  const csp = buildCsp({ devServerOrigin: devUrl });
  const origins = allowedOrigins(devUrl);
  const appOrigin = origins[0];

  hardenAllContents(appOrigin);
  installMenu(process.platform, devUrl !== null || !app.isPackaged);
  hardenSession(session.defaultSession, { csp, allowedOrigins: origins });
  serveRenderer(session.defaultSession, path.join(root, 'out', 'renderer'), csp);

  const dataDir = defaultDataDir(env);
  const paths = appPaths(dataDir, env.WORKSTATION_DB);
  let win: BrowserWindow | null = null;
  let conn: ServiceConnection | null = null;
  let quitting = false;
  let closing = false; // one close dialog at a time (window close + app quit can both ask)

  const bridge = registerIpcBridge({ client: () => conn?.client() ?? null, window: () => win, appOrigin });
  // the service's notices (run completed / failed / diverged / stalled / starved) as native notifications
  const notifyDesktop = createDesktopNotifier({
    Notification,
    onClick: () => {
      if (!win || win.isDestroyed()) return;
      if (win.isMinimized()) win.restore();
      win.show();
      win.focus();
    },
  });

  app.on('second-instance', () => {
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });

  const closeFlow = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    try {
      await decideAndClose();
    } finally {
      closing = false;
    }
  };

  const decideAndClose = async (): Promise<void> => {
    const client = conn?.client() ?? null;
    let state: ServiceState | null = null;
    try {
      state = client ? await withTimeout(client.call('state.get', {}), 3000) : null;
    } catch {
      state = null;
    }
    const run = busyRun(state);
    let choice: CloseChoice = 'stop';
    if (run && state) {
      const prompt = closePrompt(run, state.queue.length);
      const res = win && !win.isDestroyed() ? await dialog.showMessageBox(win, prompt) : await dialog.showMessageBox(prompt);
      choice = closeChoice(res.response);
      if (choice === 'cancel') return;
    }
    quitting = true;
    if (choice === 'background') {
      conn?.detach();
    } else {
      if (run && client) await withTimeout(client.call('runs.stop', { runId: run.id }), 10_000).catch(() => undefined);
      await conn?.stop().catch(() => undefined);
    }
    bridge.dispose();
    if (win && !win.isDestroyed()) win.destroy();
    app.quit();
  };

  app.on('before-quit', (event) => {
    if (quitting) return;
    event.preventDefault();
    void closeFlow();
  });
  app.on('window-all-closed', () => {
    if (quitting) app.quit();
  });

  win = createMainWindow({
    preloadPath: path.join(root, 'out', 'preload', 'index.cjs'),
    url: devUrl ?? `${APP_ORIGIN}/index.html`,
  });
  win.on('close', (event) => {
    if (quitting) return;
    event.preventDefault();
    void closeFlow();
  });
  win.on('closed', () => (win = null));

  bridge.forward('service.state', { state: 'starting', message: null });
  conn = await connectService({
    dataDir,
    dbPath: paths.dbPath,
    nodePath: resolveServiceNode(null, env),
    serviceBundle: path.join(root, 'out', 'node', 'service.cjs'),
    cwd: root,
    env: { ...env, ELECTRON_RUN_AS_NODE: undefined },
    onState: (state, message) => bridge.forward('service.state', { state, message }),
    onEvent: (event, payload) => {
      bridge.forward(event, payload);
      notifyDesktop(event, payload);
    },
    onLog: (level, msg) => (level === 'info' ? console.log(msg) : console.warn(msg)),
  });
  // The renderer may have asked before the service was up: `ready` makes it reload its state.
  await conn.ready.then(
    () => bridge.forward('service.state', { state: 'ready', message: null }),
    (err: unknown) => bridge.forward('service.state', { state: 'failed', message: err instanceof Error ? err.message : String(err) }),
  );
}
