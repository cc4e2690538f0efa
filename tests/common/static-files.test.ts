// The one path guard and MIME table for serving the built renderer: what Electron's app://
// protocol and `workstation serve` may hand out of the folder, and with which Content-Type.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveInside, staticContentType } from '../../src-main/common/static-files';
import { resolveAppFile } from '../../src-main/electron/app-protocol';
import { startHttpServer, type RunningHttpServer } from '../../src-main/service/transports/http-server';
import { tempDir } from '../helpers/samples';

describe('resolveInside', () => {
  const root = path.resolve('/srv/app/out/renderer');

  it('maps URL paths to files inside the folder, decoding escapes', () => {
    expect(resolveInside(root, '/index.html')).toBe(path.join(root, 'index.html'));
    expect(resolveInside(root, '/assets/index-abc.js')).toBe(path.join(root, 'assets', 'index-abc.js'));
    expect(resolveInside(root, '/assets/a%20b.css')).toBe(path.join(root, 'assets', 'a b.css'));
    expect(resolveInside(root, 'assets/x.js')).toBe(path.join(root, 'assets', 'x.js'));
    // a `..` that stays inside is only a detour
    expect(resolveInside(root, '/assets/../index.html')).toBe(path.join(root, 'index.html'));
    // the folder itself: the caller picks the index file
    expect(resolveInside(root, '/')).toBe(root);
    expect(resolveInside(`${root}${path.sep}`, '/x.js')).toBe(path.join(root, 'x.js'));
  });

  it('refuses a NUL byte, plain or encoded', () => {
    expect(resolveInside(root, '/%00')).toBeNull();
    expect(resolveInside(root, '/index.html%00.png')).toBeNull();
    expect(resolveInside(root, '/index.html\0.png')).toBeNull();
  });

  it('refuses `..` that leaves the folder, plain or encoded', () => {
    for (const p of [
      '/../etc/passwd',
      '/assets/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/%2E%2E/etc/passwd',
      '/..%2f..%2fetc/passwd',
      '/..%2F..%2Fetc%2Fpasswd',
      '/..',
      `/../${path.basename(root)}-other/x.js`,
    ]) {
      expect(resolveInside(root, p), p).toBeNull();
    }
  });

  it('refuses absolute paths after the leading slash', () => {
    for (const p of [
      '//etc/passwd',
      '/%2fetc/passwd',
      '/%2Fetc%2Fpasswd',
      '/\\etc\\passwd',
      '/%5cetc',
      '/C:/Windows/win.ini',
      '/c:%5cWindows',
      '/%5c%5cserver%5cshare',
    ]) {
      expect(resolveInside(root, p), p).toBeNull();
    }
  });

  it('refuses undecodable escapes', () => {
    expect(resolveInside(root, '/%E0%A4%A')).toBeNull();
    expect(resolveInside(root, '/%zz')).toBeNull();
  });
});

describe('staticContentType', () => {
  it('names the renderer build types, case-insensitively, and falls back to bytes', () => {
    expect(staticContentType('a/index.html')).toBe('text/html; charset=utf-8');
    expect(staticContentType('a/x.js')).toMatch(/^text\/javascript/);
    expect(staticContentType('a/x.mjs')).toMatch(/^text\/javascript/);
    expect(staticContentType('a/x.css')).toMatch(/^text\/css/);
    expect(staticContentType('a/x.svg')).toBe('image/svg+xml');
    expect(staticContentType('a/x.png')).toBe('image/png');
    expect(staticContentType('a/x.jpg')).toBe('image/jpeg');
    expect(staticContentType('a/X.JPG')).toBe('image/jpeg');
    expect(staticContentType('a/x.woff2')).toBe('font/woff2');
    expect(staticContentType('a/x.js.map')).toBe('application/json');
    expect(staticContentType('a/x.bin')).toBe('application/octet-stream');
    expect(staticContentType('a/Makefile')).toBe('application/octet-stream');
  });
});

describe('both servers use the one guard and table', () => {
  const dir = tempDir('ws-static-');
  const rendererDir = path.join(dir, 'renderer');
  const TOKEN = 'static-files-test-token-0123456789';
  let server: RunningHttpServer;

  beforeAll(async () => {
    fs.mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(rendererDir, 'index.html'), '<title>t</title>');
    fs.writeFileSync(path.join(rendererDir, 'assets', 'logo.jpg'), Buffer.from([0xff, 0xd8, 0xff]));
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'secret');
    // static files never reach the service: a stand-in is enough
    server = await startHttpServer({ service: {} as never, host: '127.0.0.1', port: 0, token: TOKEN, rendererDir });
  });
  afterAll(async () => {
    await server?.close();
  });

  /** A raw request: fetch would normalise the dot segments away before they reach the server. */
  function get(rawPath: string): Promise<{ status: number; type: string | undefined; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: server.port, path: rawPath, headers: { host: `127.0.0.1:${server.port}`, cookie: `workstation_token=${TOKEN}` } },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('Electron app:// answers the same files as the guard', () => {
    expect(resolveAppFile(rendererDir, 'app://renderer/')).toBe(path.join(rendererDir, 'index.html'));
    expect(resolveAppFile(rendererDir, 'app://renderer/assets/logo.jpg')).toBe(path.join(rendererDir, 'assets', 'logo.jpg'));
    expect(resolveAppFile(rendererDir, 'app://renderer/..%2fsecret.txt')).toBeNull();
    expect(resolveAppFile(rendererDir, 'app://renderer/%00')).toBeNull();
    expect(resolveAppFile(rendererDir, 'app://renderer//etc/passwd')).toBeNull();
  });

  it('`workstation serve` refuses NUL and traversal, and serves .jpg as image/jpeg', async () => {
    const jpg = await get('/assets/logo.jpg');
    expect(jpg.status).toBe(200);
    expect(jpg.type).toBe('image/jpeg');
    for (const p of ['/%00', '/index.html%00', '/..%2fsecret.txt', '/%2e%2e%2fsecret.txt', '/%2fetc/passwd', '/%5c..%5csecret.txt']) {
      const res = await get(p);
      expect(res.status, p).toBe(403);
      expect(res.body, p).not.toContain('secret');
    }
    // dot segments the URL parser folds before the guard sees them stay inside the folder
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt']) {
      const res = await get(p);
      expect(res.status, p).toBe(200);
      expect(res.body, p).toBe('<title>t</title>');
    }
    // an unknown path inside is the app's (SPA fallback)
    const spa = await get('/runs/3');
    expect(spa.status).toBe(200);
    expect(spa.type).toMatch(/text\/html/);
  });
});
