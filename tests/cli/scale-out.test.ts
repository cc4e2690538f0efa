// Scale-out to PyTorch DDP end to end (real CLI processes, real store, Debian's torch with gloo on
// the CPU): a tiny demo run trains an epoch here; `scale-out` writes the folder and the child run;
// `run.sh --nproc 2 --device cpu` continues it for an epoch under torchrun; `import-metrics` brings
// back the epoch row, the checkpoint and the end status (idempotently); the lineage CSV covers both
// engines; `import-checkpoint` + `train --resume` continue in the workstation as a further child.
// The script's schedule port is checked against the workstation's schedules step by step. Parts
// that need torch are skipped where /usr/bin/python3 has none, except in CI (which installs it).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../../src-shared/config/run-config';
import { readCheckpointFile, weightsSha256 } from '../../src-main/ml/checkpoint-file';
import { readSafetensorsFile } from '../../src-main/ml/interop/safetensors';
import { fromTorchvisionTensors } from '../../src-main/ml/interop/torchvision-names';
import { describeModel } from '../../src-main/ml/models/index';
import { createSchedule } from '../../src-main/ml/schedule/index';
import { openStore } from '../../src-main/store/index';
import { tempDir } from '../helpers/samples';
import { PYTHON, RUN_TORCH_TESTS, TORCH } from '../ml/interop/fixtures';
import { tinyConfig } from '../service/tiny-config';

const ROOT = path.resolve(__dirname, '../..');
let dir: string;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: dir, env: { ...process.env, WORKSTATION_HOME: path.join(dir, 'home'), ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const cli = (args: string[]) => run(process.execPath, [path.join(ROOT, 'bin/workstation.cjs'), ...args]);
const db = () => ['--db', path.join(dir, 'ws.db'), '--data-dir', path.join(dir, 'data')];

function requireTorch(): void {
  if (!TORCH) throw new Error(`${PYTHON} cannot import torch and torchvision: apt-get install python3-torch python3-torchvision (.ci/run does)`);
}

interface Setup {
  parentId: number;
  checkpoint: string;
  out: string;
  childId: number;
}
let setup: Setup;

beforeAll(async () => {
  dir = tempDir('scale-out-');
  const cfg = path.join(dir, 'tiny.json');
  fs.writeFileSync(cfg, JSON.stringify({ ...tinyConfig({ name: 'demo', epochs: 3, steps: 3 }), schedule: { policy: 'onecycle', maxLr: 0.02 } }));
  const t = await cli(['train', '--config', cfg, '--epochs', '1', '--json', ...db()]);
  if (t.code !== 0) throw new Error(`train failed: ${t.stderr}`);
  const trained = JSON.parse(t.stdout) as { runId: number; lastCheckpoint: string };
  const out = path.join(dir, 'ddp');
  const s = await cli(['scale-out', '--checkpoint', trained.lastCheckpoint, '--out', out, '--epochs', '2', '--json', ...db()]);
  if (s.code !== 0) throw new Error(`scale-out failed: ${s.stderr}`);
  setup = { parentId: trained.runId, checkpoint: trained.lastCheckpoint, out, childId: (JSON.parse(s.stdout) as { runId: number }).runId };
});

describe('workstation scale-out', () => {
  it('writes the self-contained folder and records the continuation as a child run', () => {
    const { out, parentId, childId } = setup;
    expect(fs.readdirSync(out).sort()).toEqual([
      'README.md',
      'checkpoint.safetensors',
      'config.json',
      'run.sh',
      'scale-out.json',
      'torchrun.py',
      'train_ddp.py',
      'val-files.json',
    ]);
    expect(fs.statSync(path.join(out, 'run.sh')).mode & 0o111).not.toBe(0);
    const config = resolveRunConfig([JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'))]); // a valid run config
    expect(config.train.epochs).toBe(2);
    const plan = JSON.parse(fs.readFileSync(path.join(out, 'scale-out.json'), 'utf8')) as Record<string, unknown>;
    expect(plan).toMatchObject({ runId: childId, parentRunId: parentId, targetEpochs: 2, stepsPerEpoch: 3, start: { epoch: 1, kind: 'epoch', globalStep: 3 } });
    expect(plan.model).toEqual({ arch: 'resnet50', numClasses: 10, widthMultiplier: 0.03125, stem: 2, planes: [2, 4, 8, 16] });
    expect((plan.classes as string[]).slice(0, 2)).toEqual(['n00000001', 'n00000002']);
    const val = JSON.parse(fs.readFileSync(path.join(out, 'val-files.json'), 'utf8')) as { files: string[]; labels: number[] };
    expect(val.files).toHaveLength(8); // maxValSteps 1 × batch 8: the workstation's capped subset
    expect(fs.existsSync(path.join(String(plan.dataRoot), 'val', val.files[0]))).toBe(true);
    expect(fs.readFileSync(path.join(out, 'README.md'), 'utf8')).toContain(`child run **#${childId}`);
    // the starting checkpoint: the parent's weights under torchvision names, plus momentum buffers
    const st = readSafetensorsFile(path.join(out, 'checkpoint.safetensors'));
    const back = fromTorchvisionTensors(describeModel(config.model), st.tensors, 'checkpoint.safetensors', { allowMomentum: true });
    expect(weightsSha256(back.model.map((a) => a.data))).toBe(readCheckpointFile<{ weightsSha256: string }>(setup.checkpoint, false).header.weightsSha256);
    expect(back.momentum.length).toBeGreaterThan(100);
    const store = openStore(path.join(dir, 'ws.db'));
    try {
      const child = store.runs.get(childId)!;
      expect(child).toMatchObject({ parentRunId: parentId, forkEpoch: 1, targetEpochs: 2, status: 'stopped', lastEpoch: null });
      const kinds = store.events.list(childId).map((e) => e.kind);
      expect(kinds).toEqual(['fork', 'note']);
    } finally {
      store.close();
    }
  });

  it('refuses a non-empty --out and an --epochs the checkpoint is already past', async () => {
    const again = await cli(['scale-out', '--checkpoint', setup.checkpoint, '--out', setup.out, ...db()]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists and is not an empty folder/);
    const past = await cli(['scale-out', '--checkpoint', setup.checkpoint, '--out', path.join(dir, 'other'), '--epochs', '1', ...db()]);
    expect(past.code).toBe(2);
    expect(past.stderr).toMatch(/--epochs: the continuation starts after epoch 1, so the epoch it ends at must be greater than 1/);
    const badDb = await cli(['import-metrics', setup.out, '--db', path.join(dir, 'elsewhere.db')]);
    expect(badDb.code).toBe(2);
    expect(badDb.stderr).toContain(`pass --db ${path.join(dir, 'ws.db')}`);
  });

  it('a run from --init-weights killed before its first checkpoint restarts from those weights (not the random init); a gone or changed file is refused by name', async () => {
    const init = path.join(dir, 'init.safetensors');
    const ex = await cli(['export', '--checkpoint', setup.checkpoint, '--format', 'torchvision', '--out', init, ...db()]);
    expect(ex.code, ex.stderr).toBe(0);
    const cfg = path.join(dir, 'init.json');
    fs.writeFileSync(cfg, JSON.stringify(tinyConfig({ name: 'from-init', epochs: 1, steps: 24 })));
    const ref = await cli(['train', '--config', cfg, '--init-weights', init, '--json', ...db()]);
    expect(ref.code, ref.stderr).toBe(0);
    const reference = JSON.parse(ref.stdout) as { weightsSha256: string };

    // the same run from a copy of the file, killed mid-epoch 1 (no checkpoint yet)
    const copy = path.join(dir, 'init-copy.safetensors');
    fs.copyFileSync(init, copy);
    const p = spawn(process.execPath, [path.join(ROOT, 'bin/workstation.cjs'), 'train', '--config', cfg, '--init-weights', copy, ...db()], {
      cwd: dir,
      env: { ...process.env, WORKSTATION_HOME: path.join(dir, 'home') },
    });
    await new Promise<void>((resolve, reject) => {
      let err = '';
      p.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (/epoch 1\/1 train step 2\//.test(err)) resolve();
      });
      p.on('exit', (code) => reject(new Error(`train exited (${code}) before it was killed: ${err}`)));
    });
    p.kill('SIGKILL');
    await new Promise((r) => p.once('close', r));
    const store = openStore(path.join(dir, 'ws.db'));
    let runId: number;
    try {
      const run = store.runs
        .list()
        .filter((r) => r.name === 'from-init')
        .at(-1)!;
      runId = run.id;
      expect(run.status).toBe('interrupted');
      expect(store.checkpoints.list(runId)).toEqual([]);
      expect(store.events.list(runId).find((e) => e.data.initWeights === copy)?.data.initWeightsSha256).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      store.close();
    }

    fs.renameSync(copy, `${copy}.away`);
    const gone = await cli(['resume', '--run', String(runId), ...db()]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain(`restarts from its initial weights ${copy}, which are gone`);
    const bytes = fs.readFileSync(`${copy}.away`);
    const changed = Buffer.from(bytes);
    changed[changed.length - 1] ^= 1; // one weight's last byte: still loads, but not the same weights
    fs.writeFileSync(copy, changed);
    const differ = await cli(['resume', '--run', String(runId), ...db()]);
    expect(differ.code).toBe(2);
    expect(differ.stderr).toMatch(new RegExp(`initial weights ${copy.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, but that file changed since the run started`));

    fs.writeFileSync(copy, bytes);
    const resumed = await cli(['resume', '--run', String(runId), '--json', ...db()]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const r = JSON.parse(resumed.stdout) as { status: string; resumedFrom: unknown; weightsSha256: string };
    expect(r).toMatchObject({ status: 'completed', resumedFrom: null });
    expect(r.weightsSha256).toBe(reference.weightsSha256); // the same training from the same weights
  });

  describe.runIf(RUN_TORCH_TESTS)('with PyTorch (Debian python3-torch, gloo on the CPU)', () => {
    it("train_ddp.py's schedules give the workstation's lr and momentum at every step", () => {
      requireTorch();
      const policies = [
        { policy: 'constant' },
        {
          policy: 'onecycle',
          maxLr: 0.1,
          pctStart: 0.3,
          anneal: 'cos',
          divFactor: 25,
          finalDivFactor: 1e4,
          threePhase: false,
          cycleMomentum: true,
          baseMomentum: 0.85,
          maxMomentum: 0.95,
        },
        {
          policy: 'onecycle',
          maxLr: 0.1,
          pctStart: 0.25,
          anneal: 'linear',
          divFactor: 10,
          finalDivFactor: 100,
          threePhase: true,
          cycleMomentum: false,
          baseMomentum: 0.85,
          maxMomentum: 0.95,
        },
        { policy: 'step', stepEpochs: 2.5, gamma: 0.5 },
        { policy: 'cosine', warmupEpochs: 1.5, minLr: 0.001 },
      ] as const;
      const [total, spe, lr, mom] = [40, 4, 0.05, 0.9];
      const script = `import importlib.util, json, sys
spec = importlib.util.spec_from_file_location('t', sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
ps = json.loads(sys.argv[2])
print(json.dumps([[m.schedule_at(p, ${total}, ${spe}, ${lr}, ${mom}, s) for s in range(${total})] for p in ps]))`;
      const r = spawnSync(PYTHON, ['-c', script, path.join(ROOT, 'resources/scale-out/train_ddp.py'), JSON.stringify(policies)], {
        encoding: 'utf8',
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' }, // no __pycache__ in resources/
      });
      expect(r.status, r.stderr).toBe(0);
      const theirs = JSON.parse(r.stdout) as [number, number][][];
      policies.forEach((p, i) => {
        const ours = createSchedule(p as never, { totalSteps: total, stepsPerEpoch: spe, baseLr: lr, baseMomentum: mom });
        for (let s = 0; s < total; s++) {
          const a = ours.at(s);
          expect(theirs[i][s][0], `${p.policy} lr at ${s}`).toBeCloseTo(a.lr, 14);
          expect(theirs[i][s][1], `${p.policy} momentum at ${s}`).toBeCloseTo(a.momentum, 14);
        }
      });
    });

    it("train_ddp.py's live reporter: finds the service in service.json at every report (new port and token), Bearer token, no proxy; skips a dead pid or another database; gives up on a silent service after 2 s", async () => {
      requireTorch();
      const got: {
        server: string;
        url: string | undefined;
        auth: string | undefined;
        body: { dir: string; runId: number; owner: { pid: number; host: string }; record: { type: string; n: number } };
      }[] = [];
      const answering = (server: string) =>
        http.createServer((req, res) => {
          let body = '';
          req.on('data', (d: Buffer) => (body += d.toString()));
          req.on('end', () => {
            got.push({ server, url: req.url, auth: req.headers.authorization, body: JSON.parse(body) as (typeof got)[number]['body'] });
            res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":{}}');
          });
        });
      const silent = http.createServer(() => {}); // accepts, never answers
      const servers = [answering('a'), answering('b'), silent];
      await Promise.all(servers.map((srv) => new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))));
      const [a, b, h] = servers.map((srv) => (srv.address() as AddressInfo).port);
      const dead = spawnSync(process.execPath, ['-e', 'process.pid'], { encoding: 'utf8' }).pid!; // a pid that is gone
      const dataDir = tempDir('live-report-');
      const dbFile = path.join(dataDir, 'ws.db');
      const script = `import importlib.util, json, os, sys, time
spec = importlib.util.spec_from_file_location('t', sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
data_dir, db, steps = sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
live = m.LiveReport({"dataDir": data_dir, "dbPath": db, "runId": 7})
took = []
for i, st in enumerate(steps):
    with open(os.path.join(data_dir, "service.json"), "w") as f:
        json.dump({"pid": st["pid"], "port": st["port"], "host": "127.0.0.1", "token": st["token"], "dbPath": st.get("db", db), "startedAt": "2025-01-01T00:00:00Z"}, f)
    t = time.monotonic(); live.send({"type": "epoch", "n": i}); live.queue.join(); took.append(time.monotonic() - t)
live.close()
print(json.dumps(took))`;
      const steps = [
        { port: a, token: 'token-a', pid: process.pid },
        { port: b, token: 'token-b', pid: process.pid }, // a service restarted meanwhile: new port and token
        { port: a, token: 'token-a', pid: dead }, // a stale file
        { port: a, token: 'token-a', pid: process.pid, db: path.join(dataDir, 'other.db') }, // another database's service
        { port: h, token: 'token-h', pid: process.pid }, // a service that does not answer
        { port: a, token: 'token-a', pid: process.pid }, // …is left alone for a while after
      ];
      try {
        const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const p = spawn(PYTHON, ['-c', script, path.join(ROOT, 'resources/scale-out/train_ddp.py'), dataDir, dbFile, JSON.stringify(steps)], {
            env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', http_proxy: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9' },
          });
          let stdout = '';
          let stderr = '';
          p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
          p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          p.on('close', (code) => resolve({ code, stdout, stderr }));
        });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain(`reporting live to the workstation service (pid ${process.pid})`);
        const took = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as number[];
        expect(got.map((g) => [g.server, g.url, g.auth, g.body.record.n])).toEqual([
          ['a', '/api/scale-out/report', 'Bearer token-a', 0],
          ['b', '/api/scale-out/report', 'Bearer token-b', 1],
        ]);
        expect(got[0].body).toMatchObject({
          dir: path.join(ROOT, 'resources/scale-out'),
          runId: 7,
          owner: { host: os.hostname() },
          record: { type: 'epoch', n: 0 },
        });
        expect(took[4]).toBeGreaterThan(1.5);
        expect(took[4]).toBeLessThan(5);
        expect(took[5]).toBeLessThan(0.5);
      } finally {
        for (const srv of servers) {
          srv.closeAllConnections();
          srv.close();
        }
      }
    });

    it('run.sh --nproc 2 --device cpu continues the run an epoch; import-metrics brings back its row, checkpoint and status; the lineage covers both engines', async () => {
      requireTorch();
      const { out, parentId, childId } = setup;
      const ddp = await run('bash', [path.join(out, 'run.sh'), '--nproc', '2', '--device', 'cpu', '--workers', '1'], { PYTHON });
      expect(ddp.code, ddp.stderr.slice(-4000)).toBe(0);
      expect(ddp.stdout).toMatch(new RegExp(`continuing run ${childId} at epoch 2 step 0/3 \\(global step 3\\) on 2x cpu`));
      const records = fs
        .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; metrics?: { epoch: number; trainLoss: number; lr: number }; status?: string; worldSize?: number });
      expect(records.map((r) => r.type)).toEqual(['start', 'epoch', 'checkpoint', 'end']);
      expect(records[0].worldSize).toBe(2);
      expect(records[3].status).toBe('completed');
      const epoch = records[1].metrics!;
      // the schedule continued from the checkpoint: the 1-epoch onecycle stretched over 2 epochs (6 steps)
      const sched = createSchedule(resolveRunConfig([{ schedule: { policy: 'onecycle', maxLr: 0.02 } }]).schedule, {
        totalSteps: 6,
        stepsPerEpoch: 3,
        baseLr: 0.01,
        baseMomentum: 0.9,
      });
      expect(epoch.lr).toBeCloseTo(sched.at(5).lr, 15);

      const imp = await cli(['import-metrics', out, '--json', ...db()]);
      expect(imp.code, imp.stderr).toBe(0);
      const [result] = JSON.parse(imp.stdout) as { runId: number; epochs: number[]; checkpoints: { path: string }[]; status: string; ended: boolean }[];
      expect(result).toMatchObject({ runId: childId, epochs: [2], status: 'completed', ended: true });
      expect(result.checkpoints).toHaveLength(1);
      const again = await cli(['import-metrics', ...db(), '--json']); // every known folder; nothing new
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject([{ runId: childId, epochs: [], checkpoints: [] }]);

      const store = openStore(path.join(dir, 'ws.db'));
      let converted: string;
      try {
        const child = store.runs.get(childId)!;
        expect(child).toMatchObject({ status: 'completed', lastEpoch: 2, parentRunId: parentId, forkEpoch: 1 });
        expect(child.backend).toBe('pytorch-ddp 2×cpu');
        expect(child.startedAt).not.toBeNull();
        const [row] = store.metrics.epochs(childId);
        expect(row).toMatchObject({ epoch: 2, trainLoss: epoch.trainLoss, imageSize: 32 });
        const cps = store.checkpoints.list(childId);
        expect(cps.map((c) => [c.epoch, c.kind, c.globalStep, c.exists])).toEqual([[2, 'epoch', 6, true]]);
        converted = cps[0].path;
        // the converted checkpoint holds the DDP run's weights, bit for bit
        const st = readSafetensorsFile(path.join(out, 'checkpoints', 'epoch-0002.safetensors'));
        const w = fromTorchvisionTensors(describeModel({ arch: 'resnet50', numClasses: 10, widthMultiplier: 0.03125 }), st.tensors, 'x', {
          allowMomentum: true,
        });
        const header = readCheckpointFile<{ weightsSha256: string; step: number; backend: string }>(converted, false).header;
        expect(header).toMatchObject({ weightsSha256: weightsSha256(w.model.map((a) => a.data)), step: 6, backend: 'pytorch-ddp 2xcpu' });
        expect(store.events.list(childId).filter((e) => e.kind === 'note')).toHaveLength(2); // scale-out + one import
      } finally {
        store.close();
      }

      const csv = await cli(['export-csv', '--run', String(childId), '--lineage', '--db', path.join(dir, 'ws.db')]);
      expect(csv.code, csv.stderr).toBe(0);
      const rows = csv.stdout.trim().split(/\r?\n/).slice(1);
      expect(rows.map((r) => r.split(',').slice(0, 3))).toEqual([
        [String(parentId), 'demo', '1'],
        [String(childId), 'demo ↳ DDP e1', '2'],
      ]);

      // back in the workstation: the DDP checkpoint continues here as a further child run
      const ic = await cli(['import-checkpoint', path.join(out, 'checkpoints', 'epoch-0002.safetensors'), '--json', ...db()]);
      expect(ic.code, ic.stderr).toBe(0);
      expect(JSON.parse(ic.stdout)).toMatchObject({ runId: childId, path: converted, created: false });
      const home = await cli([
        'train',
        '--config',
        path.join(out, 'config.json'),
        '--resume',
        converted,
        '--epochs',
        '3',
        '--name',
        'home-again',
        '--json',
        ...db(),
      ]);
      expect(home.code, home.stderr).toBe(0);
      const h = JSON.parse(home.stdout) as { runId: number; parentRunId: number; status: string; epochs: { epoch: number }[] };
      expect(h).toMatchObject({ parentRunId: childId, status: 'completed' });
      expect(h.epochs.map((e) => e.epoch)).toEqual([3]);
      const all = await cli(['export-csv', '--run', 'home-again', '--lineage', '--db', path.join(dir, 'ws.db')]);
      expect(
        all.stdout
          .trim()
          .split(/\r?\n/)
          .slice(1)
          .map((r) => r.split(',')[2]),
      ).toEqual(['1', '2', '3']);
    });
  });
});
