// What `npm start` does, decided from plain facts (files present, env, platform) so it is
// unit-tested without Electron: open the Electron app when it can start, else say why and run
// the headless server (`workstation serve`) instead. Builds what is missing or stale first.
import fs from 'node:fs';
import path from 'node:path';

/**
 * Can Electron open a window here?
 * @param {{ root: string, platform: string, env: Record<string, string | undefined>, forceServe?: boolean }} o
 * @returns {{ ok: true, binary: string } | { ok: false, reasons: string[], download: string | null }}
 */
export function electronAvailability(o) {
  const reasons = [];
  if (o.forceServe) reasons.push('serve mode was asked for (--serve / WORKSTATION_SERVE=1)');
  if (o.platform === 'linux' && !o.env.DISPLAY && !o.env.WAYLAND_DISPLAY) reasons.push('no DISPLAY (no X server or Wayland session to draw a window on)');
  const binary = electronBinary(o.root, o.env);
  if (!binary.path) reasons.push(`no Electron binary (${binary.why})`);
  if (reasons.length === 0 && binary.path) return { ok: true, binary: binary.path };
  // Electron fetches its binary lazily on first use: when that is all that is missing (a display is
  // there, the package is installed), try the download once before falling back to serve mode.
  const downloadable = !binary.path && reasons.length === 1 && binary.installer !== null;
  return { ok: false, reasons, download: downloadable ? binary.installer : null };
}

/**
 * The Electron executable without triggering its lazy download (require('electron') would try
 * to fetch it from GitHub).
 * @param {string} root
 * @param {Record<string, string | undefined>} env
 * @returns {{ path: string | null, why: string, installer: string | null }}
 */
export function electronBinary(root, env) {
  const pkg = path.join(root, 'node_modules', 'electron');
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    // the folder electron's own package then runs its binary from (node_modules/electron/index.js):
    // the executable named in path.txt, or `electron` before any download wrote one
    const pathTxt = path.join(pkg, 'path.txt');
    const name = fs.existsSync(pathTxt) ? fs.readFileSync(pathTxt, 'utf8').trim() || 'electron' : 'electron';
    const p = path.join(env.ELECTRON_OVERRIDE_DIST_PATH, name);
    return fs.existsSync(p) ? { path: p, why: '', installer: null } : { path: null, why: `ELECTRON_OVERRIDE_DIST_PATH has no ${p}`, installer: null };
  }
  if (!fs.existsSync(path.join(pkg, 'package.json'))) return { path: null, why: 'the electron package is not installed: run npm ci', installer: null };
  const installer = fs.existsSync(path.join(pkg, 'install.js')) ? path.join(pkg, 'install.js') : null;
  const pathTxt = path.join(pkg, 'path.txt');
  if (!fs.existsSync(pathTxt)) {
    return {
      path: null,
      why: 'node_modules/electron/dist is missing: Electron downloads its binary from GitHub on first use, which failed or never ran; run `npx install-electron` where GitHub is reachable',
      installer,
    };
  }
  const exe = path.join(pkg, 'dist', fs.readFileSync(pathTxt, 'utf8').trim());
  return fs.existsSync(exe)
    ? { path: exe, why: '', installer }
    : { path: null, why: `${path.relative(root, exe)} is missing: reinstall with npm ci`, installer };
}

/** Build outputs and the sources they come from (newest source newer than the output → stale). */
export const BUILD_TARGETS = {
  node: { outputs: ['out/node/cli.cjs', 'out/node/service.cjs'], sources: ['src-main', 'src-shared'], flag: '--node' },
  renderer: { outputs: ['out/renderer/index.html'], sources: ['src-renderer', 'src-shared', 'vite.renderer.config.ts'], flag: '--renderer' },
  electron: {
    outputs: ['out/main/index.js', 'out/preload/index.cjs'],
    sources: ['src-main/electron', 'src-main/common', 'src-shared', 'electron.vite.config.ts'],
    flag: '--electron',
  },
};

/** @param {string} p */
function newestMtime(p) {
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const e of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

/**
 * Which targets need (re)building for a mode. A checkout without sources (a packaged install)
 * trusts whatever is built.
 * @param {string} root
 * @param {'electron' | 'serve'} mode
 * @returns {{ target: 'node' | 'renderer' | 'electron', why: string }[]}
 */
export function staleTargets(root, mode) {
  const names = mode === 'electron' ? ['node', 'renderer', 'electron'] : ['node', 'renderer'];
  const out = [];
  for (const name of names) {
    const t = BUILD_TARGETS[/** @type {'node'|'renderer'|'electron'} */ (name)];
    const missing = t.outputs.find((o) => !fs.existsSync(path.join(root, o)));
    if (missing) {
      out.push({ target: /** @type {any} */ (name), why: `${missing} is missing` });
      continue;
    }
    const srcs = t.sources.map((s) => path.join(root, s)).filter((s) => fs.existsSync(s));
    if (srcs.length === 0) continue;
    const built = Math.min(...t.outputs.map((o) => fs.statSync(path.join(root, o)).mtimeMs));
    const newest = Math.max(...srcs.map(newestMtime));
    if (newest > built) out.push({ target: /** @type {any} */ (name), why: `sources changed since ${t.outputs[0]} was built` });
  }
  return out;
}

/**
 * `build.mjs` flags for the stale targets: electron-vite builds the renderer too, so one
 * `--electron` covers both.
 * @param {{ target: string }[]} stale
 * @returns {string[]}
 */
export function buildFlags(stale) {
  const set = new Set(stale.map((s) => s.target));
  const flags = [];
  if (set.has('node')) flags.push('--node');
  if (set.has('electron')) flags.push('--electron');
  else if (set.has('renderer')) flags.push('--renderer');
  return flags;
}

/**
 * @param {string[]} reasons
 * @returns {string}
 */
export function fallbackMessage(reasons) {
  return `Electron cannot start here: ${reasons.join('; ')}. Starting headless serve mode instead: open the URL it prints in a browser (on a remote machine, tunnel its port first: \`ssh -L PORT:127.0.0.1:PORT user@host\`).`;
}

/**
 * Splits `npm start -- …` arguments: --serve forces serve mode; the rest go to `workstation serve`
 * (e.g. --port 8080) or to Electron.
 * @param {string[]} argv
 * @param {Record<string, string | undefined>} env
 */
export function parseStartArgs(argv, env) {
  const forceServe = argv.includes('--serve') || env.WORKSTATION_SERVE === '1';
  return { forceServe, passthrough: argv.filter((a) => a !== '--serve') };
}
