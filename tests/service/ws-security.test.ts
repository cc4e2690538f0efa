// Security of the headless server (`workstation serve`): a real HTTP + WebSocket server on a
// random loopback port in front of a real service (temp SQLite, real dataset index). Token,
// Host, Origin and the dataset-root allow-list must each refuse on their own.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createService, type Service } from '../../src-main/service/service';
import { startHttpServer, type RunningHttpServer } from '../../src-main/service/transports/http-server';
import { makeImagenetTree, sampleFiles, tempDir } from '../helpers/samples';

const TOKEN = 'test-token-0123456789abcdef';
let service: Service;
let server: RunningHttpServer;
let datasetRoot: string;
let port: number;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function get(pathAndQuery: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathAndQuery, method: 'GET', headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens /ws; resolves with the socket, or with the HTTP status the upgrade was refused with. */
function openWs(query: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket } | { refused: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${query}`, { headers });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ refused: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('error', (e) => reject(e));
  });
}

function wsCall(
  ws: WebSocket,
  id: number,
  command: string,
  params: unknown,
): Promise<{ ok: boolean; result?: unknown; error?: { code: string; message: string; field?: string } }> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const msg = JSON.parse(String(data));
      if (msg.type === 'response' && msg.id === id) {
        ws.off('message', onMessage);
        resolve(msg);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ type: 'request', id, command, params }));
  });
}

beforeAll(async () => {
  const dir = tempDir('ws-sec-');
  datasetRoot = makeImagenetTree(2, 1, path.join(dir, 'imagenet'));
  const rendererDir = path.join(dir, 'renderer');
  fs.mkdirSync(rendererDir);
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>workstation</title>');
  service = await createService({ dbPath: path.join(dir, 'ws.db'), dataDir: path.join(dir, 'data') });
  // Index the dataset through the API: that is what adds its root to the allow-list.
  const summary = await service.call('dataset.index', { root: datasetRoot });
  expect(summary.classes).toBe(2);
  server = await startHttpServer({ service, host: '127.0.0.1', port: 0, token: TOKEN, rendererDir });
  port = server.port;
});

afterAll(async () => {
  await server?.close();
  await service?.close();
});

describe('HTTP', () => {
  it('prints a loopback URL carrying the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${port}/?token=${TOKEN}`);
    expect(server.warning).toBeNull();
  });

  it('refuses requests without a token or with a wrong one', async () => {
    expect((await get('/')).status).toBe(401);
    expect((await get('/?token=wrong-token-0123456789abcdef')).status).toBe(401);
    expect((await get('/', { cookie: 'workstation_token=nope' })).status).toBe(401);
    const img = sampleFiles()[0];
    expect((await get(`/api/file?path=${encodeURIComponent(img)}`)).status).toBe(401);
  });

  it('accepts the token once in the URL and then as an HttpOnly SameSite=Strict cookie', async () => {
    const first = await get(`/?token=${TOKEN}`);
    expect(first.status).toBe(200);
    expect(first.body.toString()).toContain('<title>workstation</title>');
    const cookie = String(first.headers['set-cookie']?.[0] ?? '');
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const second = await get('/', { cookie: cookie.split(';')[0] });
    expect(second.status).toBe(200);
  });

  it('refuses a Host header that does not name this server (DNS rebinding)', async () => {
    expect((await get(`/?token=${TOKEN}`, { host: `evil.example:${port}` })).status).toBe(403);
    expect((await get(`/?token=${TOKEN}`, { host: `127.0.0.1:${port + 1}` })).status).toBe(403);
    expect((await get(`/?token=${TOKEN}`, { host: `localhost:${port}` })).status).toBe(200);
  });

  it('refuses a foreign Origin and accepts its own', async () => {
    expect((await get(`/?token=${TOKEN}`, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await get(`/?token=${TOKEN}`, { origin: `http://127.0.0.1:${port + 1}` })).status).toBe(403);
    expect((await get(`/?token=${TOKEN}`, { origin: `http://127.0.0.1:${port}` })).status).toBe(200);
  });

  it('serves images inside dataset roots and nothing else (403)', async () => {
    const wnid = fs.readdirSync(path.join(datasetRoot, 'train'))[0];
    const inside = path.join(datasetRoot, 'train', wnid, fs.readdirSync(path.join(datasetRoot, 'train', wnid))[0]);
    const ok = await get(`/api/file?path=${encodeURIComponent(inside)}&token=${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toBe('image/jpeg');
    expect([...ok.body.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect(ok.body.length).toBe(fs.statSync(inside).size);

    const denied = [
      sampleFiles()[5], // a real JPEG, but outside every dataset root
      '/etc/passwd',
      path.join(datasetRoot, 'train', '..', '..', path.basename(sampleFiles()[0])),
      `${datasetRoot}/../${path.basename(datasetRoot)}-other/x.JPEG`,
      path.join(datasetRoot, 'train', wnid), // a folder
      'relative/path.JPEG',
    ];
    for (const p of denied) expect((await get(`/api/file?path=${encodeURIComponent(p)}&token=${TOKEN}`)).status, p).toBe(403);
    // a non-image file inside a root is refused too
    fs.writeFileSync(path.join(datasetRoot, 'notes.txt'), 'secret');
    expect((await get(`/api/file?path=${encodeURIComponent(path.join(datasetRoot, 'notes.txt'))}&token=${TOKEN}`)).status).toBe(403);
  });

  it('answers CSV export of an unknown run with 404 and a bad runId with 400', async () => {
    expect((await get(`/api/export.csv?runId=999&token=${TOKEN}`)).status).toBe(404);
    expect((await get(`/api/export.csv?runId=abc&token=${TOKEN}`)).status).toBe(400);
  });

  it('answers 503 saying to build the renderer when it is not built (token accepted), and still 401 without the token', async () => {
    const missing = path.join(tempDir('ws-sec-unbuilt-'), 'renderer');
    const unbuilt = await startHttpServer({ service, host: '127.0.0.1', port: 0, token: TOKEN, rendererDir: missing });
    const savedPort = port;
    port = unbuilt.port;
    try {
      const page = await get(`/?token=${TOKEN}`);
      expect(page.status).toBe(503);
      expect(page.body.toString()).toContain(`The renderer is not built (${missing} is missing). Run \`npm run build\``);
      expect((await get('/')).status).toBe(401);
    } finally {
      port = savedPort;
      await unbuilt.close();
    }
  });

  it('refuses to bind a non-loopback address without allowRemote', async () => {
    await expect(startHttpServer({ service, host: '0.0.0.0', port: 0, token: TOKEN, rendererDir: '/nonexistent' })).rejects.toThrow(/allow-remote/);
  });
});

describe('WebSocket /ws', () => {
  it('refuses an upgrade without a token or with a wrong one (401)', async () => {
    expect(await openWs('')).toEqual({ refused: 401 });
    expect(await openWs('?token=wrong-token-0123456789abcdef')).toEqual({ refused: 401 });
  });

  it('refuses a foreign Origin or Host (403)', async () => {
    expect(await openWs(`?token=${TOKEN}`, { origin: 'http://evil.example' })).toEqual({ refused: 403 });
    expect(await openWs(`?token=${TOKEN}`, { host: `evil.example:${port}` })).toEqual({ refused: 403 });
  });

  it('with the token (query or cookie) carries the typed API; bad input gets typed errors', async () => {
    for (const [query, headers] of [
      [`?token=${TOKEN}`, { origin: `http://127.0.0.1:${port}` }],
      ['', { cookie: `workstation_token=${TOKEN}` }],
    ] as const) {
      const opened = await openWs(query, headers);
      expect('ws' in opened).toBe(true);
      const ws = (opened as { ws: WebSocket }).ws;
      const state = await wsCall(ws, 1, 'state.get', {});
      expect(state).toMatchObject({ ok: true, result: { activeRun: null, progress: null, queue: [] } });
      const unknown = await wsCall(ws, 2, 'runs.explode', {});
      expect(unknown).toMatchObject({ ok: false, error: { code: 'INVALID_COMMAND' } });
      const bad = await wsCall(ws, 3, 'runs.get', { runId: 'seven' });
      expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', field: 'runId' } });
      const outside = await wsCall(ws, 4, 'augment.preview', { images: ['/etc/passwd'], count: 1, seed: 0 });
      expect(outside).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED', field: 'images.0' } });
      // garbage frames do not take the connection (or the service) down
      ws.send('not json');
      const after = await wsCall(ws, 5, 'runs.list', {});
      expect(after).toMatchObject({ ok: true, result: [] });
      ws.close();
    }
  });
});

describe('workstation serve', () => {
  const bin = path.resolve(__dirname, '../../bin/workstation.cjs');

  it('prints its token URL first, answers on it, and exits 0 on SIGTERM', async () => {
    const dir = tempDir('serve-');
    const proc = spawn(process.execPath, [bin, 'serve', '--port', '0', '--db', path.join(dir, 's.db'), '--data-dir', path.join(dir, 'data')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const firstLine = await new Promise<string>((resolve, reject) => {
      let buf = '';
      proc.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve(buf.split('\n')[0]);
      });
      proc.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
    });
    const m = firstLine.match(/^workstation serve: http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]{16,})$/);
    expect(m, firstLine).not.toBeNull();
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'data', 'service.json'), 'utf8'));
    expect(info).toMatchObject({ pid: proc.pid, port: Number(m![1]), token: m![2] });
    const savedPort = port;
    port = Number(m![1]);
    try {
      expect((await get('/')).status).toBe(401);
      // the built renderer (tests/global-setup.ts builds out/renderer before the suite; the
      // unbuilt case is the 503 test above)
      const page = await get(`/?token=${m![2]}`);
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.body.toString()).toContain('<title>ImageNet Workstation</title>');
    } finally {
      port = savedPort;
    }
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(fs.existsSync(path.join(dir, 'data', 'service.json'))).toBe(false);
  });

  it('refuses a non-loopback --host without --allow-remote, saying why', async () => {
    const dir = tempDir('serve-remote-');
    const proc = spawn(process.execPath, [bin, 'serve', '--host', '0.0.0.0', '--db', path.join(dir, 's.db'), '--data-dir', path.join(dir, 'data')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(err).toMatch(/--allow-remote/);
  });
});
