// The headless server behind `workstation serve` (and the service process's reattach port):
// node:http serving the built renderer, `/ws` (the API over WebSocket), `/api/file` (dataset
// images only), `/api/export.csv` (download) and POST `/api/scale-out/report` (a PyTorch DDP
// continuation's live records, `scaleOut.report`). Every request needs the token (query once,
// then an HttpOnly SameSite=Strict cookie; or a Bearer header), a Host header naming this server
// and, when present, an Origin equal to this server.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { isWorkstationError, toWireError } from '../../../src-shared/errors';
import { RunIdSchema } from '../../../src-shared/api/schemas';
import { allowedImagePath, createHostCheck, imageContentType, isLoopbackHost, originAllowed, requestToken, tokenCookie, tokenMatches } from '../security';
import type { Service } from '../service';
import { resolveInside, staticContentType } from '../../common/static-files';
import { createWsTransport } from './ws-server';

export interface HttpServerOptions {
  service: Service;
  host: string;
  port: number;
  token: string;
  /** required to bind a non-loopback address */
  allowRemote?: boolean;
  /** built renderer (index.html + assets); missing → a page saying to run `npm run build` */
  rendererDir: string;
}

export interface RunningHttpServer {
  url: string;
  host: string;
  port: number;
  /** non-loopback bind warning, when there is one */
  warning: string | null;
  close(): Promise<void>;
}

function text(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body + '\n');
}

/** where train_ddp.py POSTs its records (resources/scale-out/train_ddp.py names the same path) */
export const SCALE_OUT_REPORT_PATH = '/api/scale-out/report';
const REPORT_MAX_BYTES = 256 * 1024;

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body) + '\n');
}

/** POST /api/scale-out/report: a JSON body of scaleOut.report params; answers its result or {error}. */
function scaleOutReport(service: Service, req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.method !== 'POST') return text(res, 405, 'Method not allowed: POST a scaleOut.report body');
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return text(res, 415, 'Unsupported media type: send application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= REPORT_MAX_BYTES) chunks.push(c);
  });
  req.on('end', () => {
    if (size > REPORT_MAX_BYTES)
      return json(res, 413, { error: { name: 'WorkstationError', code: 'INVALID_ARGUMENT', message: `a report is at most ${REPORT_MAX_BYTES} bytes` } });
    let params: unknown;
    try {
      params = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      return json(res, 400, { error: { name: 'WorkstationError', code: 'INVALID_ARGUMENT', message: `the body is not JSON (${(e as Error).message})` } });
    }
    service.dispatch('scaleOut.report', params).then(
      (result) => json(res, 200, { result }),
      (e: unknown) => {
        const error = toWireError(e);
        json(res, error.code === 'NOT_FOUND' ? 404 : error.code === 'INTERNAL' ? 500 : 400, { error });
      },
    );
  });
}

function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

export async function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const { service, token } = opts;
  if (!isLoopbackHost(opts.host) && !opts.allowRemote) {
    throw new Error(`refusing to bind ${opts.host}: a non-loopback address exposes training control to the network; pass --allow-remote to do it anyway`);
  }
  const warning = isLoopbackHost(opts.host)
    ? null
    : `WARNING: serving on ${opts.host}, reachable from other machines. Anyone with the token controls training and can read dataset images; prefer 127.0.0.1 with an SSH tunnel (ssh -L).`;
  const ws = createWsTransport(service);
  let hostOk: (h: string | undefined) => boolean = () => false;

  /** null when the request may proceed, else [status, reason] */
  const guard = (req: http.IncomingMessage, url: URL): [number, string] | null => {
    if (!hostOk(req.headers.host)) return [403, 'Forbidden: Host header does not name this server'];
    if (!originAllowed(req.headers.origin, req.headers.host)) return [403, 'Forbidden: cross-origin request'];
    if (!tokenMatches(token, requestToken(req, url))) return [401, 'Unauthorized: open the URL printed by `workstation serve` (it carries the token)'];
    return null;
  };

  const serveStatic = (req: http.IncomingMessage, res: http.ServerResponse, url: URL, setCookie: boolean): void => {
    const index = path.join(opts.rendererDir, 'index.html');
    if (!fs.existsSync(index))
      return text(res, 503, `The renderer is not built (${opts.rendererDir} is missing). Run \`npm run build\` and restart \`workstation serve\`.`);
    let file = resolveInside(opts.rendererDir, url.pathname);
    if (file === null) return text(res, 403, 'Forbidden');
    if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) file = index; // SPA fallback
    const headers: http.OutgoingHttpHeaders = {
      'content-type': staticContentType(file),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    };
    if (setCookie) headers['set-cookie'] = tokenCookie(token);
    if (file === index) headers['cache-control'] = 'no-store';
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return void res.end();
    fs.createReadStream(file).pipe(res);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const denied = guard(req, url);
    if (denied) return text(res, denied[0], denied[1]);
    if (url.pathname === SCALE_OUT_REPORT_PATH) return scaleOutReport(service, req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'Method not allowed');
    if (url.pathname === '/api/file') {
      const p = url.searchParams.get('path') ?? '';
      const file = allowedImagePath(p, service.fileRoots());
      if (!file) return text(res, 403, 'Forbidden: only images inside dataset roots are served');
      res.writeHead(200, {
        'content-type': imageContentType(file) ?? 'application/octet-stream',
        'x-content-type-options': 'nosniff',
        'cache-control': 'private, max-age=300',
      });
      fs.createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
      return;
    }
    if (url.pathname === '/api/export.csv') {
      const runId = RunIdSchema.safeParse(Number(url.searchParams.get('runId')));
      if (!runId.success) return text(res, 400, 'runId: expected a positive integer');
      const lineage = url.searchParams.get('lineage') === '1' || url.searchParams.get('lineage') === 'true';
      service.dispatch('export.csv', { runId: runId.data, lineage }).then(
        (r) => {
          const out = r as { filename: string; csv: string };
          res.writeHead(200, {
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': `attachment; filename="${out.filename.replace(/["\\\r\n]/g, '_')}"`,
            'cache-control': 'no-store',
          });
          res.end(out.csv);
        },
        (e: unknown) => text(res, isWorkstationError(e) && e.code === 'NOT_FOUND' ? 404 : 400, (e as Error).message),
      );
      return;
    }
    // a page whose WebSocket dropped asks here whether its token still counts (401 above if not)
    if (url.pathname === '/api/ping') {
      res.writeHead(204, { 'cache-control': 'no-store' });
      return void res.end();
    }
    if (url.pathname.startsWith('/api/')) return text(res, 404, 'Not found');
    // First visit carries ?token=…: set the cookie so the page's own requests (assets, /ws) carry it.
    serveStatic(req, res, url, url.searchParams.has('token'));
  });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws') return rejectUpgrade(socket, 404, 'Not Found');
    const denied = guard(req, url);
    if (denied) return rejectUpgrade(socket, denied[0], denied[0] === 401 ? 'Unauthorized' : 'Forbidden');
    ws.handleUpgrade(req, socket, head);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  hostOk = createHostCheck(opts.host, port);
  const urlHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${urlHost}:${port}/?token=${encodeURIComponent(token)}`,
    host: opts.host,
    port,
    warning,
    close: async () => {
      await ws.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
