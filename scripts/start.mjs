#!/usr/bin/env node
// `npm start`: the Electron app when it can start here; otherwise (no Electron binary, no
// DISPLAY) say why and run the headless server (`workstation serve`), which prints the URL to
// open. Builds what is missing or stale first. `npm start -- --serve` forces serve mode; other
// arguments go to `workstation serve` (e.g. `-- --port 8080`).
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFlags, electronAvailability, fallbackMessage, parseStartArgs, staleTargets } from './start-decision.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { forceServe, passthrough } = parseStartArgs(process.argv.slice(2), process.env);

function build(mode) {
  const stale = staleTargets(root, mode);
  if (stale.length === 0) return true;
  for (const s of stale) console.log(`start: building ${s.target} (${s.why})`);
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs'), ...buildFlags(stale)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`start: the build failed (exit ${r.status}); fix the error above and run npm start again`);
    return false;
  }
  return true;
}

/** Runs a child with our stdio, relays Ctrl-C/SIGTERM to it, resolves with its exit code. */
function run(cmd, args, env) {
  const child = spawn(cmd, args, { cwd: root, stdio: 'inherit', env });
  const relay = (sig) => child.kill(sig);
  process.on('SIGINT', relay);
  process.on('SIGTERM', relay);
  // `npm start` runs us under `sh -c`, which does not pass on the SIGTERM npm forwards to it:
  // when our parent goes away, stop the child instead of leaving it running as an orphan.
  const parent = process.ppid;
  const orphanCheck = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(orphanCheck);
      relay('SIGTERM');
    }
  }, 500);
  return new Promise((resolve) => {
    child.on('error', (err) => {
      clearInterval(orphanCheck);
      console.error(`start: could not run ${cmd}: ${err.message}`);
      resolve({ code: 1, error: err });
    });
    child.on('exit', (code, signal) => {
      clearInterval(orphanCheck);
      process.off('SIGINT', relay);
      process.off('SIGTERM', relay);
      resolve({ code: code ?? (signal ? 128 : 1), signal });
    });
  });
}

async function serve(reasons) {
  console.log(fallbackMessage(reasons));
  if (!build('serve')) return 1;
  const r = await run(process.execPath, [path.join(root, 'bin/workstation.cjs'), 'serve', ...passthrough], process.env);
  return r.code;
}

async function main() {
  let avail = electronAvailability({ root, platform: process.platform, env: process.env, forceServe });
  if (!avail.ok && avail.download) {
    console.log('start: the Electron binary is not downloaded yet; fetching it once (npx install-electron) …');
    const r = spawnSync(process.execPath, [avail.download], { cwd: root, stdio: 'inherit', timeout: 180_000 });
    if (r.status === 0) avail = electronAvailability({ root, platform: process.platform, env: process.env, forceServe });
    else avail.reasons.push('downloading the Electron binary failed (no access to GitHub?)');
  }
  if (!avail.ok) return serve(avail.reasons);
  if (!build('electron')) return 1;
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE; // would make the binary a plain Node
  const started = Date.now();
  const r = await run(avail.binary, [root, ...passthrough], env);
  // An Electron that dies right away (missing shared libraries, no GPU process, …) falls back
  // too; a window the user closed after a while is just the app ending.
  if (r.code !== 0 && !r.signal && Date.now() - started < 15_000) {
    return serve([`Electron exited with code ${r.code} right after starting (see its output above)`]);
  }
  return r.code;
}

process.exitCode = await main();
