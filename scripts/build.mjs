#!/usr/bin/env node
// Builds what the app needs to run from a checkout:
//   --node      the Node side (CLI, training service, worker threads) bundled by esbuild into out/node/*.cjs
//   --renderer  the Svelte renderer (vite) into out/renderer, served by `workstation serve`
//   --electron  main + preload + renderer via electron-vite (out/main, out/preload, out/renderer)
// With no flag (npm's `prepare`, run by `npm ci`) it builds node + electron (which includes the renderer).
import { build } from 'esbuild';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNative } from './build-native.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const all = args.size === 0 || args.has('--all');

/** Node entry points: source → bundle name. Worker entries must be bundles of their own. */
export const NODE_ENTRIES = {
  cli: 'src-main/cli/main.ts',
  service: 'src-main/service/main.ts',
  'decode-worker': 'src-main/data/decode-worker.ts',
};

export async function buildNode() {
  const entryPoints = {};
  for (const [name, src] of Object.entries(NODE_ENTRIES)) {
    if (existsSync(path.join(root, src))) entryPoints[name] = path.join(root, src);
  }
  mkdirSync(path.join(root, 'out/node'), { recursive: true });
  await build({
    entryPoints,
    outdir: path.join(root, 'out/node'),
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'linked',
    packages: 'external',
    logLevel: 'warning',
    define: { 'import.meta.url': 'importMetaUrl' },
    banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
  });
  // optional native JPEG fast path for the decode workers (never fails the build; sharp is the fallback)
  buildNative();
  writeFileSync(path.join(root, 'out/node/.stamp'), String(Date.now()));
}

function run(cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) {
    console.error(`build: ${cmd} ${cmdArgs.join(' ')} failed with status ${r.status}`);
    process.exit(r.status ?? 1);
  }
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  if (all || args.has('--node')) await buildNode();
  if ((all || args.has('--electron')) && existsSync(path.join(root, 'electron.vite.config.ts')))
    run(process.execPath, [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build']);
  else if (args.has('--renderer')) run(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'vite.renderer.config.ts']);
}
