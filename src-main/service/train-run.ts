// Trains the active run to its end: dataset (the demo dataset when none is configured), batch
// source, trainer (tfjs loaded on first use, so opening the service does not pay for it), the
// loop, and cleanup. Resolves with the outcome; never rejects (a failure is an outcome).
// While it trains, this process owns the run: pid, host and start time are recorded with it and a
// heartbeat is committed every HEARTBEAT_MS, so every reader (another service, the CLI) can tell
// a live run from one whose process is gone.
import os from 'node:os';
import { createBatchSource } from '../data/batch-source';
import { ensureDemoDataset } from '../data/demo-dataset';
import type { BackendInfo } from '../ml/backend';
import type { TrainResult } from '../ml/trainer';
import type { AppPaths } from '../common/paths';
import type { Store } from '../store/index';
import type { ActiveRun } from './active-run';
import type { Launch } from './run-queue';
import type { Faults } from './fault-injection';
import type { Emit, LogFn, RunRecorder } from './run-recorder';
import { gpuMonitor, gpuNoteFields } from './gpu-metrics';

/** How often the owner's heartbeat is committed (a blocking step can delay one; liveness on this host is the pid). */
export const HEARTBEAT_MS = 5000;

export interface TrainOutcome {
  final: 'completed' | 'stopped' | 'failed';
  result: TrainResult | null;
  backend: BackendInfo | null;
  error: string | null;
}

export interface TrainDeps {
  store: Store;
  paths: AppPaths;
  recorder: RunRecorder;
  log: LogFn;
  addDatasetRoot(root: string): void;
  rates: { train(r: number): void; data(r: number): void; backend(b: BackendInfo): void };
  faults?: Faults;
  /** service events (the self-test gate's selftest.status) */
  emit?: Emit;
}

export async function trainRun(a: ActiveRun, l: Launch, deps: TrainDeps): Promise<TrainOutcome> {
  const { store, paths, recorder, log } = deps;
  const runId = a.runId;
  const { events, flush } = recorder.trainerEvents(a, log, deps.rates);
  let result: TrainResult | null = null;
  let error: string | null = null;
  let final: TrainOutcome['final'] = 'failed';
  const pid = process.pid;
  const heartbeat = setInterval(() => {
    try {
      store.runs.heartbeat(runId, pid);
    } catch (e) {
      log('warn', `heartbeat: ${(e as Error).message}`, runId);
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  // nvidia-smi every 5 s while this run trains (nothing without it), stored with the run (bounded)
  const gpuSamples = gpuMonitor().track({
    intervalMs: deps.faults?.gpuSampleMs,
    onSamples: (samples) => {
      try {
        store.gpuSamples.add(runId, samples);
      } catch (e) {
        log('warn', `storing GPU samples: ${(e as Error).message}`, runId);
      }
    },
  });
  try {
    // a native backend trains only once its self-test passed (run now when none is stored for its version)
    const { gateRunBackend } = await import('./selftest-gate');
    await gateRunBackend(a.config, runId, {
      store,
      log,
      emit: deps.emit ?? (() => {}),
      faults: deps.faults,
      note: (data) => recorder.addEvent(runId, 'note', data),
    });
    const root = a.config.data.root ?? (await ensureDemoDataset(paths.demoDatasetDir));
    deps.addDatasetRoot(root);
    a.source = await createBatchSource({
      config: a.config,
      root,
      cacheDir: paths.cacheDir,
      onLog: (level: string, msg: string) => log(level as 'info', msg, runId),
    });
    const { Trainer } = await import('../ml/trainer');
    const trainer = await Trainer.create({
      config: a.config,
      source: a.source,
      checkpointDir: l.checkpointDir,
      resumeFrom: l.resumeFrom,
      resumeMode: l.resumeMode,
      initWeights: l.initWeights,
      augmentChanges: l.augmentChanges,
      pinnedCheckpoints: () => store.checkpoints.pinnedPaths(runId),
      earlyStoppingHistory: store.metrics.epochs(runId),
      checkpointHooks: deps.faults ? () => deps.faults?.checkpointWrite() : undefined,
      events,
    });
    deps.rates.backend(trainer.backend);
    store.runs.setBackend(runId, trainer.backend.name, os.hostname());
    // the reason matters later ("why was this run on the CPU?"): keep it with the run
    // with nvidia-smi: the GPU's name, count, driver and CUDA version (gpuName, gpuCount, gpuDriver, gpuCuda)
    const gpuNote = gpuNoteFields(await gpuMonitor().info());
    recorder.addEvent(runId, 'note', { backend: trainer.backend.name, reason: trainer.backend.reason, gpu: trainer.backend.gpu, ...gpuNote });
    a.attach(trainer);
    recorder.announce(runId);
    log('info', `run ${runId} training on ${trainer.backend.name} (${trainer.backend.reason})`, runId);
    result = await trainer.run();
    flush();
    final = result.stopped ? 'stopped' : 'completed';
    // train.earlyStopping ended it: it completed, and the run says why
    if (result.earlyStopped) {
      const { message, ...earlyStopping } = result.earlyStopped;
      recorder.addEvent(runId, 'note', { message, earlyStopping }, { epoch: result.earlyStopped.stoppedAfterEpoch });
      log('info', `run ${runId}: ${message}`, runId);
    }
  } catch (e) {
    error = (e as Error)?.message ?? String(e);
    try {
      flush();
    } catch {
      /* the run failed anyway; keep the original error */
    }
    log('error', `run ${runId} failed: ${error}`, runId);
    recorder.addEvent(runId, 'error', { message: error, code: (e as { code?: string }).code ?? 'INTERNAL' }, a.at);
  }
  clearInterval(heartbeat);
  gpuSamples.stop();
  // Free the trainer and the data workers BEFORE the run is reported as ended, so the slot is
  // really free when clients see the status (and the next queued run starts on a clean slate).
  const backend = a.trainer?.backend ?? null;
  try {
    a.trainer?.dispose();
  } catch (e) {
    log('warn', `disposing the trainer: ${(e as Error).message}`, runId);
  }
  try {
    await a.source?.close();
  } catch (e) {
    log('warn', `closing the batch source: ${(e as Error).message}`, runId);
  }
  return { final, result, backend, error };
}
