// `npm start` here: no Electron binary and no DISPLAY, so it says why and falls back to
// `workstation serve`, whose printed URL (with its token) opens the app.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../src-main/electron/service-client';
import { tempDir } from '../helpers/samples';

const ROOT = path.resolve(__dirname, '../..');
let child: ChildProcess | null = null;

afterAll(async () => {
  if (child && child.exitCode === null) {
    process.kill(-child.pid!, 'SIGKILL');
  }
});

describe('npm start', () => {
  it('falls back to serve mode with a clear reason and a working URL', async () => {
    const home = tempDir('ws-npm-start-');
    const env: NodeJS.ProcessEnv = { ...process.env, WORKSTATION_HOME: home };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    delete env.WORKSTATION_SERVE;
    let out = '';
    child = spawn('npm', ['start', '--silent'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL within 240 s; output:\n${out}`)), 240_000);
      const check = () => {
        const m = out.match(/workstation serve: (http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child!.stdout!.on('data', check);
      child!.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`npm start exited (${code}) before printing a URL:\n${out}`));
      });
    });
    expect(out).toMatch(/Electron cannot start here: no DISPLAY .*; no Electron binary .*Starting headless serve mode instead/);

    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('<title>ImageNet Workstation</title>');
    // the token is what lets the page in
    const noToken = await fetch(url.replace(/\?token=.*/, ''));
    expect(noToken.status).toBe(401);

    // a stop signal reaches the server through npm and start.mjs; it shuts down cleanly
    // (removes the service.json it wrote, which names its pid)
    const info = JSON.parse(fs.readFileSync(path.join(home, 'service.json'), 'utf8')) as { pid: number; port: number };
    expect(url).toContain(`:${info.port}/`);
    child.removeAllListeners('exit');
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    const until = Date.now() + 30_000;
    while (isProcessAlive(info.pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(isProcessAlive(info.pid)).toBe(false);
    expect(fs.existsSync(path.join(home, 'service.json'))).toBe(false);
  });
});
