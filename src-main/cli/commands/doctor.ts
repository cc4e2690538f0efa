// `workstation doctor [--backend auto|gpu|node|cpu] [--json]`: what this machine offers the trainer —
// which tfjs backend would be used and why, native packages found or not (and why not), the GPU,
// Node, sharp/libvips and better-sqlite3. The way to check that the GPU backend is really in use.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { bool, str } from '../../common/args';
import type { CommandSpec } from '../command';
import { BACKENDS, type BackendRequest } from '../../../src-shared/config/run-config';
import { WorkstationError, isWorkstationError } from '../../../src-shared/errors';
import { probeNative, selectBackend } from '../../ml/backend';
import { packageRoot } from '../../common/paths';

function nvidiaSmi(): string[] | null {
  const r = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) return null;
  return r.stdout.trim().split('\n').filter(Boolean);
}

function version(req: NodeRequire, pkg: string): string | null {
  try {
    return (req(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return null;
  }
}

const command: CommandSpec = {
  name: 'doctor',
  summary: 'Which tfjs backend would be used and why; native packages, GPU, sharp, SQLite',
  flags: {
    backend: { type: 'string', description: 'backend to try: auto|gpu|node|cpu', default: 'auto' },
    json: { type: 'boolean', description: 'print JSON' },
  },
  async run(args, io) {
    const req = (str(args, 'backend') ?? 'auto') as BackendRequest;
    if (!(BACKENDS as readonly string[]).includes(req))
      throw new WorkstationError('INVALID_ARGUMENT', `--backend must be one of ${BACKENDS.join('|')}, got "${req}"`, { field: 'backend' });
    const r = createRequire(path.join(packageRoot(), 'package.json'));
    let backend: { name: string; reason: string; gpu: string | null } | null = null;
    let backendError: string | null = null;
    try {
      backend = await selectBackend(req);
    } catch (e) {
      if (!isWorkstationError(e)) throw e;
      backendError = e.message;
    }
    const natives = (['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const).map((p) => ({ ...probeNative(p), version: version(r, p) }));
    let sharpInfo: { version: string | null; libvips: string | null; error: string | null };
    try {
      const sharp = r('sharp') as { versions: { sharp?: string; vips: string } };
      sharpInfo = { version: sharp.versions.sharp ?? version(r, 'sharp'), libvips: sharp.versions.vips, error: null };
    } catch (e) {
      sharpInfo = { version: version(r, 'sharp'), libvips: null, error: (e as Error).message.split('\n')[0] };
    }
    let sqlite: { version: string | null; loads: boolean; sqlite: string | null; error: string | null };
    try {
      const Database = r('better-sqlite3') as new (p: string) => { prepare(s: string): { get(): unknown }; close(): void };
      const db = new Database(':memory:');
      const v = (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
      db.close();
      sqlite = { version: version(r, 'better-sqlite3'), loads: true, sqlite: v, error: null };
    } catch (e) {
      sqlite = { version: version(r, 'better-sqlite3'), loads: false, sqlite: null, error: (e as Error).message.split('\n')[0] };
    }
    const result = {
      ok: backendError === null && sqlite.loads && sharpInfo.error === null,
      requested: req,
      backend: backend ? { ...backend, tfBackend: tf.getBackend() } : null,
      backendError,
      tfjs: { version: tf.version.tfjs, core: tf.version_core },
      native: natives.map((n) => ({ package: n.package, installed: n.version !== null, version: n.version, loaded: n.loaded, error: n.error, gpus: n.gpus })),
      nvidiaSmi: nvidiaSmi(),
      node: { version: process.version, abi: process.versions.modules, platform: process.platform, arch: process.arch },
      cpus: os.cpus().length,
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      sharp: sharpInfo,
      betterSqlite3: sqlite,
    };
    if (bool(args, 'json')) {
      io.stdout(JSON.stringify(result, null, 2) + '\n');
      return result.ok ? 0 : 1;
    }
    const lines = [
      backend ? `backend        ${backend.name}${backend.gpu ? ` on ${backend.gpu}` : ''} — ${backend.reason}` : `backend        UNAVAILABLE — ${backendError}`,
      `tfjs           ${tf.version.tfjs}`,
      ...natives.map(
        (n) =>
          `${n.package.padEnd(26)} ${n.version ? `v${n.version}, ` : ''}${n.loaded ? `loads${n.package.endsWith('gpu') ? `, GPUs: ${n.gpus.join(', ') || 'none visible'}` : ''}` : `not usable: ${n.error}`}`,
      ),
      `nvidia-smi     ${result.nvidiaSmi ? result.nvidiaSmi.join('; ') : 'not found'}`,
      `node           ${process.version} (ABI ${process.versions.modules}) ${process.platform}/${process.arch}, ${result.cpus} CPUs, ${result.memoryGiB} GiB`,
      `sharp          ${sharpInfo.version ?? '?'}${sharpInfo.libvips ? `, libvips ${sharpInfo.libvips}` : ''}${sharpInfo.error ? ` — FAILS: ${sharpInfo.error}` : ''}`,
      `better-sqlite3 ${sqlite.version ?? '?'}${sqlite.loads ? `, loads (SQLite ${sqlite.sqlite})` : ` — FAILS: ${sqlite.error}`}`,
    ];
    io.stdout(lines.join('\n') + '\n');
    return result.ok ? 0 : 1;
  },
};
export default command;
