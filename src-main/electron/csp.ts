// The renderer's Content-Security-Policy and navigation policy. Pure, so the exact policy is
// unit-tested; security.ts applies it to the Electron session.
//
// The production renderer is served from the privileged `app://renderer` scheme (see
// security.ts), so 'self' means the bundled files and nothing else. Styles allow
// 'unsafe-inline' because Svelte 5 writes `style=` attributes for dynamic values (progress
// bar widths, slider fills) and chart.js sizes its canvas the same way; scripts stay strict.

export const APP_SCHEME = 'app';
export const APP_HOST = 'renderer';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

export interface CspOptions {
  /** electron-vite dev server origin (http://localhost:5173) in `npm run dev`, else null */
  devServerOrigin?: string | null;
}

export function buildCsp(opts: CspOptions = {}): string {
  const dev = opts.devServerOrigin ? new URL(opts.devServerOrigin).origin : null;
  const devWs = dev ? dev.replace(/^http/, 'ws') : null;
  const directives: [string, string[]][] = [
    ['default-src', ["'self'"]],
    ['script-src', ["'self'", ...(dev ? [dev] : [])]],
    ['style-src', ["'self'", "'unsafe-inline'", ...(dev ? [dev] : [])]],
    ['img-src', ["'self'", 'data:', 'blob:']],
    ['font-src', ["'self'", 'data:']],
    ['connect-src', ["'self'", ...(dev && devWs ? [dev, devWs] : [])]],
    ['object-src', ["'none'"]],
    ['base-uri', ["'none'"]],
    ['form-action', ["'none'"]],
    ['frame-src', ["'none'"]],
    ['frame-ancestors', ["'none'"]],
  ];
  return directives.map(([k, v]) => `${k} ${v.join(' ')}`).join('; ');
}

/**
 * Whether the window may navigate to `url`. Only a reload of the app itself is allowed; every
 * other navigation (a dropped file, a link in an error message) is blocked.
 */
export function isAllowedNavigation(url: string, appOrigin: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const origin = u.protocol === `${APP_SCHEME}:` ? `${u.protocol}//${u.host}` : u.origin;
  return origin === appOrigin;
}

/** Requests the renderer may make: its own files (or the dev server), inline data, devtools. */
export function isAllowedRequest(url: string, allowedOrigins: readonly string[]): boolean {
  if (url.startsWith('data:') || url.startsWith('blob:') || url.startsWith('devtools:')) return true;
  return allowedOrigins.some((o) => isAllowedNavigation(url, o));
}

/** Origins the renderer may load from: app://renderer, or in dev the dev server (http + ws). */
export function allowedOrigins(devServerOrigin: string | null | undefined): string[] {
  if (!devServerOrigin) return [APP_ORIGIN];
  const o = new URL(devServerOrigin).origin;
  return [o, o.replace(/^http/, 'ws')];
}
