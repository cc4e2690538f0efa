// The data directory's app settings (settings.json) as the service uses them: auto-resume can be
// switched off there, an invalid file is refused naming the field, and turning on interruption
// watching from the app starts polling a metadata service (played by a local HTTP server) whose
// spot notice makes the running run write a mid-epoch checkpoint and stop.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createService, type Service } from '../../src-main/service/service';
import { settingsPath } from '../../src-main/service/settings-file';
import { tempDir } from '../helpers/samples';
import { tinyConfig } from './tiny-config';
import { waitEvent, waitStatus } from './wait-event';

const services: Service[] = [];
const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function open(dir: string, opts: { autoResume?: boolean } = {}): Promise<Service> {
  const s = await createService({ dbPath: path.join(dir, 'ws.db'), dataDir: dir, ...opts });
  services.push(s);
  return s;
}

/** A metadata service on 127.0.0.1: token flow, 404 until `interrupt()`, then a spot instance-action. */
async function fakeImds(): Promise<{ url: string; interrupt(): void; polls(): number }> {
  let spot = false;
  let polls = 0;
  const server = http.createServer((req, res) => {
    if (req.method === 'PUT' && req.url === '/latest/api/token') return res.end('token-1');
    if (req.headers['x-aws-ec2-metadata-token'] !== 'token-1') {
      res.statusCode = 401;
      return res.end();
    }
    if (req.url === '/latest/meta-data/spot/instance-action') {
      polls++;
      if (!spot) {
        res.statusCode = 404;
        return res.end();
      }
      return res.end(JSON.stringify({ action: 'terminate', time: '2026-12-01T12:00:00Z' }));
    }
    res.statusCode = 404;
    res.end();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, interrupt: () => (spot = true), polls: () => polls };
}

describe('settings', () => {
  it('defaults, survive a restart, and an invalid settings.json is refused naming the field', async () => {
    const dir = tempDir('settings-');
    const a = await open(dir);
    expect(await a.call('settings.get', {})).toEqual({
      autoResume: true,
      watchInterruptions: false,
      imdsUrl: null,
      notifications: { desktop: true, completed: true, failed: true, diverged: true, stalled: true, stalledMinutes: 15, starved: true, starvedMinutes: 10 },
      webhookUrl: null,
    });
    await a.call('settings.set', { patch: { watchInterruptions: true, imdsUrl: 'http://127.0.0.1:1' } });
    // a patch changes only what it names (absent fields are not reset to their defaults)
    await a.call('settings.set', { patch: { autoResume: false, notifications: { starved: false } } });
    await a.call('settings.set', { patch: { watchInterruptions: false } });
    await a.close();
    const b = await open(dir);
    expect(await b.call('settings.get', {})).toMatchObject({
      autoResume: false,
      imdsUrl: 'http://127.0.0.1:1',
      notifications: { starved: false, stalled: true, completed: true },
    });
    // a settings.json of an older build (no notifications, no webhook) still reads, with the defaults
    await b.close();
    fs.writeFileSync(settingsPath(dir), JSON.stringify({ autoResume: false, watchInterruptions: false, imdsUrl: null }));
    const c = await open(dir);
    expect(await c.call('settings.get', {})).toMatchObject({ autoResume: false, webhookUrl: null, notifications: { desktop: true, stalledMinutes: 15 } });
    await expect(c.call('settings.set', { patch: { webhookUrl: 'ftp://x.test/hook' } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'patch.webhookUrl',
    });
    await c.close();
    await b.close();
    fs.writeFileSync(settingsPath(dir), JSON.stringify({ autoResume: 'yes' }));
    await expect(open(dir)).rejects.toMatchObject({ code: 'INVALID_CONFIG', field: 'autoResume', message: expect.stringContaining('settings.json') });
  });

  it('turning on interruption watching in the app: a spot notice checkpoints the run and stops it', async () => {
    const dir = tempDir('spot-');
    const imds = await fakeImds();
    const svc = await open(dir);
    const stepped = waitEvent(svc, 'run.step', (p) => p.phase === 'train' && p.globalStep >= 2);
    const run = svc.runs.start({ config: tinyConfig({ name: 'spot', epochs: 50, steps: 8 }) });
    await stepped;
    const watching = waitEvent(svc, 'log.line', (l) => l.message.includes('watching for EC2'));
    await svc.call('settings.set', { patch: { watchInterruptions: true, imdsUrl: imds.url } });
    await watching; // the metadata service is polled; nothing happens while it says 404
    const stopped = waitStatus(svc, run.id, ['stopped', 'failed', 'completed']);
    const saved = waitEvent(svc, 'checkpoint.saved', (c) => c.runId === run.id && c.kind === 'mid-epoch');
    imds.interrupt();
    const ck = await saved;
    expect((await stopped).status).toBe('stopped');
    expect(imds.polls()).toBeGreaterThan(0);
    const events = svc.store.events.list(run.id);
    expect(events.find((e) => e.kind === 'note' && e.data.message)?.data.message).toBe(
      'EC2 spot interruption: the instance will terminate at 2026-12-01T12:00:00Z',
    );
    expect(svc.store.checkpoints.latest(run.id)?.id).toBe(ck.id);
  });
});
