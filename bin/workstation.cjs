#!/usr/bin/env node
// `workstation` entry: makes sure the Node bundle in out/node is at least as new as the sources
// (so `npx workstation` just works in a checkout, also after a pull), then runs the CLI.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const bundle = path.join(root, 'out/node/cli.cjs');
const stamp = path.join(root, 'out/node/.stamp');

function newestMtime(dir) {
  let newest = 0;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

function stale() {
  if (!fs.existsSync(bundle) || !fs.existsSync(stamp)) return true;
  // A packaged install has no sources: trust the bundle.
  if (!fs.existsSync(path.join(root, 'src-main'))) return false;
  const built = fs.statSync(stamp).mtimeMs;
  return ['src-main', 'src-shared'].some((d) => newestMtime(path.join(root, d)) > built);
}

if (stale()) {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs'), '--node'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) {
    process.stderr.write('workstation: building the CLI bundle failed (see above)\n');
    process.exit(1);
  }
}
require(bundle)
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (err) => {
      process.stderr.write(`workstation: ${err && err.stack ? err.stack : err}\n`);
      process.exitCode = 1;
    },
  );
