// The EC2 interruption watcher against a real HTTP server on 127.0.0.1 that plays the instance
// metadata service (IMDSv2 token flow, spot instance-action, scheduled events), plus a port nobody
// listens on and a server that never answers. Waits are event-driven and every one is bounded.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  describeNotice,
  startInterruptionWatcher,
  type InterruptionNotice,
  type InterruptionWatcher,
  type InterruptionWatcherOptions,
} from '../../src-main/common/interruption-watcher';

const SPOT_PATH = '/latest/meta-data/spot/instance-action';
const EVENTS_PATH = '/latest/meta-data/events/maintenance/scheduled';
const SPOT_BODY = { action: 'terminate', time: '2026-12-01T10:00:00Z' };
const WAIT_MS = 5_000;

function withTimeout<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

interface FakeImds {
  url: string;
  tokenRequests: number;
  /** GETs refused for a missing or wrong token. */
  unauthorized: number;
  /** Every request, as "METHOD path". */
  requests: string[];
  spotGets: number;
  /** Spot GETs answered 404 before the instance-action appears; Infinity = never. */
  spotAfter: number;
  /** null: the events path answers 404. */
  events: unknown[] | null;
  /** Revokes every token issued so far (as an expired TTL would). */
  revokeTokens(): void;
  /** Resolves once `pred` holds after some request. */
  until(pred: () => boolean, what: string): Promise<void>;
  close(): Promise<void>;
}

async function startFakeImds(init: Partial<Pick<FakeImds, 'spotAfter' | 'events'>> = {}): Promise<FakeImds> {
  const valid = new Set<string>();
  const waiters: { pred: () => boolean; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.pred()) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const send = (res: http.ServerResponse, status: number, body: string, type = 'text/plain') => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };
  const server = http.createServer((req, res) => {
    fake.requests.push(`${req.method} ${req.url}`);
    try {
      if (req.method === 'PUT' && req.url === '/latest/api/token') {
        if (req.headers['x-aws-ec2-metadata-token-ttl-seconds'] !== '21600') return send(res, 400, 'missing ttl');
        fake.tokenRequests++;
        const token = `token-${fake.tokenRequests}`;
        valid.add(token);
        return send(res, 200, token);
      }
      if (req.method !== 'GET') return send(res, 405, 'method not allowed');
      const token = req.headers['x-aws-ec2-metadata-token'];
      if (typeof token !== 'string' || !valid.has(token)) {
        fake.unauthorized++;
        return send(res, 401, 'unauthorized');
      }
      if (req.url === SPOT_PATH) {
        fake.spotGets++;
        if (fake.spotGets <= fake.spotAfter) return send(res, 404, 'not found');
        return send(res, 200, JSON.stringify(SPOT_BODY), 'application/json');
      }
      if (req.url === EVENTS_PATH) {
        if (fake.events === null) return send(res, 404, 'not found');
        return send(res, 200, JSON.stringify(fake.events), 'application/json');
      }
      return send(res, 404, 'not found');
    } finally {
      check();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const fake: FakeImds = {
    url: `http://127.0.0.1:${port}`,
    tokenRequests: 0,
    unauthorized: 0,
    requests: [],
    spotGets: 0,
    spotAfter: init.spotAfter ?? Infinity,
    events: init.events === undefined ? null : init.events,
    revokeTokens: () => valid.clear(),
    until: (pred, what) => (pred() ? Promise.resolve() : withTimeout(new Promise<void>((resolve) => waiters.push({ pred, resolve })), what)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}

/** A loopback port nobody listens on: bind one, note it, close it. */
async function deadPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

interface Harness {
  watcher: InterruptionWatcher;
  notices: InterruptionNotice[];
  logs: { level: string; msg: string }[];
  statuses: string[];
  /** Resolves with the n-th notice (1-based). */
  nextNotice(n: number): Promise<InterruptionNotice>;
  /** Resolves once `pred` holds after some callback. */
  until(pred: () => boolean, what: string): Promise<void>;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

function watch(opts: Omit<InterruptionWatcherOptions, 'onNotice' | 'onLog' | 'onStatus'>): Harness {
  const notices: InterruptionNotice[] = [];
  const logs: { level: string; msg: string }[] = [];
  const statuses: string[] = [];
  const waiters: { pred: () => boolean; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.pred()) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const watcher = startInterruptionWatcher({
    ...opts,
    onNotice: (n) => {
      notices.push(n);
      check();
    },
    onLog: (level, msg) => {
      logs.push({ level, msg });
      check();
    },
    onStatus: (s) => {
      statuses.push(s);
      check();
    },
  });
  cleanup.push(() => watcher.stop());
  const until = (pred: () => boolean, what: string) =>
    pred() ? Promise.resolve() : withTimeout(new Promise<void>((resolve) => waiters.push({ pred, resolve })), what);
  return {
    watcher,
    notices,
    logs,
    statuses,
    until,
    nextNotice: (n) => until(() => notices.length >= n, `notice #${n}`).then(() => notices[n - 1]),
  };
}

async function fakeImds(init?: Partial<Pick<FakeImds, 'spotAfter' | 'events'>>): Promise<FakeImds> {
  const fake = await startFakeImds(init);
  cleanup.push(() => fake.close());
  return fake;
}

describe('interruption watcher', () => {
  it('reports a spot interruption once, after the token flow, when instance-action appears', async () => {
    const fake = await fakeImds({ spotAfter: 3 });
    const h = watch({ baseUrl: fake.url, intervalMs: 20 });
    // Starting never blocks: nothing has been requested yet when start returns.
    expect(fake.requests).toEqual([]);

    const notice = await h.nextNotice(1);
    expect(notice).toEqual({ kind: 'spot', action: 'terminate', time: '2026-12-01T10:00:00Z', description: expect.stringContaining('terminate') });
    expect(fake.spotGets).toBe(4);
    expect(describeNotice(notice)).toBe('EC2 spot interruption: the instance will terminate at 2026-12-01T10:00:00Z');

    // Keeps polling, but the same interruption is not reported again.
    await fake.until(() => fake.spotGets >= 8, 'four more spot polls');
    expect(h.notices).toHaveLength(1);
    expect(await h.watcher.pollOnce()).toEqual(notice);
    expect(h.notices).toHaveLength(1);

    // One token for the whole session, sent on every GET; the first request is the PUT.
    expect(fake.requests[0]).toBe('PUT /latest/api/token');
    expect(fake.tokenRequests).toBe(1);
    expect(fake.unauthorized).toBe(0);
    expect(h.statuses).toEqual(['reachable']);
    expect(h.logs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });

  it('the fake service refuses a GET without the token, so the watcher must be sending it', async () => {
    const fake = await fakeImds({ spotAfter: 0 });
    const res = await fetch(fake.url + SPOT_PATH, { signal: AbortSignal.timeout(WAIT_MS) });
    expect(res.status).toBe(401);
    await res.text();
    const h = watch({ baseUrl: fake.url, intervalMs: 60_000 });
    expect((await h.watcher.pollOnce())?.kind).toBe('spot');
    expect(fake.unauthorized).toBe(1);
  });

  it('reports only active scheduled events, each once, with their description and NotBefore', async () => {
    const fake = await fakeImds({ events: [] });
    const h = watch({ baseUrl: fake.url, intervalMs: 60_000 });
    expect(await h.watcher.pollOnce()).toBeNull();

    const event = (id: string, code: string, state: string, notBefore: string) => ({
      Code: code,
      Description: `${state === 'active' ? '' : `[${state}] `}scheduled ${code}`,
      EventId: id,
      NotBefore: notBefore,
      NotAfter: '28 Jan 2019 09:17:23 GMT',
      State: state,
    });
    fake.events = [
      event('instance-event-1', 'system-reboot', 'completed', '21 Jan 2019 09:00:43 GMT'),
      event('instance-event-2', 'instance-stop', 'canceled', '22 Jan 2019 09:00:43 GMT'),
    ];
    expect(await h.watcher.pollOnce()).toBeNull();
    expect(h.notices).toEqual([]);

    fake.events.push(event('instance-event-3', 'instance-reboot', 'active', '23 Jan 2019 09:00:43 GMT'));
    const expected = { kind: 'maintenance', action: 'instance-reboot', time: '23 Jan 2019 09:00:43 GMT', description: 'scheduled instance-reboot' };
    expect(await h.watcher.pollOnce()).toEqual(expected);
    expect(await h.watcher.pollOnce()).toEqual(expected);
    expect(h.notices).toEqual([expected]);
    expect(describeNotice(h.notices[0])).toBe('EC2 scheduled maintenance (instance-reboot): scheduled instance-reboot, not before 23 Jan 2019 09:00:43 GMT');

    // A second active event is a new notice; a 404 (no events) is nothing.
    fake.events.push(event('instance-event-4', 'system-maintenance', 'active', '24 Jan 2019 09:00:43 GMT'));
    await h.watcher.pollOnce();
    expect(h.notices.map((n) => n.action)).toEqual(['instance-reboot', 'system-maintenance']);
    fake.events = null;
    expect(await h.watcher.pollOnce()).toBeNull();
    expect(h.notices).toHaveLength(2);
    expect(fake.tokenRequests).toBe(1);
    expect(h.logs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });

  it('fetches a new token after a 401 and goes on', async () => {
    const fake = await fakeImds({ spotAfter: 2 });
    const h = watch({ baseUrl: fake.url, intervalMs: 60_000 });
    expect(await h.watcher.pollOnce()).toBeNull();
    expect(fake.tokenRequests).toBe(1);

    fake.revokeTokens();
    const notice = await h.watcher.pollOnce();
    expect(fake.unauthorized).toBe(1);
    expect(fake.tokenRequests).toBe(2);
    expect(notice).toBeNull();

    expect((await h.watcher.pollOnce())?.action).toBe('terminate');
    expect(await h.nextNotice(1)).toMatchObject({ kind: 'spot' });
    expect(fake.tokenRequests).toBe(2);
    expect(h.logs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });

  it('off EC2 (nobody listening) it logs "unreachable" once and never throws', async () => {
    const port = await deadPort();
    const h = watch({ baseUrl: `http://127.0.0.1:${port}`, intervalMs: 20, unreachableIntervalMs: 20 });
    for (let i = 0; i < 4; i++) expect(await h.watcher.pollOnce()).toBeNull();
    const warnings = h.logs.filter((l) => l.level === 'warn' || l.level === 'error');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].msg).toMatch(/unreachable/);
    expect(warnings[0].msg).toContain(`127.0.0.1:${port}`);
    expect(h.statuses).toEqual(['unreachable']);
    expect(h.notices).toEqual([]);
    await withTimeout(h.watcher.stop(), 'stop');
  });

  it('a service that never answers times out per request, then is polled at the slow rate', async () => {
    const sockets = new Set<net.Socket>();
    // Requests, not connections: undici may open a spare connection after an aborted one.
    let requests = 0;
    const silent = net.createServer((s) => {
      sockets.add(s);
      s.on('data', (d) => {
        requests += d.toString('latin1').match(/^(PUT|GET) \//gm)?.length ?? 0;
      });
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanup.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          silent.close(() => resolve());
        }),
    );
    const h = watch({ baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, intervalMs: 20, timeoutMs: 100 });
    await h.until(() => h.statuses.length > 0, 'the unreachable status');
    expect(h.statuses).toEqual(['unreachable']);
    expect(h.logs.filter((l) => l.msg.includes('unreachable'))).toHaveLength(1);
    expect(h.logs[0].msg).toContain('no answer within 100 ms');
    // The default slow rate is 60 s: in ten fast intervals no second attempt is made.
    await new Promise((r) => setTimeout(r, 200));
    expect(requests).toBe(1);
  });

  it('recovers when the service starts answering, and says so', async () => {
    const port = await deadPort();
    const h = watch({ baseUrl: `http://127.0.0.1:${port}`, intervalMs: 60_000 });
    expect(await h.watcher.pollOnce()).toBeNull();
    expect(h.statuses).toEqual(['unreachable']);

    // The service appears on the same port.
    const server = http.createServer((req, res) => {
      if (req.method === 'PUT') res.end('tok');
      else if (req.headers['x-aws-ec2-metadata-token'] !== 'tok') res.writeHead(401).end();
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    cleanup.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    expect(await h.watcher.pollOnce()).toBeNull();
    expect(h.statuses).toEqual(['unreachable', 'reachable']);
    expect(h.logs.at(-1)).toMatchObject({ level: 'info', msg: expect.stringContaining('reachable again') });
  });

  it('a service that answers with an error is logged once per distinct error, not on every poll', async () => {
    const server = http.createServer((req, res) => res.writeHead(req.method === 'PUT' ? 403 : 500).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const h = watch({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, intervalMs: 60_000 });
    for (let i = 0; i < 3; i++) expect(await h.watcher.pollOnce()).toBeNull();
    const warnings = h.logs.filter((l) => l.level === 'warn' || l.level === 'error');
    expect(warnings).toEqual([{ level: 'warn', msg: expect.stringContaining('HTTP 403') }]);
  });

  it('stop() stops polling: the server sees no request after it resolves', async () => {
    const fake = await fakeImds();
    const h = watch({ baseUrl: fake.url, intervalMs: 20 });
    await fake.until(() => fake.spotGets >= 3, 'three polls');
    await withTimeout(h.watcher.stop(), 'stop');
    const seen = fake.requests.length;
    // Absence can only be shown by waiting: ten poll intervals.
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.requests.length).toBe(seen);
    expect(await h.watcher.pollOnce()).toBeNull();
    expect(fake.requests.length).toBe(seen);
    expect(h.logs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });

  it('stop() during a slow request aborts it and waits for the poll to finish', async () => {
    let requests = 0;
    const held: http.ServerResponse[] = [];
    const server = http.createServer((_req, res) => {
      requests++;
      held.push(res); // never answered
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const h = watch({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, intervalMs: 20, timeoutMs: 60_000 });
    const poll = h.watcher.pollOnce();
    await withTimeout(new Promise<void>((resolve) => server.once('request', () => resolve())), 'the token request');
    await withTimeout(h.watcher.stop(), 'stop with a request in flight');
    expect(await withTimeout(poll, 'the aborted poll')).toBeNull();
    await new Promise((r) => setTimeout(r, 100));
    expect(requests).toBe(1);
    // Being stopped is not a failure.
    expect(h.logs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    expect(h.statuses).toEqual([]);
  });

  it('a bad baseUrl or option is logged, never thrown', async () => {
    const h = watch({ baseUrl: 'not a url' });
    expect(await h.watcher.pollOnce()).toBeNull();
    await h.watcher.stop();
    expect(h.logs).toEqual([{ level: 'error', msg: expect.stringContaining('bad baseUrl') }]);

    const fake = await fakeImds();
    const h2 = watch({ baseUrl: fake.url, intervalMs: -1 });
    expect(h2.logs[0]).toMatchObject({ level: 'warn', msg: expect.stringContaining('intervalMs') });
    expect(await h2.watcher.pollOnce()).toBeNull();
  });
});
