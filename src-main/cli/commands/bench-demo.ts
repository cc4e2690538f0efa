// `workstation bench demo [--backend B] [--epochs N] [--seed S] [--config variant.json] [--dataset DIR]
// [--keep-dataset] [--json]` (also `npm run bench:demo`): trains the app's demo preset
// (src-shared/config/demo-preset.ts) end to end as a run does — demo dataset generated on first
// use, index, decode workers, trainer with validation every epoch, checkpoints — and reports val
// top-1 per epoch with the wall and CPU seconds (process.cpuUsage: all threads of this process,
// decode workers included) spent to reach it. Nothing goes into the store.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO_PRESET } from '../../../src-shared/config/demo-preset';
import { BACKENDS, resolveRunConfig, type RunConfig } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';
import { createBatchSource } from '../../data/batch-source';
import { DEMO_DATASET_VERSION, ensureDemoDataset } from '../../data/demo-dataset';
import { bool, num, str } from '../../common/args';
import type { CommandSpec } from '../command';
import { readConfigFile } from './train';

interface Clock {
  wallSeconds: number;
  cpuSeconds: number;
}

function clock(): () => Clock {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  return () => {
    const c = process.cpuUsage(c0);
    return { wallSeconds: round((performance.now() - t0) / 1000), cpuSeconds: round((c.user + c.system) / 1e6) };
  };
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const command: CommandSpec = {
  name: 'bench demo',
  summary: 'Train the demo preset end to end: val top-1 per epoch, wall and CPU seconds',
  flags: {
    backend: { type: 'string', description: `tfjs backend: ${BACKENDS.join(' | ')} (default: the preset's)` },
    epochs: { type: 'number', description: "epochs (default: the preset's)" },
    seed: { type: 'number', description: "run seed (default: the preset's)" },
    config: { type: 'string', description: 'a JSON config layered over the preset (to bench a variant)' },
    dataset: { type: 'string', description: 'demo dataset folder, generated there when missing (default: a fresh temp folder, so generation is timed)' },
    'keep-dataset': { type: 'boolean', description: 'keep the temp dataset folder' },
    json: { type: 'boolean', description: 'print one JSON document' },
  },
  async run(args, io) {
    const layers: unknown[] = [DEMO_PRESET];
    const variant = str(args, 'config');
    if (variant !== undefined) layers.push(readConfigFile(path.resolve(io.cwd, variant)));
    const over: Record<string, unknown> = {};
    const backend = str(args, 'backend');
    if (backend !== undefined) {
      if (!(BACKENDS as readonly string[]).includes(backend))
        throw new WorkstationError('INVALID_ARGUMENT', `--backend must be one of ${BACKENDS.join(', ')}, got "${backend}"`, { field: 'backend' });
      over.backend = backend;
    }
    const epochs = num(args, 'epochs');
    if (epochs !== undefined) over.train = { epochs };
    const seed = num(args, 'seed');
    if (seed !== undefined) over.seed = seed;
    layers.push(over);
    const config: Readonly<RunConfig> = resolveRunConfig(layers, variant ?? 'demo preset');
    if (config.data.root !== null)
      throw new WorkstationError('INVALID_CONFIG', 'data.root: the demo bench trains on the demo dataset; leave data.root null', { field: 'data.root' });

    const datasetFlag = str(args, 'dataset');
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-bench-demo-'));
    const datasetDir = datasetFlag !== undefined ? path.resolve(io.cwd, datasetFlag) : path.join(scratch, 'demo-dataset');
    const load0 = os.loadavg()[0];
    const total = clock();
    const log = (m: string) => io.stderr(`bench demo: ${m}\n`);
    try {
      const existed = fs.existsSync(path.join(datasetDir, 'demo-dataset.json'));
      const gen = clock();
      await ensureDemoDataset(datasetDir);
      const dataset = { dir: datasetDir, version: DEMO_DATASET_VERSION, reused: existed, ...gen() };
      log(`dataset ${existed ? 'reused' : 'generated'} in ${dataset.wallSeconds} s (${dataset.cpuSeconds} CPU-s)`);

      const source = await createBatchSource({ config, root: datasetDir, cacheDir: path.join(scratch, 'cache'), onLog: (l, m) => l !== 'info' && log(m) });
      const { Trainer } = await import('../../ml/trainer');
      const perEpoch: (Record<string, unknown> & Clock)[] = [];
      // the training curve as the app charts it: running loss / top-1 of the epoch at each progress event
      const steps: { globalStep: number; loss: number; top1: number; lr: number }[] = [];
      const train = clock();
      let trainer: Awaited<ReturnType<typeof Trainer.create>> | null = null;
      try {
        trainer = await Trainer.create({
          config,
          source,
          checkpointDir: path.join(scratch, 'checkpoints'),
          events: {
            onStep: (p) => {
              if (p.phase === 'train') steps.push({ globalStep: p.globalStep, loss: round(p.loss, 4), top1: round(p.top1), lr: round(p.lr, 6) });
            },
            onEpochEnd: (m) => {
              const t = train();
              perEpoch.push({
                epoch: m.epoch,
                valTop1: round(m.valTop1 ?? NaN),
                valTop5: round(m.valTop5 ?? NaN),
                valLoss: round(m.valLoss ?? NaN, 4),
                trainTop1: round(m.trainTop1),
                trainLoss: round(m.trainLoss, 4),
                lr: round(m.lr, 6),
                ...t,
              });
              log(
                `epoch ${m.epoch}/${config.train.epochs}: val top-1 ${m.valTop1?.toFixed(1)} %, train top-1 ${m.trainTop1.toFixed(1)} %, ${t.wallSeconds} s, ${t.cpuSeconds} CPU-s`,
              );
            },
          },
        });
        const t = trainer;
        io.signal.addEventListener('abort', () => t.stop(), { once: true });
        log(
          `training on ${trainer.backend.name} (${trainer.backend.reason}): ${config.train.epochs} epochs × ${trainer.stepsPerEpoch} steps of ${config.train.batchSize}`,
        );
        await trainer.run();
      } finally {
        trainer?.dispose();
        await source.close();
      }
      const trained = train();
      const last = perEpoch.at(-1);
      const result = {
        preset: config.name,
        backend: trainer.backend.name,
        finalValTop1: last?.valTop1 ?? null,
        valImages: Math.min(source.index.val.files.length, source.stepsPerEpoch('val') * (config.train.valBatchSize ?? config.train.batchSize)),
        trainImagesSeen: config.train.epochs * Math.min(source.index.train.files.length, trainer.stepsPerEpoch * config.train.batchSize),
        dataset,
        training: trained,
        total: total(),
        epochs: perEpoch,
        steps,
        machine: {
          cpus: os.cpus().length,
          cpuModel: os.cpus()[0]?.model ?? 'unknown',
          memoryGiB: Math.round(os.totalmem() / 2 ** 30),
          node: process.version,
          platform: `${process.platform}/${process.arch}`,
          loadAverage: { start: round(load0), end: round(os.loadavg()[0]) },
        },
        config,
      };
      if (bool(args, 'json')) {
        io.stdout(JSON.stringify(result, null, 2) + '\n');
        return 0;
      }
      io.stdout(
        [
          `demo preset on ${result.backend}: val top-1 ${result.finalValTop1} % on ${result.valImages} images`,
          `dataset      ${dataset.reused ? 'reused' : 'generated'}: ${dataset.wallSeconds} s, ${dataset.cpuSeconds} CPU-s`,
          `training     ${trained.wallSeconds} s, ${trained.cpuSeconds} CPU-s (${result.trainImagesSeen} training images, validation every epoch)`,
          `total        ${result.total.wallSeconds} s, ${result.total.cpuSeconds} CPU-s`,
          'epoch  val top-1  train top-1  wall s  CPU-s',
          ...perEpoch.map(
            (e) =>
              `${String(e.epoch).padStart(5)}  ${String(e.valTop1).padStart(8)}  ${String(e.trainTop1).padStart(11)}  ${String(e.wallSeconds).padStart(6)}  ${e.cpuSeconds}`,
          ),
        ].join('\n') + '\n',
      );
      return 0;
    } finally {
      const keep = datasetFlag === undefined && bool(args, 'keep-dataset');
      for (const p of keep ? [path.join(scratch, 'checkpoints'), path.join(scratch, 'cache')] : [scratch]) fs.rmSync(p, { recursive: true, force: true });
      if (keep) io.stderr(`bench demo: dataset kept in ${datasetDir}\n`);
    }
  },
};
export default command;
