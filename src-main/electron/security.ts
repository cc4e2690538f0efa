// Applies the security policy (csp.ts) to Electron: the app:// scheme serving the built
// renderer with a CSP header, no remote content, navigation and new windows blocked,
// permission requests denied, <webview> refused.
import fs from 'node:fs/promises';
import { app, protocol, type Session, type WebContents } from 'electron';
import { staticContentType } from '../common/static-files';
import { resolveAppFile } from './app-protocol';
import { APP_SCHEME, isAllowedNavigation, isAllowedRequest } from './csp';

/** Must run before `app.ready`: app:// behaves like https (origin, fetch, secure context). */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

export function serveRenderer(ses: Session, rendererDir: string, csp: string): void {
  ses.protocol.handle(APP_SCHEME, async (req) => {
    const file = resolveAppFile(rendererDir, req.url);
    if (!file) return new Response('not found', { status: 404 });
    try {
      const body = await fs.readFile(file);
      return new Response(body, {
        status: 200,
        headers: { 'content-type': staticContentType(file), 'content-security-policy': csp, 'x-content-type-options': 'nosniff' },
      });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
}

export function hardenSession(ses: Session, opts: { csp: string; allowedOrigins: readonly string[] }): void {
  // Every response gets the CSP, including the dev server's in `npm run dev`.
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [opts.csp] } });
  });
  // No remote content: only the app's own origin (and data:/blob:) may load.
  ses.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !isAllowedRequest(details.url, opts.allowedOrigins) });
  });
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
}

export function hardenContents(contents: WebContents, appOrigin: string): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAllowedNavigation(url, appOrigin)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAllowedNavigation(url, appOrigin)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** Applies hardenContents to every web contents the app ever creates. */
export function hardenAllContents(appOrigin: string): void {
  app.on('web-contents-created', (_event, contents) => hardenContents(contents, appOrigin));
}
