// scripts/ec2/start-x-vnc.sh on a real Xvfb display: VNC listens on loopback only, and the app
// window opens: Chromium in app mode on the served UI when Electron has no binary (created here:
// ELECTRON_OVERRIDE_DIST_PATH names an empty folder), or the Electron binary itself when there is
// one (a stand-in shell script that opens no window). The screenshot of the display is kept in
// docs/screenshots/xvfb-window.png.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../src-main/common/service-file';
import { tempDir } from '../helpers/samples';

const ROOT = path.resolve(__dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts/ec2/start-x-vnc.sh');
const SHOT = path.join(ROOT, process.env.UPDATE_SCREENSHOTS ? 'docs/screenshots' : 'test-results/screenshots', 'xvfb-window.png');

function freeDisplay(): number {
  // away from :99, where xvfb-run (e2e helpers) starts counting
  for (let n = 150; n < 250; n++) if (!fs.existsSync(`/tmp/.X11-unix/X${n}`) && !fs.existsSync(`/tmp/.X${n}-lock`)) return n;
  throw new Error('no free X display number');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Local addresses listening on `port`, from /proc/net/tcp{,6} (state 0A = LISTEN). */
function listeners(port: number): string[] {
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== '0A') continue;
      const [addr, hexPort] = cols[1].split(':');
      if (parseInt(hexPort, 16) === port) out.push(addr);
    }
  }
  return out;
}

const LOOPBACK = new Set(['0100007F', '00000000000000000000000001000000']);

function waitForOutput(child: ChildProcess, out: () => string, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`timed out waiting for ${pattern}; output:\n${out()}`)), timeoutMs);
    const check = () => {
      const m = out().match(pattern);
      if (m) done(null, m);
    };
    const onExit = (code: number | null) => done(new Error(`script exited (${code}) before ${pattern}; output:\n${out()}`));
    function done(err: Error | null, m?: RegExpMatchArray) {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.stderr?.off('data', check);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m!);
    }
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', onExit);
    check();
  });
}

/**
 * The script and npm start's own scripts in a packaged-style install: everything npm start would
 * build is there and no sources are, so it builds nothing and goes straight to the Electron binary.
 */
function packagedRoot(): string {
  const root = tempDir('ws-xvfb-root-');
  fs.mkdirSync(path.join(root, 'scripts/ec2'), { recursive: true });
  fs.copyFileSync(SCRIPT, path.join(root, 'scripts/ec2/start-x-vnc.sh'));
  for (const f of ['start.mjs', 'start-decision.mjs']) fs.copyFileSync(path.join(ROOT, 'scripts', f), path.join(root, 'scripts', f));
  for (const f of ['out/node/cli.cjs', 'out/node/service.cjs', 'out/renderer/index.html', 'out/main/index.js', 'out/preload/index.cjs']) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), '');
  }
  return root;
}

let script: ChildProcess | null = null;
afterAll(async () => {
  if (script && script.exitCode === null) {
    script.kill('SIGTERM');
    await new Promise((r) => script!.once('exit', r));
  }
});

describe('scripts/ec2/start-x-vnc.sh', () => {
  it('starts Xvfb, VNC on localhost only, and the app window', async () => {
    const display = freeDisplay();
    const rfbport = await freePort();
    const home = tempDir('ws-xvfb-home-');
    const stateDir = tempDir('ws-xvfb-state-');
    // no Electron binary: the override names an empty folder (electron's package honours it too)
    const noBinary = tempDir('ws-xvfb-no-electron-');
    const env: NodeJS.ProcessEnv = { ...process.env, WORKSTATION_HOME: home, WS_X_STATE_DIR: stateDir, ELECTRON_OVERRIDE_DIST_PATH: noBinary };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    let out = '';
    script = spawn('bash', [SCRIPT, '--display', `:${display}`, '--geometry', '1280x800x24', '--rfbport', String(rfbport)], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    script.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    script.stderr!.on('data', (d: Buffer) => (out += d.toString()));

    await waitForOutput(script, () => out, /start-x-vnc: ready/, 240_000);
    expect(out).toMatch(new RegExp(`Xvfb on :${display} \\(1280x800x24\\)`));

    // VNC: listening, and only on 127.0.0.1 / ::1 (reachable through an SSH tunnel only)
    expect(out).toMatch(new RegExp(`VNC on 127\\.0\\.0\\.1:${rfbport}`));
    const addrs = listeners(rfbport);
    expect(addrs.length).toBeGreaterThan(0);
    for (const a of addrs) expect(LOOPBACK.has(a), `VNC listens on ${a}`).toBe(true);

    // npm start could not start Electron (no binary; the display itself is there) and fell back
    // to serve mode; the script opened the served UI in Chromium's app mode on the display.
    const appLog = fs.readFileSync(path.join(stateDir, 'app.log'), 'utf8');
    expect(appLog).toContain(`Electron cannot start here: no Electron binary (ELECTRON_OVERRIDE_DIST_PATH has no ${path.join(noBinary, 'electron')})`);
    expect(out).toMatch(/window: chromium app mode on :\d+ -> http:\/\/127\.0\.0\.1:\d+\//);

    // the window shows the app: its title appears in the X window tree
    const until = Date.now() + 90_000;
    let tree = '';
    while (Date.now() < until) {
      tree = spawnSync('xwininfo', ['-root', '-tree', '-display', `:${display}`], { encoding: 'utf8' }).stdout ?? '';
      if (tree.includes('ImageNet Workstation')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(tree).toContain('ImageNet Workstation');

    // screenshot of the whole display: not blank (the UI has drawn), kept for the docs
    fs.mkdirSync(path.dirname(SHOT), { recursive: true });
    let stdev = 0;
    const shotUntil = Date.now() + 60_000;
    while (Date.now() < shotUntil) {
      await new Promise((r) => setTimeout(r, 2000)); // let the page lay out and fetch its data
      const r = spawnSync('import', ['-display', `:${display}`, '-window', 'root', SHOT], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const stats = await sharp(SHOT).stats();
      stdev = Math.max(...stats.channels.slice(0, 3).map((c) => c.stdev));
      if (stdev > 8) break;
    }
    const meta = await sharp(SHOT).metadata();
    expect([meta.width, meta.height]).toEqual([1280, 800]);
    expect(stdev).toBeGreaterThan(8); // a blank display (black root, white page) has ~0

    // SIGTERM stops everything the script started (display socket gone, port closed)
    script.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => script!.once('exit', r));
    expect(code).toBe(143);
    expect(out).toMatch(/start-x-vnc: stopped/);
    expect(fs.existsSync(`/tmp/.X11-unix/X${display}`)).toBe(false);
    expect(listeners(rfbport)).toEqual([]);
  });

  it('runs the Electron binary on the display when there is one (no Chromium fallback)', async () => {
    const display = freeDisplay();
    const root = packagedRoot();
    const stateDir = tempDir('ws-xvfb-state-');
    // stand-in Electron: records how it was started, then stays up (as the app would) without a window
    const dist = tempDir('ws-xvfb-electron-');
    const record = path.join(dist, 'started.txt');
    fs.writeFileSync(path.join(dist, 'electron'), `#!/bin/sh\necho "pid=$$ display=$DISPLAY args=$*" > '${record}'\nexec sleep 600\n`, { mode: 0o755 });
    const env: NodeJS.ProcessEnv = { ...process.env, WORKSTATION_HOME: tempDir('ws-xvfb-home-'), WS_X_STATE_DIR: stateDir, ELECTRON_OVERRIDE_DIST_PATH: dist };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    delete env.WORKSTATION_SERVE;
    let out = '';
    script = spawn('bash', [path.join(root, 'scripts/ec2/start-x-vnc.sh'), '--display', `:${display}`, '--geometry', '800x600x24', '--no-vnc'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    script.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    script.stderr!.on('data', (d: Buffer) => (out += d.toString()));

    await waitForOutput(script, () => out, /start-x-vnc: ready/, 120_000);
    expect(out).toMatch(new RegExp(`window: Electron on :${display} \\(log: `));
    expect(out).not.toMatch(/app mode/);
    const started = fs.readFileSync(record, 'utf8').trim();
    expect(started).toMatch(/^pid=\d+ /);
    expect(started.replace(/^pid=\d+ /, '')).toBe(`display=:${display} args=${root}`);
    const appLog = fs.readFileSync(path.join(stateDir, 'app.log'), 'utf8');
    expect(appLog).not.toMatch(/Electron cannot start here|building/);

    // SIGTERM reaches the app through npm start's relay: nothing the script started is left
    const pid = Number(started.match(/^pid=(\d+)/)![1]);
    expect(isProcessAlive(pid)).toBe(true);
    script.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => script!.once('exit', r));
    expect(code).toBe(143);
    expect(out).toMatch(/start-x-vnc: stopped/);
    const until = Date.now() + 10_000;
    while (isProcessAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(isProcessAlive(pid)).toBe(false);
    expect(fs.existsSync(`/tmp/.X11-unix/X${display}`)).toBe(false);
  });
});
