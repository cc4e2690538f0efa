// Notices (service/notify): which run events notify (completed, failed, diverged, stalled,
// starved; each can be switched off), the 'notify' service event the clients turn into desktop
// notifications, and the webhook POST — against real HTTP receivers on 127.0.0.1: notices of
// real tiny runs arrive, a 500 is retried with backoff under the same delivery id, a receiver that
// never answers does not hold training up, and the URL's secrets never reach a log line.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Notice, RunSummary } from '../../src-shared/api/schemas';
import { NotificationSettingsSchema } from '../../src-shared/config/settings';
import { createEventDetector, STARVED_WAIT_FRACTION } from '../../src-main/service/notify/detect';
import { createWebhookSender, redactUrl, scrubUrl } from '../../src-main/service/notify/webhook';
import { createService, type Service } from '../../src-main/service/service';
import { tempDir } from '../helpers/samples';
import { tinyConfig } from './tiny-config';
import { waitEvent, waitStatus } from './wait-event';

interface Post {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  at: number;
}

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** An HTTP receiver on 127.0.0.1; `answer` decides each response (return false to never answer). */
async function receiver(answer: (p: Post, i: number) => number | false = () => 200) {
  const posts: Post[] = [];
  const hanging: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (text += d));
    req.on('end', () => {
      const p: Post = { path: req.url ?? '', headers: req.headers, body: JSON.parse(text || '{}') as Record<string, unknown>, at: Date.now() };
      posts.push(p);
      const code = answer(p, posts.length - 1);
      if (code === false) return void hanging.push(res);
      res.statusCode = code;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  closers.push(
    () =>
      new Promise((r) => {
        for (const h of hanging) h.destroy();
        server.closeAllConnections();
        server.close(r);
      }),
  );
  return { base: `http://127.0.0.1:${port}`, port, posts };
}

async function openService(dir: string, opts: Parameters<typeof createService>[0]['notify'] = {}) {
  const logs: string[] = [];
  const svc = await createService({ dbPath: path.join(dir, 'ws.db'), dataDir: dir, onLog: (_l, m) => logs.push(m), notify: opts });
  svc.on('log.line', (l) => logs.push(l.message));
  closers.push(() => svc.close());
  const notices: Notice[] = [];
  svc.on('notify', (n) => notices.push(n));
  return { svc, logs, notices };
}

async function until(what: string, ok: () => boolean, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function finish(svc: Service, run: RunSummary): Promise<RunSummary> {
  return (await svc.runs.whenFinished(run.id)).run;
}

// a URL with every kind of secret part: userinfo, token-like path segments, a query token
const SECRETS = ['hookuser', 's3cretPass', 'T0A1B2C3', 'xoxbQ9zK7', 'qwerty-token-77'];
const secretUrl = (base: string) => `${base.replace('http://', 'http://hookuser:s3cretPass@')}/services/T0A1B2C3/xoxbQ9zK7?token=qwerty-token-77`;

describe('webhook URL redaction', () => {
  it('hides userinfo, query values, the fragment and token-like path segments; keeps scheme, host and plain words', () => {
    expect(redactUrl('https://u:p@hooks.example.com:8443/services/T000/B000/XXXX?token=abc&x=1#frag')).toBe(
      'https://***@hooks.example.com:8443/services/***/***/***?token=***&x=***#***',
    );
    expect(redactUrl('https://discord.com/api/webhooks/123456/AbCdEf')).toBe('https://discord.com/api/webhooks/***/***');
    expect(redactUrl('http://127.0.0.1:9000/notify')).toBe('http://127.0.0.1:9000/notify');
    expect(redactUrl('not a url')).toBe('<invalid URL>');
    const url = 'https://me:pw123@x.test/hooks/SeCrEt987?k=tok456';
    expect(scrubUrl(`POST ${url} failed; token tok456, path SeCrEt987, password pw123`, url)).toBe(
      'POST https://***@x.test/hooks/***?k=*** failed; token ***, path ***, password ***',
    );
  });
});

describe('webhook delivery (receivers on 127.0.0.1)', () => {
  it('retries a 500 with exponential backoff under one delivery id, then delivers; Basic auth from the URL; secrets never logged', async () => {
    const rx = await receiver((_p, i) => (i < 2 ? 500 : 200));
    const logs: string[] = [];
    const url = secretUrl(rx.base);
    const w = createWebhookSender({ url: () => url, log: (_l, m) => logs.push(m), backoffMs: 150, maxAttempts: 5 });
    closers.push(() => w.close(0));
    w.send({ id: 'delivery-1', kind: 'completed', title: 't' });
    await w.idle();
    expect(rx.posts).toHaveLength(3);
    expect(rx.posts.map((p) => p.headers['x-workstation-delivery'])).toEqual(['delivery-1', 'delivery-1', 'delivery-1']);
    expect(rx.posts.map((p) => p.headers['x-workstation-attempt'])).toEqual(['1', '2', '3']);
    expect(rx.posts[0].headers.authorization).toBe(`Basic ${Buffer.from('hookuser:s3cretPass').toString('base64')}`);
    expect(rx.posts[0].path).toBe('/services/T0A1B2C3/xoxbQ9zK7?token=qwerty-token-77');
    expect(rx.posts[0].headers['content-type']).toBe('application/json');
    expect(rx.posts[0].body).toEqual({ id: 'delivery-1', kind: 'completed', title: 't' });
    // 150 ms, then 300 ms
    const gaps = [rx.posts[1].at - rx.posts[0].at, rx.posts[2].at - rx.posts[1].at];
    expect(gaps[0]).toBeGreaterThanOrEqual(140);
    expect(gaps[1]).toBeGreaterThanOrEqual(290);
    expect(gaps[1]).toBeGreaterThan(gaps[0]);
    expect(logs.some((l) => /attempt 1 of 5 failed \(HTTP 500\); retrying in 0\.15 s/.test(l))).toBe(true);
    expect(logs.some((l) => /delivered on attempt 3/.test(l))).toBe(true);
    for (const s of SECRETS) expect(logs.join('\n')).not.toContain(s);
    expect(logs.join('\n')).toContain(`http://***@127.0.0.1:${rx.port}/services/***/***?token=***`);
  });

  it('gives up on a 4xx at once and after the last attempt on errors; a closed port is logged without the secrets', async () => {
    const rx = await receiver(() => 404);
    const logs: string[] = [];
    const w = createWebhookSender({ url: () => secretUrl(rx.base), log: (_l, m) => logs.push(m), backoffMs: 10 });
    w.send({ id: 'a', kind: 'failed' });
    await w.idle();
    expect(rx.posts).toHaveLength(1);
    expect(logs.at(-1)).toMatch(/refused with HTTP 404; not retried/);
    // a port nobody listens on: connection refused, three attempts
    const dead = await receiver();
    const deadUrl = secretUrl(dead.base);
    await closers.pop()!(); // closes `dead`
    const w2 = createWebhookSender({ url: () => deadUrl, log: (_l, m) => logs.push(m), backoffMs: 10, maxAttempts: 3 });
    w2.send({ id: 'b', kind: 'failed' });
    await w2.idle();
    expect(logs.at(-1)).toMatch(/not delivered after 3 attempts/);
    for (const s of SECRETS) expect(logs.join('\n')).not.toContain(s);
  });

  it('a receiver that never answers: send() returns at once, the attempt times out, close() abandons it', async () => {
    const rx = await receiver(() => false);
    const logs: string[] = [];
    const w = createWebhookSender({ url: () => `${rx.base}/hook`, log: (_l, m) => logs.push(m), timeoutMs: 300, backoffMs: 50, maxAttempts: 2 });
    const t0 = performance.now();
    w.send({ id: 'h', kind: 'stalled' });
    expect(performance.now() - t0).toBeLessThan(20);
    await w.idle();
    expect(rx.posts).toHaveLength(2);
    expect(logs.join('\n')).toMatch(/no answer within 300 ms/);
    const w2 = createWebhookSender({ url: () => `${rx.base}/hook`, log: () => undefined, timeoutMs: 60_000 });
    w2.send({ id: 'h2', kind: 'stalled' });
    await until('the request to reach the receiver', () => rx.posts.length === 3);
    const c0 = performance.now();
    await w2.close(100);
    expect(performance.now() - c0).toBeLessThan(2000);
  });
});

describe('event detection', () => {
  const run = (over: Partial<RunSummary> = {}): RunSummary =>
    ({
      id: 7,
      name: 'r',
      status: 'running',
      parentRunId: null,
      parentCheckpointId: null,
      forkEpoch: null,
      seed: 1,
      backend: 'cpu',
      host: 'h',
      createdAt: '',
      startedAt: '',
      endedAt: null,
      error: null,
      lastEpoch: 3,
      targetEpochs: 10,
      bestValTop1: 42.13,
      owner: null,
      notes: '',
      tags: [],
      ...over,
    }) as RunSummary;
  const step = (over: Record<string, unknown> = {}) => ({
    runId: 7,
    epoch: 2,
    step: 4,
    stepsInEpoch: 20,
    globalStep: 24,
    loss: 2,
    top1: 10,
    lr: 0.1,
    momentum: 0.9,
    imagesPerSec: 100,
    etaSeconds: null,
    targetEpochs: 10,
    phase: 'train',
    ...over,
  });

  it('stalled after N minutes without a step (not while paused), starved after N minutes of mostly waiting; once each until it recovers', () => {
    let t = 0;
    const notices: Notice[] = [];
    const settings = NotificationSettingsSchema.parse({ stalledMinutes: 2, starvedMinutes: 1 });
    const d = createEventDetector({ settings: () => settings, notify: (n) => notices.push(n), now: () => t });
    d.onEvent('run.status', { run: run({ status: 'queued' }) });
    t = 10 * 60_000; // queued for ten minutes: not a stall
    d.tick();
    d.onEvent('run.status', { run: run() });
    d.onEvent('run.step', step());
    t += 119_000;
    d.tick();
    expect(notices).toHaveLength(0);
    t += 1000;
    d.tick();
    d.tick();
    expect(notices.map((n) => n.kind)).toEqual(['stalled']);
    expect(notices[0]).toMatchObject({ runId: 7, title: 'Run #7 r stalled', body: 'no training step for 2 min (last at epoch 2 step 5/20)', desktop: true });
    // paused for an hour: no stall; running again, the clock restarts
    d.onEvent('run.status', { run: run({ status: 'paused' }) });
    t += 3_600_000;
    d.tick();
    d.onEvent('run.status', { run: run() });
    t += 60_000;
    d.tick();
    expect(notices).toHaveLength(1);
    // the loader: half the time waiting or more, for a minute
    for (let i = 0; i <= 6; i++) {
      d.onEvent('run.step', step({ dataWait: STARVED_WAIT_FRACTION + 0.2 }));
      t += 10_000;
    }
    d.onEvent('run.step', step({ dataWait: 0.9 }));
    expect(notices.map((n) => n.kind)).toEqual(['stalled', 'starved']);
    expect(notices[1].body).toMatch(/^the trainer waited for the data loader 7\d % of the time for 1 min: raise data\.workers/);
    // validation steps and a short dip do not re-arm it; a recovery does
    d.onEvent('run.step', step({ dataWait: 0.95 }));
    d.onEvent('run.step', step({ dataWait: 0.1 }));
    d.onEvent('run.step', step({ dataWait: 0.9 }));
    t += 61_000;
    d.onEvent('run.step', step({ dataWait: 0.9 }));
    expect(notices.map((n) => n.kind)).toEqual(['stalled', 'starved', 'starved']);
  });

  it('completed (with the early-stopping reason), failed vs diverged; an ended run re-announced is not news; switched-off kinds stay quiet', () => {
    const notices: Notice[] = [];
    let settings = NotificationSettingsSchema.parse({});
    const d = createEventDetector({ settings: () => settings, notify: (n) => notices.push(n) });
    d.onEvent('run.status', { run: run() });
    d.onEvent('run.event', {
      id: 1,
      runId: 7,
      kind: 'note',
      epoch: 3,
      globalStep: null,
      at: '',
      data: { message: 'early stopping: val top-1 did not improve for 2 epochs (best 42.1 % at epoch 1)', earlyStopping: {} },
    });
    d.onEvent('run.status', { run: run({ status: 'completed' }) });
    d.onEvent('run.status', { run: run({ status: 'completed', notes: 'edited later' }) });
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({
      kind: 'completed',
      title: 'Run #7 r completed',
      body: 'epoch 3/10, best val top-1 42.1 %; early stopping: val top-1 did not improve for 2 epochs (best 42.1 % at epoch 1)',
    });
    d.onEvent('run.status', { run: run({ id: 8 }) });
    d.onEvent('run.event', { id: 2, runId: 8, kind: 'error', epoch: 1, globalStep: 3, at: '', data: { code: 'DIVERGED', message: 'x' } });
    d.onEvent('run.status', { run: run({ id: 8, status: 'failed', error: 'training diverged in epoch 1' }) });
    d.onEvent('run.status', { run: run({ id: 9 }) });
    d.onEvent('run.status', { run: run({ id: 9, status: 'failed', error: 'no such folder' }) });
    d.onEvent('run.status', { run: run({ id: 10 }) });
    d.onEvent('run.status', { run: run({ id: 10, status: 'stopped' }) });
    expect(notices.slice(1).map((n) => [n.kind, n.runId, n.body])).toEqual([
      ['diverged', 8, 'training diverged in epoch 1'],
      ['failed', 9, 'no such folder'],
    ]);
    settings = NotificationSettingsSchema.parse({ completed: false, desktop: false });
    d.onEvent('run.status', { run: run({ id: 11 }) });
    d.onEvent('run.status', { run: run({ id: 11, status: 'completed' }) });
    d.onEvent('run.status', { run: run({ id: 12 }) });
    d.onEvent('run.status', { run: run({ id: 12, status: 'failed' }) });
    expect(notices.slice(3).map((n) => [n.kind, n.runId, n.desktop])).toEqual([['failed', 12, false]]);
  });
});

describe('notices of real runs (tiny ResNet-50 on the demo dataset, pure-JS CPU)', () => {
  it('a completed run (early stopping), a failed one and a diverged one: notify events and webhook POSTs, secrets not in any log', async () => {
    const rx = await receiver();
    const dir = tempDir('ws-notify-');
    const { svc, logs, notices } = await openService(dir, { webhook: { backoffMs: 50 } });
    const url = secretUrl(rx.base);
    const s = await svc.call('settings.set', { patch: { webhookUrl: url, notifications: { stalled: false } } });
    expect(s).toMatchObject({ webhookUrl: url, notifications: { stalled: false, completed: true, desktop: true }, autoResume: true });

    // early stopping: no epoch beats the first by 1000 points, so it ends after epoch 2 of 4, completed
    const cfg = tinyConfig({ name: 'early', epochs: 4 });
    (cfg.train as Record<string, unknown>).earlyStopping = { metric: 'valTop1', patience: 1, minDelta: 1000 };
    const early = await finish(svc, svc.runs.start({ config: cfg }));
    expect(early).toMatchObject({ status: 'completed', lastEpoch: 2, targetEpochs: 4 });
    const note = svc.store.events.list(early.id).find((e) => e.kind === 'note' && e.data.earlyStopping);
    expect(note?.data.message).toMatch(/^early stopping: val top-1 did not improve by 1000 for 1 epoch \(best \d+\.\d % at epoch 1\)$/);
    expect(note?.epoch).toBe(2);

    const missing = await finish(svc, svc.runs.start({ config: tinyConfig({ name: 'missing', root: path.join(dir, 'no-such-imagenet') }) }));
    expect(missing.status).toBe('failed');
    const huge = tinyConfig({ name: 'boom', steps: 6 });
    huge.optimizer = { lr: 1e12 };
    const boom = await finish(svc, svc.runs.start({ config: huge }));
    expect(boom.status).toBe('failed');
    expect(svc.store.events.list(boom.id).some((e) => e.kind === 'error' && e.data.code === 'DIVERGED')).toBe(true);

    await until('three webhook POSTs', () => rx.posts.length >= 3);
    expect(notices.map((n) => [n.kind, n.runId])).toEqual([
      ['completed', early.id],
      ['failed', missing.id],
      ['diverged', boom.id],
    ]);
    expect(notices[0].body).toContain('early stopping: val top-1 did not improve by 1000');
    expect(notices[2].body).toMatch(/^training diverged in epoch 1/);
    expect(rx.posts.map((p) => [p.body.event, (p.body.run as { id: number }).id])).toEqual([
      ['run.completed', early.id],
      ['run.failed', missing.id],
      ['run.diverged', boom.id],
    ]);
    expect(rx.posts[0].body).toMatchObject({
      id: notices[0].id,
      title: `Run #${early.id} early completed`,
      run: { status: 'completed', lastEpoch: 2, tags: [] },
    });
    expect(rx.posts[0].headers['x-workstation-delivery']).toBe(notices[0].id);
    expect(rx.posts[0].path).toBe('/services/T0A1B2C3/xoxbQ9zK7?token=qwerty-token-77');
    // the URL was stored as given and said in the log only redacted
    expect(logs.some((l) => l.includes(`notices are POSTed to http://***@127.0.0.1:${rx.port}/services/***/***?token=***`))).toBe(true);
    for (const secret of SECRETS) expect(logs.join('\n')).not.toContain(secret);
    // switched off: the next run completing says nothing
    await svc.call('settings.set', { patch: { notifications: { completed: false } } });
    expect((await svc.call('settings.get', {})).notifications).toMatchObject({ completed: false, stalled: false, failed: true });
    await finish(svc, svc.runs.start({ config: tinyConfig({ name: 'quiet', epochs: 1 }) }));
    await new Promise((r) => setTimeout(r, 200));
    expect(notices).toHaveLength(3);
    expect(rx.posts).toHaveLength(3);
  });

  it('a stall while a receiver hangs: the notice goes out, training does not wait for the POST, and closing the service does not hang', async () => {
    const rx = await receiver(() => false);
    const dir = tempDir('ws-notify-hang-');
    const { svc, notices } = await openService(dir, { tickMs: 25, webhook: { timeoutMs: 120_000 } });
    // 0.3 s without a step is a stall here: building the model and indexing the dataset take longer
    await svc.call('settings.set', { patch: { webhookUrl: `${rx.base}/hook`, notifications: { stalledMinutes: 0.005 } } });
    const stalled = waitEvent(svc, 'notify', (n) => n.kind === 'stalled');
    const run = svc.runs.start({ config: tinyConfig({ name: 'hang', epochs: 2 }) });
    const n = await stalled;
    expect(n).toMatchObject({ runId: run.id, title: `Run #${run.id} hang stalled` });
    expect(n.body).toMatch(/^no training step for 0\.3 s|^no training step for 18 s|^no training step for/);
    await until('the POST to reach the hanging receiver', () => rx.posts.length >= 1);
    // the request hangs (two-minute timeout) while the run trains to its end
    const done = await waitStatus(svc, run.id, ['completed', 'failed', 'stopped']);
    expect(done.status).toBe('completed');
    expect(rx.posts[0].body).toMatchObject({ event: 'run.stalled', run: { id: run.id } });
    const t0 = performance.now();
    await closers.pop()!(); // svc.close(): two seconds of grace for pending POSTs, then they are abandoned
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(notices.some((x) => x.kind === 'completed')).toBe(true);
  });
});
