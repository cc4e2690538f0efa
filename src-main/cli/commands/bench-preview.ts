// `workstation bench preview [--previews N] [--count 8] [--size 224] [--backend B] [--dataset DIR] [--json]`
// (`npm run bench:preview`): how long `augment.preview` takes in an in-process training service,
// first with nothing training, then while the demo preset trains on the demo dataset (generated
// on first use). Two figures while training: `fromCall`, from the call to the answer (an
// in-process caller can only call between two training steps), and `fromArrival`, from the moment
// a request is due (a timer) to the answer, which adds the wait for the event loop that an IPC or
// WebSocket client's request sees while a synchronous training step runs. Also the training step
// time with and without previews, and the load average. Nothing is kept.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO_PRESET } from '../../../src-shared/config/demo-preset';
import { BACKENDS } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';
import { bool, num, str } from '../../common/args';
import { ensureDemoDataset } from '../../data/demo-dataset';
import { createService, type Service } from '../../service/service';
import type { CommandSpec } from '../command';

interface Stats {
  n: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
  maxMs: number;
}

function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, medianMs: r(at(0.5)), p90Ms: r(at(0.9)), minMs: r(s[0]), maxMs: r(s[s.length - 1]) };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The first training image of each of the first `n` classes (sorted), cycling when there are fewer. */
function pickImages(root: string, n: number): string[] {
  const train = path.join(root, 'train');
  const classes = fs.readdirSync(train).sort();
  return Array.from({ length: n }, (_, i) => {
    const dir = path.join(train, classes[i % classes.length]);
    return path.join(dir, fs.readdirSync(dir).sort()[Math.floor(i / classes.length)]);
  });
}

const command: CommandSpec = {
  name: 'bench preview',
  summary: 'Augmentation preview latency (median/p90 ms) in the service, idle and while the demo preset trains',
  flags: {
    previews: { type: 'number', description: 'timed previews per phase (after one warm-up)', default: 10 },
    count: { type: 'number', description: 'samples per preview', default: 8 },
    size: { type: 'number', description: 'preview size in pixels', default: 224 },
    backend: { type: 'string', description: `tfjs backend of the training run: ${BACKENDS.join(' | ')} (default: the preset's)` },
    dataset: { type: 'string', description: 'demo dataset folder, generated there when missing (default: a fresh temp folder)' },
    json: { type: 'boolean', description: 'print one JSON document' },
  },
  async run(args, io) {
    const previews = num(args, 'previews')!;
    const count = num(args, 'count')!;
    const size = num(args, 'size')!;
    if (!Number.isInteger(previews) || previews < 1 || previews > 1000)
      throw new WorkstationError('INVALID_ARGUMENT', `--previews must be an integer in 1..1000, got ${previews}`, { field: 'previews' });
    const backend = str(args, 'backend');
    if (backend !== undefined && !(BACKENDS as readonly string[]).includes(backend))
      throw new WorkstationError('INVALID_ARGUMENT', `--backend must be one of ${BACKENDS.join(', ')}, got "${backend}"`, { field: 'backend' });
    const log = (m: string) => io.stderr(`bench preview: ${m}\n`);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-bench-preview-'));
    const datasetFlag = str(args, 'dataset');
    const root = datasetFlag !== undefined ? path.resolve(io.cwd, datasetFlag) : path.join(scratch, 'demo-dataset');
    let service: Service | null = null;
    try {
      log(`demo dataset in ${root}`);
      await ensureDemoDataset(root);
      const images = pickImages(root, Math.min(count, 64));
      service = await createService({ dbPath: path.join(scratch, 'bench.db'), dataDir: path.join(scratch, 'data') });
      const svc = service;
      const preview = () => svc.call('augment.preview', { images, count, seed: 1, size, params: {} });
      const load0 = os.loadavg()[0];

      // --- the demo preset on the dataset (which makes it a dataset root the preview may read), once it trains
      const steps: number[] = [];
      svc.on('run.step', (p) => p.phase === 'train' && steps.push(performance.now()));
      const config = {
        ...DEMO_PRESET,
        name: 'bench-preview',
        data: { ...DEMO_PRESET.data, root },
        ...(backend !== undefined ? { backend } : {}),
        // a progress event every step: step times are read from them
        train: { ...DEMO_PRESET.train, logEverySteps: 1 },
      };
      const run = await svc.call('runs.start', { config });
      log(`run ${run.id} started (${run.status}); waiting for its first steps…`);
      while (steps.length < 3) {
        await sleep(50);
        const r = await svc.call('runs.get', { runId: run.id });
        if (['failed', 'completed', 'stopped'].includes(r.run.status))
          throw new WorkstationError('INTERNAL', `the demo run ended before training: ${r.run.error}`);
      }
      // steps without previews, as the reference for the training slowdown
      const quietFrom = steps.length;
      while (steps.length < quietFrom + 8) await sleep(50);
      const quietSteps = steps.slice(quietFrom);

      log(`previews while training (${previews} + 1 warm-up)…`);
      const fromCall: number[] = [];
      const fromArrival: number[] = [];
      const waitForLoop: number[] = [];
      const stepsDuring: number[] = [];
      const busyFrom = steps.length;
      for (let i = 0; i <= previews; i++) {
        // a request due at an arbitrary point of a step, as a client's request arrives
        const delay = 150 + ((i * 137) % 400);
        const due = performance.now() + delay;
        await sleep(delay);
        const called = performance.now();
        const before = steps.length;
        await preview();
        const done = performance.now();
        if (i === 0) continue;
        fromCall.push(done - called);
        fromArrival.push(done - due);
        waitForLoop.push(called - due);
        stepsDuring.push(steps.length - before);
      }
      const busySteps = steps.slice(busyFrom);
      const r = await svc.call('runs.get', { runId: run.id });
      const trainingBackend = r.run.backend;
      await svc.call('runs.stop', { runId: run.id }).catch(() => undefined);

      // --- nothing training any more (the run stops at its next step boundary)
      const idle: number[] = [];
      while (!['stopped', 'completed', 'failed'].includes((await svc.call('runs.get', { runId: run.id })).run.status)) await sleep(100);
      log(`previews with nothing training (${previews} + 1 warm-up)…`);
      for (let i = 0; i <= previews; i++) {
        const t0 = performance.now();
        await preview();
        if (i > 0) idle.push(performance.now() - t0);
      }
      const intervals = (ts: number[]) => ts.slice(1).map((t, i) => t - ts[i]);
      const result = {
        count,
        size,
        images: images.map((f) => path.relative(root, f)),
        idle: stats(idle),
        training: {
          backend: trainingBackend,
          fromCall: stats(fromCall),
          fromArrival: stats(fromArrival),
          /** fromArrival − fromCall: the request waiting for the training step in progress */
          waitForEventLoop: stats(waitForLoop),
          /** training steps that completed while a preview was in flight */
          stepsDuringPreview: { max: Math.max(...stepsDuring), total: stepsDuring.reduce((a, b) => a + b, 0) },
        },
        stepMs: { withoutPreviews: stats(intervals(quietSteps)), withPreviews: stats(intervals(busySteps)) },
        machine: {
          cpus: os.availableParallelism(),
          cpuModel: os.cpus()[0]?.model ?? 'unknown',
          node: process.version,
          loadAverage: { start: Math.round(load0 * 100) / 100, end: Math.round(os.loadavg()[0] * 100) / 100 },
        },
      };
      if (bool(args, 'json')) {
        io.stdout(JSON.stringify(result, null, 2) + '\n');
        return 0;
      }
      const line = (label: string, s: Stats) => `${label.padEnd(37)} median ${s.medianMs} ms, p90 ${s.p90Ms} ms (min ${s.minMs}, max ${s.maxMs}, n ${s.n})`;
      io.stdout(
        [
          `${count} previews at ${size} px of demo images; ${result.machine.cpus} cores (${result.machine.cpuModel}), load ${result.machine.loadAverage.start} → ${result.machine.loadAverage.end}`,
          line('nothing training', result.idle),
          line(`training (${trainingBackend}), from the call`, result.training.fromCall),
          line(`training, from the request's arrival`, result.training.fromArrival),
          line('  of which waiting for the step', result.training.waitForEventLoop),
          `steps completed during a preview: at most ${result.training.stepsDuringPreview.max}`,
          line('training step, without previews', result.stepMs.withoutPreviews),
          line('training step, with previews', result.stepMs.withPreviews),
        ].join('\n') + '\n',
      );
      return 0;
    } finally {
      await service?.close();
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  },
};
export default command;
