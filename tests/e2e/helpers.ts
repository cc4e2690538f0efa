// E2E plumbing: build the renderer when it is missing or older than its sources, start a real
// `workstation serve` on a random port with a temp database and data dir, and launch Debian's
// Chromium through playwright-core.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '../..');
export const CHROMIUM = '/usr/bin/chromium';
// Screenshots go to test-results/screenshots; `UPDATE_SCREENSHOTS=1 npm test` refreshes the
// committed ones in docs/screenshots (a test run must not dirty the work tree).
export const SCREENSHOTS = path.join(ROOT, process.env.UPDATE_SCREENSHOTS ? 'docs/screenshots' : 'test-results/screenshots');

function newestMtime(p: string): number {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const e of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

/** Builds out/renderer with vite when it is missing or older than src-renderer / src-shared. */
export function ensureRendererBuilt(): void {
  const index = path.join(ROOT, 'out/renderer/index.html');
  const built = fs.existsSync(index) ? fs.statSync(index).mtimeMs : 0;
  const sources = Math.max(...['src-renderer', 'src-shared', 'vite.renderer.config.ts'].map((p) => newestMtime(path.join(ROOT, p))));
  if (built > sources) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), '--renderer'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the renderer failed:\n${r.stdout}\n${r.stderr}`);
}

export interface Serve {
  url: string;
  origin: string;
  proc: ChildProcess;
  /** everything the server printed (for failure messages) */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `workstation serve --port 0` and resolves with the URL from its first stdout line. */
export function startServe(opts: {
  dbPath: string;
  dataDir: string;
  timeoutMs?: number;
  port?: number;
  token?: string;
  env?: NodeJS.ProcessEnv;
}): Promise<Serve> {
  const args = ['serve', '--port', String(opts.port ?? 0), '--db', opts.dbPath, '--data-dir', opts.dataDir, ...(opts.token ? ['--token', opts.token] : [])];
  const proc = spawn(process.execPath, [path.join(ROOT, 'bin/workstation.cjs'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
  });
  let out = '';
  proc.stdout!.setEncoding('utf8');
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => (out += d));
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`workstation serve printed no URL within ${opts.timeoutMs ?? 60_000} ms:\n${out}`));
    }, opts.timeoutMs ?? 60_000);
    proc.stdout!.on('data', (d: string) => {
      out += d;
      const m = out.match(/workstation serve: (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          origin: new URL(m[1]).origin,
          proc,
          output: () => out,
          stop,
        });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`workstation serve exited (${code}) before printing its URL:\n${out}`));
    });
  });
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's Chromium, headless, with a fresh temporary profile (playwright creates one per launch). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/** Parses RFC 4180 CSV (quoted fields, CRLF) into rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/**
 * A folder holding a stand-in `nvidia-smi` to put first on a served process's PATH, so what the
 * service finds does not depend on the machine's GPUs: `gpuCsv` is its answer to
 * `--query-gpu=… --format=csv,noheader,nounits` (null: "No devices were found", a machine
 * without a GPU); any other call prints the driver header.
 */
export function standInNvidiaSmi(gpuCsv: string | null): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-smi-'));
  fs.writeFileSync(
    path.join(dir, 'header.txt'),
    '+---------------------------------------------------------------------------------------+\n' +
      '| NVIDIA-SMI 535.104.05             Driver Version: 535.104.05   CUDA Version: 12.2     |\n' +
      '+---------------------------------------------------------------------------------------+\n',
  );
  fs.writeFileSync(path.join(dir, 'query.csv'), gpuCsv ?? 'No devices were found\n');
  const script = `#!/bin/sh
case "$1" in
  --query-gpu=*) cat '${path.join(dir, 'query.csv')}' ;;
  *) cat '${path.join(dir, 'header.txt')}' ;;
esac
`;
  fs.writeFileSync(path.join(dir, 'nvidia-smi'), script, { mode: 0o755 });
  return dir;
}

/** process.env with `dir` first on PATH. */
export function envWithPath(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${dir}${path.delimiter}${process.env.PATH ?? ''}` };
}
