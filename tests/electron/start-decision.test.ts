// `npm start`'s decisions (Electron or serve, what to build) on real temp folders.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFlags, electronAvailability, electronBinary, fallbackMessage, parseStartArgs, staleTargets } from '../../scripts/start-decision.mjs';
import { tempDir } from '../helpers/samples';

/** A checkout with node_modules/electron; `binary` adds path.txt + dist/electron like a finished download. */
function fakeRoot(binary: boolean): string {
  const root = tempDir('ws-start-');
  const pkg = path.join(root, 'node_modules', 'electron');
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(path.join(pkg, 'package.json'), '{"name":"electron","version":"45.4.1"}');
  if (binary) {
    fs.writeFileSync(path.join(pkg, 'path.txt'), 'electron');
    fs.mkdirSync(path.join(pkg, 'dist'));
    fs.writeFileSync(path.join(pkg, 'dist', 'electron'), '#!/bin/sh\n', { mode: 0o755 });
  }
  return root;
}

/** A folder holding a stand-in `name` executable (a shell script: it cannot open a window). */
function standInDist(name = 'electron'): string {
  const dist = tempDir('ws-electron-dist-');
  fs.mkdirSync(path.dirname(path.join(dist, name)), { recursive: true });
  fs.writeFileSync(path.join(dist, name), '#!/bin/sh\necho "stand-in electron $*"\n', { mode: 0o755 });
  return dist;
}

function touch(file: string, mtime: Date): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, 'x');
  fs.utimesSync(file, mtime, mtime);
}

describe('electronAvailability', () => {
  it('starts Electron with a downloaded binary and a DISPLAY', () => {
    const root = fakeRoot(true);
    expect(electronAvailability({ root, platform: 'linux', env: { DISPLAY: ':1' } })).toEqual({
      ok: true,
      binary: path.join(root, 'node_modules/electron/dist/electron'),
    });
    // Wayland counts as a display; macOS and Windows need none
    expect(electronAvailability({ root, platform: 'linux', env: { WAYLAND_DISPLAY: 'wayland-0' } }).ok).toBe(true);
    expect(electronAvailability({ root, platform: 'darwin', env: {} }).ok).toBe(true);
  });

  it('falls back without a DISPLAY on Linux', () => {
    const r = electronAvailability({ root: fakeRoot(true), platform: 'linux', env: {} });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reasons).toEqual([expect.stringMatching(/^no DISPLAY/)]);
  });

  it('falls back when the lazy binary download never happened (no path.txt / dist)', () => {
    const r = electronAvailability({ root: fakeRoot(false), platform: 'linux', env: { DISPLAY: ':0' } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reasons[0]).toMatch(/^no Electron binary \(node_modules\/electron\/dist is missing/);
    const root = fakeRoot(true);
    fs.rmSync(path.join(root, 'node_modules/electron/dist'), { recursive: true });
    expect(electronBinary(root, {})).toEqual({ path: null, why: expect.stringMatching(/dist\/electron is missing/), installer: null });
    expect(electronBinary(tempDir(), {}).why).toMatch(/not installed/);
  });

  it('offers the lazy download once when only the binary is missing (a display is there)', () => {
    const root = fakeRoot(false);
    const installer = path.join(root, 'node_modules/electron/install.js');
    fs.writeFileSync(installer, '');
    const r = electronAvailability({ root, platform: 'linux', env: { DISPLAY: ':0' } });
    expect(r).toMatchObject({ ok: false, download: installer });
    // without a display or when serve mode is asked for, downloading would not help
    expect(electronAvailability({ root, platform: 'linux', env: {} })).toMatchObject({ ok: false, download: null });
    expect(electronAvailability({ root, platform: 'linux', env: { DISPLAY: ':0' }, forceServe: true })).toMatchObject({ ok: false, download: null });
    // a package without its installer cannot download
    expect(electronAvailability({ root: fakeRoot(false), platform: 'linux', env: { DISPLAY: ':0' } })).toMatchObject({ ok: false, download: null });
  });

  it('falls back when asked to (--serve)', () => {
    const args = parseStartArgs(['--serve', '--port', '9000'], {});
    expect(args).toEqual({ forceServe: true, passthrough: ['--port', '9000'] });
    expect(parseStartArgs([], { WORKSTATION_SERVE: '1' }).forceServe).toBe(true);
    const r = electronAvailability({ root: fakeRoot(true), platform: 'linux', env: { DISPLAY: ':1' }, forceServe: true });
    expect(r.ok).toBe(false);
  });

  it('says every reason at once (a headless box without the Electron download)', () => {
    const r = electronAvailability({ root: fakeRoot(false), platform: 'linux', env: {} });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      const msg = fallbackMessage(r.reasons);
      expect(msg).toMatch(/^Electron cannot start here: no DISPLAY .*; no Electron binary .*Starting headless serve mode instead/);
    }
  });
});

describe("ELECTRON_OVERRIDE_DIST_PATH (electron's own override of where its binary lives)", () => {
  it('launches the binary in that folder rather than falling back, even where nothing was downloaded', () => {
    const dist = standInDist();
    const root = fakeRoot(false);
    fs.writeFileSync(path.join(root, 'node_modules/electron/install.js'), '');
    expect(electronAvailability({ root, platform: 'linux', env: { DISPLAY: ':1', ELECTRON_OVERRIDE_DIST_PATH: dist } })).toEqual({
      ok: true,
      binary: path.join(dist, 'electron'),
    });
    // and in preference to a downloaded binary in node_modules/electron/dist
    expect(electronBinary(fakeRoot(true), { ELECTRON_OVERRIDE_DIST_PATH: dist })).toEqual({ path: path.join(dist, 'electron'), why: '', installer: null });
    // a display is still needed on Linux
    const headless = electronAvailability({ root, platform: 'linux', env: { ELECTRON_OVERRIDE_DIST_PATH: dist } });
    expect(headless).toEqual({ ok: false, reasons: [expect.stringMatching(/^no DISPLAY/)], download: null });
  });

  it('a folder without the binary falls back, names the path, and offers no download (a binary in node_modules does not count)', () => {
    const empty = tempDir('ws-electron-empty-');
    const root = fakeRoot(true);
    fs.writeFileSync(path.join(root, 'node_modules/electron/install.js'), '');
    expect(electronAvailability({ root, platform: 'linux', env: { DISPLAY: ':1', ELECTRON_OVERRIDE_DIST_PATH: empty } })).toEqual({
      ok: false,
      reasons: [`no Electron binary (ELECTRON_OVERRIDE_DIST_PATH has no ${path.join(empty, 'electron')})`],
      download: null,
    });
  });

  it("resolves the executable's name inside the folder the way electron's index.js does (path.txt)", () => {
    // macOS downloads name the executable inside an app bundle
    const root = fakeRoot(true);
    const name = 'Electron.app/Contents/MacOS/Electron';
    fs.writeFileSync(path.join(root, 'node_modules/electron/path.txt'), name);
    const dist = standInDist(name);
    expect(electronBinary(root, { ELECTRON_OVERRIDE_DIST_PATH: dist }).path).toBe(path.join(dist, name));
    expect(electronBinary(root, { ELECTRON_OVERRIDE_DIST_PATH: standInDist() }).why).toMatch(/ELECTRON_OVERRIDE_DIST_PATH has no .*Electron\.app/);

    // the installed electron package itself, asked under the same override, names the same file
    const ROOT = path.resolve(__dirname, '../..');
    const index = createRequire(path.join(ROOT, 'package.json')).resolve('electron');
    const mine = standInDist();
    const saved = process.env.ELECTRON_OVERRIDE_DIST_PATH;
    let theirs: string;
    try {
      process.env.ELECTRON_OVERRIDE_DIST_PATH = mine;
      delete createRequire(index).cache[index];
      theirs = createRequire(index)(index) as string; // returns before any download when overridden
    } finally {
      if (saved === undefined) delete process.env.ELECTRON_OVERRIDE_DIST_PATH;
      else process.env.ELECTRON_OVERRIDE_DIST_PATH = saved;
    }
    if (!fs.existsSync(theirs)) {
      // a downloaded package on macOS / Windows names another file: put the stand-in there
      fs.mkdirSync(path.dirname(theirs), { recursive: true });
      fs.writeFileSync(theirs, '#!/bin/sh\n', { mode: 0o755 });
    }
    expect(electronBinary(ROOT, { ELECTRON_OVERRIDE_DIST_PATH: mine }).path).toBe(theirs);
  });
});

describe('staleTargets / buildFlags', () => {
  const old = new Date(Date.now() - 60_000);
  const now = new Date();

  it('builds everything that is missing', () => {
    const root = tempDir('ws-build-');
    touch(path.join(root, 'src-shared/a.ts'), old);
    expect(staleTargets(root, 'serve').map((s) => s.target)).toEqual(['node', 'renderer']);
    const all = staleTargets(root, 'electron');
    expect(all.map((s) => s.target)).toEqual(['node', 'renderer', 'electron']);
    expect(all[2].why).toMatch(/out\/main\/index\.js is missing/);
    expect(buildFlags(all)).toEqual(['--node', '--electron']);
  });

  it('rebuilds only what is older than its sources', () => {
    const root = tempDir('ws-build-');
    for (const f of ['out/node/cli.cjs', 'out/node/service.cjs', 'out/renderer/index.html', 'out/main/index.js', 'out/preload/index.cjs'])
      touch(path.join(root, f), now);
    touch(path.join(root, 'src-main/service/x.ts'), old);
    touch(path.join(root, 'src-renderer/src/App.svelte'), old);
    expect(staleTargets(root, 'electron')).toEqual([]);
    // a renderer edit: renderer only (vite), electron-vite not needed in serve mode
    touch(path.join(root, 'src-renderer/src/App.svelte'), new Date(Date.now() + 5000));
    expect(staleTargets(root, 'serve').map((s) => s.target)).toEqual(['renderer']);
    expect(buildFlags(staleTargets(root, 'serve'))).toEqual(['--renderer']);
    // an edit in electron main: electron-vite rebuilds main, preload and renderer together
    touch(path.join(root, 'src-main/electron/main.ts'), new Date(Date.now() + 5000));
    const stale = staleTargets(root, 'electron');
    expect(stale.map((s) => s.target)).toEqual(['node', 'renderer', 'electron']);
    expect(buildFlags(stale)).toEqual(['--node', '--electron']);
  });

  it('trusts the build when there are no sources (packaged install)', () => {
    const root = tempDir('ws-build-');
    for (const f of ['out/node/cli.cjs', 'out/node/service.cjs', 'out/renderer/index.html']) touch(path.join(root, f), old);
    expect(staleTargets(root, 'serve')).toEqual([]);
  });
});
