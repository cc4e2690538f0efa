// `npm start` in both situations a machine can be in, each created here rather than read from
// the machine: Electron's binary missing (ELECTRON_OVERRIDE_DIST_PATH names an empty folder) with
// no DISPLAY, where it says why and falls back to `workstation serve`, whose printed URL (with its
// token) opens the app; and a binary present (a stand-in shell script that opens no window), which
// it launches instead of falling back, or falls back from when it dies right away.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../src-main/common/service-file';
import { tempDir } from '../helpers/samples';

const ROOT = path.resolve(__dirname, '../..');
let child: ChildProcess | null = null;

afterAll(async () => {
  if (child && child.exitCode === null) {
    process.kill(-child.pid!, 'SIGKILL');
  }
});

/** A folder for ELECTRON_OVERRIDE_DIST_PATH whose `electron` prints how it was started and exits with `code`. */
function standInElectron(code: number): string {
  const dist = tempDir('ws-electron-dist-');
  fs.writeFileSync(
    path.join(dist, 'electron'),
    `#!/bin/sh\necho "stand-in electron: $*"\necho "stand-in env: DISPLAY=$DISPLAY ELECTRON_RUN_AS_NODE=\${ELECTRON_RUN_AS_NODE-unset}"\nexit ${code}\n`,
    { mode: 0o755 },
  );
  return dist;
}

/**
 * A packaged-style install of npm start's own scripts: everything it would build is there and no
 * sources are (so it builds nothing), and bin/workstation.cjs is a stand-in that prints its
 * arguments. The real serve fallback is the first test's; these are about the Electron branch.
 */
function packagedRoot(): string {
  const root = tempDir('ws-start-root-');
  fs.mkdirSync(path.join(root, 'scripts'));
  for (const f of ['start.mjs', 'start-decision.mjs']) fs.copyFileSync(path.join(ROOT, 'scripts', f), path.join(root, 'scripts', f));
  for (const f of ['out/node/cli.cjs', 'out/node/service.cjs', 'out/renderer/index.html', 'out/main/index.js', 'out/preload/index.cjs']) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), '');
  }
  fs.mkdirSync(path.join(root, 'bin'));
  fs.writeFileSync(path.join(root, 'bin/workstation.cjs'), "console.log('stand-in workstation: ' + process.argv.slice(2).join(' '));\n");
  return root;
}

/** Runs `node <root>/scripts/start.mjs ...args` to its end. */
function runStart(root: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(root, 'scripts/start.mjs'), ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`start.mjs did not end within 60 s:\n${out}`));
    }, 60_000);
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

function baseEnv(over: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, WORKSTATION_HOME: tempDir('ws-npm-start-home-'), ...over };
  delete env.WORKSTATION_SERVE;
  if (!('DISPLAY' in over)) delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  return env;
}

describe('npm start', () => {
  it('falls back to serve mode with a clear reason and a working URL', async () => {
    const home = tempDir('ws-npm-start-');
    // no Electron binary: the override names an empty folder (electron's package honours it too)
    const noBinary = tempDir('ws-electron-none-');
    const env = baseEnv({ WORKSTATION_HOME: home, ELECTRON_OVERRIDE_DIST_PATH: noBinary });
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
    expect(out).toContain(
      `Electron cannot start here: no DISPLAY (no X server or Wayland session to draw a window on); no Electron binary (ELECTRON_OVERRIDE_DIST_PATH has no ${path.join(noBinary, 'electron')}). Starting headless serve mode instead`,
    );

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

  it('launches an Electron binary that is there (app folder and arguments, ELECTRON_RUN_AS_NODE removed) instead of falling back', async () => {
    const root = packagedRoot();
    const env = baseEnv({ DISPLAY: ':93', ELECTRON_OVERRIDE_DIST_PATH: standInElectron(0), ELECTRON_RUN_AS_NODE: '1' });
    const { code, out } = await runStart(root, ['--inspect-app', 'x'], env);
    expect(out).toContain(`stand-in electron: ${root} --inspect-app x`);
    expect(out).toContain('stand-in env: DISPLAY=:93 ELECTRON_RUN_AS_NODE=unset');
    expect(out).not.toMatch(/Electron cannot start here|building|stand-in workstation/);
    expect(code).toBe(0); // the app's own exit code (a window the user closed)
  });

  it('falls back to serve mode when the Electron binary dies right after starting, or when --serve asks for it', async () => {
    const root = packagedRoot();
    const dies = baseEnv({ DISPLAY: ':93', ELECTRON_OVERRIDE_DIST_PATH: standInElectron(3) });
    const crashed = await runStart(root, ['--port', '9001'], dies);
    expect(crashed.out).toContain(`stand-in electron: ${root} --port 9001`);
    expect(crashed.out).toContain(
      'Electron cannot start here: Electron exited with code 3 right after starting (see its output above). Starting headless serve mode instead',
    );
    expect(crashed.out).toContain('stand-in workstation: serve --port 9001');
    expect(crashed.code).toBe(0); // the server's exit code

    // --serve: the binary is not even started
    const asked = await runStart(root, ['--serve', '--port', '9002'], baseEnv({ DISPLAY: ':93', ELECTRON_OVERRIDE_DIST_PATH: standInElectron(0) }));
    expect(asked.out).not.toContain('stand-in electron');
    expect(asked.out).toMatch(/Electron cannot start here: serve mode was asked for \(--serve/);
    expect(asked.out).toContain('stand-in workstation: serve --port 9002');
    expect(asked.code).toBe(0);
  });
});
