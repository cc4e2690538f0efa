// A PyTorch DDP continuation (workstation scale-out) and the running service, with real processes:
// the service imports what a folder's metrics.jsonl holds when it starts (no import-metrics); its
// HTTP endpoint takes live reports (Bearer token from service.json, validated, idempotent with the
// file import) and announces them as it does its own runs' (run.epoch, run.status, run.event); and,
// with Debian's torch, `run.sh --nproc 2 --device cpu` reports its epoch, checkpoint and end to the
// live service while it runs, and a later import-metrics adds nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventName } from '../../src-shared/api/contract';
import type { EpochMetrics } from '../../src-shared/metrics';
import { forkService, type IpcClient } from '../../src-main/common/ipc-client';
import { readServiceFile, type ServiceFile } from '../../src-main/common/service-file';
import { openStore } from '../../src-main/store/index';
import { tempDir } from '../helpers/samples';
import { PYTHON, RUN_TORCH_TESTS, TORCH } from '../ml/interop/fixtures';
import { tinyConfig } from './tiny-config';

const ROOT = path.resolve(__dirname, '../..');
let dir: string;
const dbPath = () => path.join(dir, 'ws.db');
const dataDir = () => path.join(dir, 'data');
const services: IpcClient[] = [];
const children: ChildProcess[] = [];

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string; exitedAt: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: dir, env: { ...process.env, WORKSTATION_HOME: path.join(dir, 'home'), ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('exit', () => (exitedAt = Date.now()));
    let exitedAt = 0;
    p.on('close', (code) => resolve({ code, stdout, stderr, exitedAt: exitedAt || Date.now() }));
  });
}
const cli = (args: string[]) => run(process.execPath, [path.join(ROOT, 'bin/workstation.cjs'), ...args]);
const db = () => ['--db', dbPath(), '--data-dir', dataDir()];

let checkpoint: string;
async function scaleOut(name: string): Promise<{ out: string; childId: number }> {
  const out = path.join(dir, name);
  const s = await cli(['scale-out', '--checkpoint', checkpoint, '--out', out, '--epochs', '2', '--name', name, '--json', ...db()]);
  if (s.code !== 0) throw new Error(`scale-out failed: ${s.stderr}`);
  return { out, childId: (JSON.parse(s.stdout) as { runId: number }).runId };
}

/** the service process on the test's database, once its service.json (port + token) is written */
async function startService(opts: { autoResume?: boolean } = {}): Promise<{ svc: IpcClient; file: ServiceFile }> {
  const svc = forkService({ dbPath: dbPath(), dataDir: dataDir(), extraArgs: opts.autoResume ? ['--auto-resume'] : ['--no-auto-resume'] });
  services.push(svc);
  const until = Date.now() + 60_000;
  for (;;) {
    const file = readServiceFile(dataDir());
    if (file && file.pid === svc.child.pid) return { svc, file };
    if (svc.child.exitCode !== null) throw new Error(`the service exited: ${svc.output()}`);
    if (Date.now() > until) throw new Error(`no service.json from the service: ${svc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopService(svc: IpcClient): Promise<void> {
  if (svc.child.exitCode === null && svc.child.signalCode === null) {
    svc.child.kill('SIGTERM');
    await svc.exited;
  }
}

/** every event of the service, stamped with when it arrived here */
function record(svc: IpcClient): { event: EventName; payload: Record<string, unknown>; at: number }[] {
  const seen: { event: EventName; payload: Record<string, unknown>; at: number }[] = [];
  svc.onAny((event, payload) => seen.push({ event, payload: payload as Record<string, unknown>, at: Date.now() }));
  return seen;
}

const forRun = (runId: number) => (e: { event: EventName; payload: Record<string, unknown> }) =>
  e.payload.runId === runId || (e.payload.run as { id?: number } | undefined)?.id === runId;

function epochMetrics(epoch: number): EpochMetrics {
  return {
    epoch,
    trainLoss: 2.25,
    trainTop1: 12.5,
    trainTop5: 50,
    valLoss: 2.5,
    valTop1: 25,
    valTop5: 62.5,
    lr: 0.005,
    momentum: 0.9,
    imagesPerSec: 120.5,
    epochSeconds: 1.25,
    skippedFiles: 0,
    imageSize: 32,
  };
}

function append(out: string, ...records: Record<string, unknown>[]): void {
  fs.appendFileSync(path.join(out, 'metrics.jsonl'), records.map((r) => JSON.stringify({ ...r, at: new Date().toISOString() }) + '\n').join(''));
}

async function post(file: ServiceFile, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${file.token}` }) {
  const res = await fetch(`http://127.0.0.1:${file.port}/api/scale-out/report`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* a plain-text refusal (401, 403) */
  }
  return { status: res.status, text, json };
}

beforeAll(async () => {
  dir = tempDir('scale-out-svc-');
  const cfg = path.join(dir, 'tiny.json');
  fs.writeFileSync(cfg, JSON.stringify({ ...tinyConfig({ name: 'demo', epochs: 2, steps: 3 }), schedule: { policy: 'onecycle', maxLr: 0.02 } }));
  const t = await cli(['train', '--config', cfg, '--epochs', '1', '--json', ...db()]);
  if (t.code !== 0) throw new Error(`train failed: ${t.stderr}`);
  checkpoint = (JSON.parse(t.stdout) as { lastCheckpoint: string }).lastCheckpoint;
});

afterAll(async () => {
  for (const p of children.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const s of services.splice(0)) await stopService(s);
});

describe('a scale-out folder and the service', () => {
  it('the service imports what metrics.jsonl reported when it starts: epoch rows and the end status, without import-metrics', async () => {
    const { out, childId } = await scaleOut('by-file');
    append(
      out,
      { type: 'start', runId: childId, worldSize: 2, device: 'cpu', host: 'gpu-box', torch: '1.13.1', startEpoch: 2, startStep: 0, globalStep: 3 },
      { type: 'epoch', runId: childId, globalStep: 6, metrics: epochMetrics(2) },
      { type: 'end', runId: childId, status: 'completed', error: null, lastEpoch: 2 },
    );
    const { svc } = await startService();
    try {
      const got = await svc.call('runs.get', { runId: childId });
      expect(got.epochs).toEqual([epochMetrics(2)]);
      expect(got.run).toMatchObject({ status: 'completed', lastEpoch: 2, backend: 'pytorch-ddp 2×cpu' });
      expect(got.events.filter((e) => e.kind === 'note' && e.data.scaleOutImport !== undefined)).toHaveLength(1);
      expect(svc.output()).toMatch(new RegExp(`scale-out ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: run ${childId} got epochs \\[2\\]`));
    } finally {
      await stopService(svc);
    }
    // a second start finds nothing new
    const again = await startService();
    try {
      const got = await again.svc.call('runs.get', { runId: childId });
      expect(got.epochs).toHaveLength(1);
      expect(got.events.filter((e) => e.kind === 'note' && e.data.scaleOutImport !== undefined)).toHaveLength(1);
    } finally {
      await stopService(again.svc);
    }
  });

  it('POST /api/scale-out/report: token checked, body validated; a report makes the run running (owned by the reporter), its epoch appears live, the end completes it; import-metrics adds nothing after', async () => {
    const { out, childId } = await scaleOut('by-post');
    const { svc, file } = await startService();
    const seen = record(svc);
    // a process standing in for rank 0: the run's owner while it "trains"
    const rank0 = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(rank0);
    const owner = { pid: rank0.pid!, host: os.hostname() };
    const start = {
      type: 'start',
      runId: childId,
      worldSize: 2,
      device: 'cpu',
      host: os.hostname(),
      pid: rank0.pid,
      torch: '1.13.1',
      startEpoch: 2,
      globalStep: 3,
    };
    const body = (rec: Record<string, unknown>) => ({ dir: out, runId: childId, owner, record: rec });

    expect((await post(file, body(start), {})).status).toBe(401);
    expect((await post(file, body(start), { authorization: 'Bearer not-the-token' })).status).toBe(401);
    expect((await post(file, 'not json')).status).toBe(400);
    const bad = await post(file, body({ ...start, worldSize: 'two' }));
    expect(bad.status).toBe(400);
    expect((bad.json?.error as { message: string }).message).toMatch(/worldSize/);
    const elsewhere = await post(file, { ...body(start), runId: childId + 100 });
    expect(elsewhere.status).toBe(400);
    expect((elsewhere.json?.error as { message: string }).message).toMatch(`reports into run ${childId}`);

    append(out, start);
    const started = await post(file, body(start));
    expect(started.status, started.text).toBe(200);
    expect(started.json?.result).toMatchObject({ runId: childId, status: 'running', epochs: [] });
    const live = (await svc.call('runs.get', { runId: childId })).run;
    expect(live).toMatchObject({ status: 'running', backend: 'pytorch-ddp 2×cpu', owner: { pid: rank0.pid } });
    // the DDP job's own: the workstation refuses to pause or stop it and says where it is controlled
    for (const command of ['runs.pause', 'runs.stop'] as const)
      await expect(svc.call(command, { runId: childId })).rejects.toMatchObject({
        code: 'INVALID_STATE',
        message: expect.stringMatching(/trains in PyTorch DDP outside the workstation .*where torchrun runs/),
      });

    const step = {
      runId: childId,
      epoch: 2,
      step: 0,
      stepsInEpoch: 3,
      globalStep: 4,
      loss: 2.3,
      top1: 12.5,
      lr: 0.01,
      momentum: 0.9,
      imagesPerSec: 50,
      etaSeconds: 1,
      targetEpochs: 2,
      phase: 'train',
    };
    expect((await post(file, body({ type: 'progress', ...step }))).status).toBe(200);

    const epoch = { type: 'epoch', runId: childId, globalStep: 6, metrics: epochMetrics(2) };
    append(out, epoch);
    const reported = await post(file, body(epoch));
    expect(reported.json?.result).toMatchObject({ status: 'running', epochs: [2] });
    expect((await post(file, body(epoch))).json?.result).toMatchObject({ epochs: [] }); // the same record again: nothing new

    const end = { type: 'end', runId: childId, status: 'completed', error: null, lastEpoch: 2 };
    append(out, end);
    expect((await post(file, body(end))).json?.result).toMatchObject({ status: 'completed', epochs: [] });

    const got = await svc.call('runs.get', { runId: childId });
    expect(got.epochs).toEqual([epochMetrics(2)]);
    expect(got.steps.map((s) => s.globalStep)).toEqual([4]);
    expect(got.run).toMatchObject({ status: 'completed', owner: null });
    expect(got.run.startedAt).not.toBeNull();
    const notes = got.events.filter((e) => e.kind === 'note').map((e) => String(e.data.message));
    expect(notes.some((m) => m.startsWith('PyTorch DDP started on 2×cpu'))).toBe(true);
    expect(notes.some((m) => m === 'PyTorch DDP ended: completed')).toBe(true);
    // the events the app follows, as for the service's own runs
    const mine = seen.filter(forRun(childId));
    expect(mine.filter((e) => e.event === 'run.status').map((e) => (e.payload.run as { status: string }).status)).toEqual(['running', 'running', 'completed']);
    expect(mine.filter((e) => e.event === 'run.epoch').map((e) => (e.payload.metrics as { epoch: number }).epoch)).toEqual([2]);
    expect(mine.filter((e) => e.event === 'run.step')).toHaveLength(1);
    expect(seen.some((e) => e.event === 'notify' && e.payload.runId === childId && e.payload.kind === 'completed')).toBe(true);

    // the file route afterwards finds everything already there
    const imp = await cli(['import-metrics', out, '--json', ...db()]);
    expect(imp.code, imp.stderr).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject([{ runId: childId, epochs: [], checkpoints: [], status: 'completed', ended: true }]);
    expect((await svc.call('runs.get', { runId: childId })).events.filter((e) => e.data.scaleOutImport !== undefined)).toHaveLength(0);

    // a reporter that dies without an end record: the run reads interrupted, and a service start
    // with auto-resume on leaves it so (restarting it is run.sh's job, not the workstation trainer's)
    const killed = await scaleOut('by-post-killed');
    const killedStart = { ...start, runId: killed.childId };
    append(killed.out, killedStart);
    const k = await post(file, { dir: killed.out, runId: killed.childId, owner, record: killedStart });
    expect(k.json?.result, k.text).toMatchObject({ status: 'running' });
    rank0.kill('SIGKILL');
    await new Promise((r) => rank0.once('exit', r));
    expect((await svc.call('runs.get', { runId: killed.childId })).run.status).toBe('interrupted');
    await stopService(svc);
    const { svc: next } = await startService({ autoResume: true });
    try {
      const after = await next.call('runs.get', { runId: killed.childId });
      expect(after.run.status).toBe('interrupted');
      expect(after.events.filter((e) => e.kind === 'resume')).toHaveLength(0);
      // nor by hand: its checkpoints continue as a new child run instead
      await expect(next.call('runs.resume', { runId: killed.childId })).rejects.toMatchObject({
        code: 'INVALID_STATE',
        message: expect.stringMatching(/cannot be resumed here: .*new child run/),
      });
    } finally {
      await stopService(next);
    }
  });

  describe.runIf(RUN_TORCH_TESTS)('with PyTorch (Debian python3-torch, gloo on the CPU)', () => {
    it('run.sh reports to the live service as it trains: the epoch event arrives before the DDP process exits; status running → completed; import-metrics adds no duplicate', async () => {
      if (!TORCH) throw new Error(`${PYTHON} cannot import torch and torchvision: apt-get install python3-torch python3-torchvision (.ci/run does)`);
      const { out, childId } = await scaleOut('ddp-live');
      const { svc } = await startService();
      const seen = record(svc);
      try {
        const ddp = await run('bash', [path.join(out, 'run.sh'), '--nproc', '2', '--device', 'cpu', '--workers', '1'], { PYTHON });
        expect(ddp.code, ddp.stderr.slice(-4000)).toBe(0);
        expect(ddp.stdout).toContain(`reporting live to the workstation service (pid ${svc.child.pid})`);
        const mine = seen.filter(forRun(childId));
        const epochEvent = mine.find((e) => e.event === 'run.epoch');
        expect(epochEvent, JSON.stringify(mine.map((e) => e.event))).toBeDefined();
        expect(epochEvent!.at).toBeLessThan(ddp.exitedAt); // delivered while it ran, not by a later import
        const statuses = mine.filter((e) => e.event === 'run.status').map((e) => (e.payload.run as { status: string }).status);
        expect(statuses[0]).toBe('running');
        expect(statuses.at(-1)).toBe('completed');
        const saved = seen.filter((e) => e.event === 'checkpoint.saved' && e.payload.runId === childId);
        expect(saved.map((e) => e.payload.epoch)).toEqual([2]);
        expect(mine.some((e) => e.event === 'run.step')).toBe(true);

        const records = fs
          .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { type: string; pid?: number; metrics?: EpochMetrics });
        expect(records.map((r) => r.type)).toEqual(['start', 'epoch', 'checkpoint', 'end']);
        const got = await svc.call('runs.get', { runId: childId });
        expect(got.epochs).toEqual([records[1].metrics]);
        expect(got.run).toMatchObject({ status: 'completed', lastEpoch: 2, backend: 'pytorch-ddp 2×cpu', owner: null });
        expect(got.checkpoints.map((c) => [c.epoch, c.kind, c.globalStep])).toEqual([[2, 'epoch', 6]]);
        expect(got.events.some((e) => e.kind === 'note' && (e.data.scaleOutStart as { pid?: number } | undefined)?.pid === records[0].pid)).toBe(true);

        const imp = await cli(['import-metrics', out, '--json', ...db()]);
        expect(imp.code, imp.stderr).toBe(0);
        expect(JSON.parse(imp.stdout)).toMatchObject([{ runId: childId, epochs: [], checkpoints: [], status: 'completed', ended: true }]);
      } finally {
        await stopService(svc);
      }
      const store = openStore(dbPath());
      try {
        expect(store.metrics.epochs(childId)).toHaveLength(1);
        expect(store.checkpoints.list(childId)).toHaveLength(1);
        expect(store.events.list(childId).filter((e) => e.data.scaleOutImport !== undefined)).toHaveLength(0);
      } finally {
        store.close();
      }
    });
  });
});
