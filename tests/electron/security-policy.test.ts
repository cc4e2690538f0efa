// The Electron window's security policy, checked on the pure modules main.ts applies (there is
// no Electron binary on CI machines; these are the exact objects/strings Electron receives).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAppFile } from '../../src-main/electron/app-protocol';
import { staticContentType } from '../../src-main/common/static-files';
import { validateCall } from '../../src-main/electron/call-validation';
import { APP_ORIGIN, allowedOrigins, buildCsp, isAllowedNavigation, isAllowedRequest } from '../../src-main/electron/csp';
import { mainWindowOptions } from '../../src-main/electron/window-options';
import { WorkstationError } from '../../src-shared/errors';

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([k, ...v]) => [k, v]),
  );
}

describe('content security policy', () => {
  it('allows only the app itself in production', () => {
    const d = directives(buildCsp());
    expect(d.get('default-src')).toEqual(["'self'"]);
    expect(d.get('script-src')).toEqual(["'self'"]);
    expect(d.get('connect-src')).toEqual(["'self'"]);
    expect(d.get('img-src')).toEqual(["'self'", 'data:', 'blob:']);
    expect(d.get('object-src')).toEqual(["'none'"]);
    expect(d.get('frame-ancestors')).toEqual(["'none'"]);
    // no eval, no remote hosts anywhere
    expect(buildCsp()).not.toMatch(/unsafe-eval|https?:|\*/);
    // inline styles only (Svelte style attributes), never inline scripts
    expect(d.get('style-src')).toContain("'unsafe-inline'");
    expect(d.get('script-src')).not.toContain("'unsafe-inline'");
  });

  it('adds exactly the dev server (http + HMR websocket) in dev', () => {
    const d = directives(buildCsp({ devServerOrigin: 'http://localhost:5173/some/path' }));
    expect(d.get('script-src')).toEqual(["'self'", 'http://localhost:5173']);
    expect(d.get('connect-src')).toEqual(["'self'", 'http://localhost:5173', 'ws://localhost:5173']);
  });
});

describe('navigation and requests', () => {
  it('allows reloading the app, blocks everything else', () => {
    expect(isAllowedNavigation(`${APP_ORIGIN}/index.html`, APP_ORIGIN)).toBe(true);
    expect(isAllowedNavigation('app://renderer/', APP_ORIGIN)).toBe(true);
    for (const url of ['https://example.com/', 'http://127.0.0.1:8080/', 'file:///etc/passwd', 'app://other/index.html', 'javascript:alert(1)', 'not a url']) {
      expect(isAllowedNavigation(url, APP_ORIGIN), url).toBe(false);
    }
  });

  it('blocks remote content but keeps data: and blob: images', () => {
    const origins = allowedOrigins(null);
    expect(origins).toEqual([APP_ORIGIN]);
    expect(isAllowedRequest('app://renderer/assets/index.js', origins)).toBe(true);
    expect(isAllowedRequest('data:image/png;base64,AAAA', origins)).toBe(true);
    expect(isAllowedRequest('blob:app://renderer/123', origins)).toBe(true);
    expect(isAllowedRequest('https://cdn.example.com/chart.js', origins)).toBe(false);
    expect(isAllowedRequest('http://localhost:5173/src/main.ts', origins)).toBe(false);
    const dev = allowedOrigins('http://localhost:5173');
    expect(isAllowedRequest('http://localhost:5173/src/main.ts', dev)).toBe(true);
    expect(isAllowedRequest('ws://localhost:5173/', dev)).toBe(true);
    expect(isAllowedRequest('https://example.com/', dev)).toBe(false);
  });
});

describe('app:// protocol', () => {
  const dir = path.resolve('/srv/app/out/renderer');
  it('maps URLs to files inside the renderer folder only', () => {
    expect(resolveAppFile(dir, 'app://renderer/')).toBe(path.join(dir, 'index.html'));
    expect(resolveAppFile(dir, 'app://renderer/assets/index-abc.js')).toBe(path.join(dir, 'assets/index-abc.js'));
    expect(resolveAppFile(dir, 'app://renderer/assets/a%20b.css')).toBe(path.join(dir, 'assets/a b.css'));
    // the URL parser already folds literal dot segments into the folder
    expect(resolveAppFile(dir, 'app://renderer/../../etc/passwd')).toBe(path.join(dir, 'etc/passwd'));
    expect(resolveAppFile(dir, 'app://renderer/%2e%2e/%2e%2e/etc/passwd')).toBe(path.join(dir, 'etc/passwd'));
    // encoded slashes survive the URL parser: the folder check catches them
    expect(resolveAppFile(dir, 'app://renderer/..%2f..%2fetc/passwd')).toBeNull();
    expect(resolveAppFile(dir, 'app://renderer/%00')).toBeNull();
    expect(resolveAppFile(dir, 'app://other/index.html')).toBeNull();
    expect(resolveAppFile(dir, 'file:///etc/passwd')).toBeNull();
  });
  it('names content types', () => {
    expect(staticContentType('a/index.html')).toMatch(/text\/html/);
    expect(staticContentType('a/x.js')).toMatch(/javascript/);
    expect(staticContentType('a/x.bin')).toBe('application/octet-stream');
  });
});

describe('window options', () => {
  it('isolates the renderer: context isolation, no Node, sandbox, no webview', () => {
    const o = mainWindowOptions('/app/out/preload/index.cjs');
    expect(o.webPreferences).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
    });
  });
});

describe('IPC call validation', () => {
  it('passes declared commands with valid params, applying defaults', () => {
    expect(validateCall('runs.list', {})).toEqual({ command: 'runs.list', params: {} });
    expect(validateCall('export.csv', { runId: 3 })).toEqual({ command: 'export.csv', params: { runId: 3, lineage: false } });
    expect(validateCall('state.get', undefined)).toEqual({ command: 'state.get', params: {} });
  });

  it('refuses unknown commands', () => {
    for (const name of ['fs.readFile', '__proto__', 'constructor', 42, null]) {
      let err: unknown;
      try {
        validateCall(name, {});
      } catch (e) {
        err = e;
      }
      expect(err, String(name)).toBeInstanceOf(WorkstationError);
      expect((err as WorkstationError).code).toBe('INVALID_COMMAND');
    }
  });

  it('names the bad field', () => {
    try {
      validateCall('runs.pause', { runId: -1 });
      expect.unreachable();
    } catch (e) {
      expect((e as WorkstationError).code).toBe('INVALID_ARGUMENT');
      expect((e as WorkstationError).field).toBe('params.runId');
      expect((e as WorkstationError).message).toMatch(/runs\.pause: runId/);
    }
    try {
      validateCall('runs.list', { extra: 1 });
      expect.unreachable();
    } catch (e) {
      expect((e as WorkstationError).code).toBe('INVALID_ARGUMENT');
    }
  });
});
