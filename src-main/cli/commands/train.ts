// `workstation train --config <file.json> [--resume <checkpoint>] [--epochs N] [--out <dir>]
//  [--backend B] [--name N] [--db] [--data-dir] [--json]`
// Trains through the service code and the store, so CLI runs appear in the app. When a live
// service (the app, `serve`) owns the data dir and database, the run is handed to it (one owner
// per run; it queues like any other and shows live in the app) and followed here; --in-process
// trains in this process anyway.
// The config is validated (file, then flags) before anything trains; relative paths in it
// resolve against the file. --resume with a checkpoint the store knows makes a child run of its
// run (lineage); any other checkpoint file starts a new run from it. With --json, stdout carries
// exactly one JSON document at the end; progress goes to stderr.
import fs from 'node:fs';
import path from 'node:path';
import { BACKENDS, resolveRunConfig, type RunConfig } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';
import type { RunSummary } from '../../../src-shared/api/schemas';
import type { ServiceFile } from '../../common/service-file';
import { openStore, type Store } from '../../store/index';
import { bool, num, str } from '../../common/args';
import type { CliIO, CommandSpec } from '../command';
import { applyGpuEnv } from '../../common/gpu-env';
import { DB_FLAG, resolveDbPath } from '../db-flag';
import { liveServiceFor, runInService } from '../remote-run';
import { DATA_DIR_FLAG, WATCH_FLAGS, followInProcess, openCliService, outcomeFields, resolveDataDir } from '../service-session';

/** Reads and validates a config file; relative paths inside it resolve against the file. */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new WorkstationError('NOT_FOUND', `cannot read config file ${file}: ${(e as Error).message}`, { path: file, field: 'config' });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new WorkstationError('INVALID_CONFIG', `${file}: not valid JSON: ${(e as Error).message}`, { path: file });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new WorkstationError('INVALID_CONFIG', `${file}: config must be a JSON object`, { path: file });
  const cfg = json as Record<string, unknown>;
  const data = cfg.data as Record<string, unknown> | undefined;
  if (data && typeof data === 'object' && typeof data.root === 'string' && !path.isAbsolute(data.root)) {
    cfg.data = { ...data, root: path.resolve(path.dirname(file), data.root) };
  }
  resolveRunConfig([cfg], file); // names the file and the field on error
  return cfg;
}

function findStoreCheckpoint(store: Store, file: string): number | null {
  const abs = path.resolve(file);
  for (const run of store.runs.list()) {
    for (const cp of store.checkpoints.list(run.id)) if (path.resolve(cp.path) === abs) return cp.id;
  }
  return null;
}

function printResult(
  io: CliIO,
  json: boolean,
  f: { run: RunSummary; epochs: unknown[]; lastCheckpoint: string | null; weightsSha256: string | null; backend: string | null; error: string | null },
): number {
  const { run } = f;
  if (json) {
    io.stdout(
      JSON.stringify({
        runId: run.id,
        name: run.name,
        status: run.status,
        parentRunId: run.parentRunId,
        epochs: f.epochs,
        lastCheckpoint: f.lastCheckpoint,
        weightsSha256: f.weightsSha256,
        backend: f.backend,
        error: f.error,
      }) + '\n',
    );
  } else {
    io.stdout(`run ${run.id} (${run.name}) ${run.status}${f.error ? `: ${f.error}` : ''}\n`);
    if (f.weightsSha256) io.stdout(`last checkpoint: ${f.lastCheckpoint ?? '-'}\nweights sha256: ${f.weightsSha256}\nbackend: ${f.backend ?? '-'}\n`);
  }
  if (run.status === 'completed') return 0;
  if (run.status === 'stopped') return 130;
  return 1;
}

/** Hands the run to the live service and follows it. */
async function trainInService(
  live: ServiceFile,
  o: { dbPath: string; config: Readonly<RunConfig>; name: string | undefined; resumeFile?: string; checkpointDir?: string },
  io: CliIO,
  json: boolean,
): Promise<number> {
  if (o.checkpointDir)
    throw new WorkstationError(
      'INVALID_ARGUMENT',
      `--out: a service (pid ${live.pid}) is running on this data directory and keeps its runs' checkpoints there; drop --out, or pass --in-process to train in this process`,
      { field: 'out' },
    );
  let cpId: number | null = null;
  if (o.resumeFile) {
    const store = openStore(o.dbPath);
    try {
      cpId = findStoreCheckpoint(store, o.resumeFile);
    } finally {
      store.close();
    }
    if (cpId === null)
      throw new WorkstationError(
        'INVALID_ARGUMENT',
        `--resume: the running service (pid ${live.pid}) forks only checkpoints its database knows; ${o.resumeFile} is not one of them: pass --in-process to start a run from that file here`,
        { field: 'resume', path: o.resumeFile },
      );
  }
  const r =
    cpId !== null
      ? await runInService(
          live,
          'runs.fork',
          { checkpointId: cpId, overrides: o.config as unknown as Record<string, unknown>, name: o.name ?? o.config.name },
          io,
        )
      : await runInService(live, 'runs.start', { config: o.config as unknown as Record<string, unknown> }, io);
  if (r.detached) {
    io.stderr(`detached: run ${r.run.id} keeps training in the service (\`workstation runs\` shows it)\n`);
    return 0;
  }
  return printResult(io, json, { ...r, backend: r.run.backend, error: r.run.error });
}

const command: CommandSpec = {
  name: 'train',
  summary: 'Train a run from a config file through the store (the run shows in the app)',
  flags: {
    config: { type: 'string', required: true, description: 'run config JSON (relative paths inside resolve against the file)' },
    resume: { type: 'string', description: 'checkpoint to resume from: a child run when the store knows it, else a new run from that file' },
    'init-weights': {
      type: 'string',
      description: 'start a new run from torchvision-named weights (.safetensors: `export --format torchvision`, a torchvision state_dict); strict',
    },
    epochs: { type: 'number', description: 'the epoch the run ends at (train.epochs)' },
    out: { type: 'string', description: 'checkpoint folder (default <data-dir>/runs/<id>/checkpoints)' },
    backend: { type: 'string', description: `tfjs backend: ${BACKENDS.join(' | ')}` },
    name: { type: 'string', description: 'run name (default: the config name)' },
    json: { type: 'boolean', description: 'print one JSON document at the end: {runId, status, epochs, lastCheckpoint, weightsSha256, backend}' },
    'in-process': { type: 'boolean', description: 'train in this process even when a service (the app, serve) runs on the data directory' },
    'allow-failed-selftest': {
      type: 'boolean',
      description: 'train on a native backend even though its stored self-test failed (train.allowFailedSelftest, recorded with the run)',
    },
    deterministic: {
      type: 'boolean',
      description:
        'in-process: deterministic GPU kernels (TF_DETERMINISTIC_OPS, TF_CUDNN_DETERMINISTIC), needed by train.deterministic; a live service needs its own --deterministic',
    },
    ...DB_FLAG,
    ...DATA_DIR_FLAG,
    ...WATCH_FLAGS,
  },
  async run(args, io) {
    const configFile = path.resolve(io.cwd, str(args, 'config') as string);
    const fileConfig = readConfigFile(configFile);
    const overrides: Record<string, unknown> = {};
    const epochs = num(args, 'epochs');
    if (epochs !== undefined) overrides.train = { epochs };
    if (bool(args, 'allow-failed-selftest')) overrides.train = { ...(overrides.train as object | undefined), allowFailedSelftest: true };
    const backendFlag = str(args, 'backend');
    if (backendFlag !== undefined) {
      if (!(BACKENDS as readonly string[]).includes(backendFlag))
        throw new WorkstationError('INVALID_ARGUMENT', `--backend must be one of ${BACKENDS.join(', ')}, got "${backendFlag}"`, { field: 'backend' });
      overrides.backend = backendFlag;
    }
    const name = str(args, 'name');
    if (name !== undefined) overrides.name = name;
    let config: Readonly<RunConfig>;
    try {
      config = resolveRunConfig([fileConfig, overrides], configFile);
    } catch (e) {
      // a flag made it invalid (e.g. --epochs 0): name the flag
      if (e instanceof WorkstationError && e.field === 'train.epochs' && epochs !== undefined)
        throw new WorkstationError('INVALID_ARGUMENT', `--epochs: ${e.message}`, { field: 'epochs' });
      throw e;
    }
    const resume = str(args, 'resume');
    const resumeFile = resume !== undefined ? path.resolve(io.cwd, resume) : undefined;
    if (resumeFile && !fs.existsSync(resumeFile))
      throw new WorkstationError('NOT_FOUND', `--resume: checkpoint ${resumeFile} not found`, { field: 'resume', path: resumeFile });
    const out = str(args, 'out');
    const checkpointDir = out !== undefined ? path.resolve(io.cwd, out) : undefined;
    const init = str(args, 'init-weights');
    const initWeights = init !== undefined ? path.resolve(io.cwd, init) : undefined;
    if (initWeights && resumeFile)
      throw new WorkstationError('INVALID_ARGUMENT', '--init-weights starts a new run; it cannot be combined with --resume', { field: 'init-weights' });
    if (initWeights && !fs.existsSync(initWeights))
      throw new WorkstationError('NOT_FOUND', `--init-weights: ${initWeights} not found`, { field: 'init-weights', path: initWeights });
    // strict, before a run exists: the first missing / misshapen / unexpected tensor is named here
    if (initWeights) {
      const [{ checkTorchvisionWeightsFile }, { describeModel }] = await Promise.all([
        import('../../ml/interop/torchvision-names'),
        import('../../ml/models/index'),
      ]);
      checkTorchvisionWeightsFile(initWeights, describeModel(config.model));
    }

    const dbPath = resolveDbPath(args, io);
    const live = bool(args, 'in-process') ? null : liveServiceFor(resolveDataDir(args, io), dbPath);
    if (live && initWeights)
      throw new WorkstationError(
        'INVALID_ARGUMENT',
        `--init-weights: a service (pid ${live.pid}) is running on this data directory; pass --in-process to start the run from those weights here`,
        { field: 'init-weights' },
      );
    if (live) return trainInService(live, { dbPath, config, name, resumeFile, checkpointDir }, io, bool(args, 'json'));

    // before libtensorflow loads (Trainer.create): CUDA JIT cache, determinism switches
    applyGpuEnv(resolveDataDir(args, io), { deterministic: bool(args, 'deterministic') }, process.env);
    const service = await openCliService(args, io);
    const outcome = await followInProcess(service, io, () => {
      const cpId = resumeFile ? findStoreCheckpoint(service.store, resumeFile) : null;
      const run =
        cpId !== null
          ? service.runs.fork(cpId, config as unknown as Record<string, unknown>, name ?? config.name, { checkpointDir })
          : service.runs.start({
              config,
              configSource: configFile,
              name: config.name,
              checkpointDir,
              resumeFrom: resumeFile,
              resumeMode: resumeFile ? 'exact' : undefined,
              initWeights,
            });
      io.stderr(
        `run ${run.id} (${run.name}) ${run.status}${cpId !== null ? `: child of run ${run.parentRunId} from epoch ${run.forkEpoch}` : resumeFile ? `: resumed from ${resumeFile}` : ''}${run.status === 'queued' ? ' (waiting for the run in training)' : ''}\n`,
      );
      return run;
    });
    return printResult(io, bool(args, 'json'), outcomeFields(outcome));
  },
};

export default command;
