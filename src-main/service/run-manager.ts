// The run manager: owns the one trainer that runs at a time in this service. A second start is
// QUEUED (status 'queued') and begins when the active run ends. It wires trainer callbacks to the
// store (epoch rows committed before the next epoch, step samples batched, checkpoint rows and
// rotations) and to service events, and implements pause/resume/stop, live augmentation,
// fork (child run from a checkpoint) and exact resume of an interrupted/stopped run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EventName, EventPayload } from '../../src-shared/api/contract';
import type { RunSummary, ServiceState, StepProgress } from '../../src-shared/api/schemas';
import { applyAugmentPatch, type AugmentParams, type AugmentPatch } from '../../src-shared/config/augment';
import { diffConfigs, resolveRunConfig, type RunConfig } from '../../src-shared/config/run-config';
import { WorkstationError } from '../../src-shared/errors';
import { toStepSample, type EpochMetrics, type StepSample } from '../../src-shared/metrics';
import type { BatchSource } from '../../src-shared/batch-source';
import { createBatchSource } from '../data/batch-source';
import { ensureDemoDataset } from '../data/demo-dataset';
import type { BackendInfo } from '../ml/backend';
import type { Trainer, TrainResult } from '../ml/trainer';
import type { AppPaths } from '../common/paths';
import type { Store } from '../store/index';

export type Emit = <E extends EventName>(event: E, payload: EventPayload<E>) => void;
export type LogFn = (level: 'debug' | 'info' | 'warn' | 'error', message: string, runId?: number | null) => void;

/** How a queued run starts; kept in memory, derivable from the store for runs.resume. */
interface Launch {
  runId: number;
  /** checkpoint file to start from */
  resumeFrom?: string;
  resumeMode?: 'exact' | 'fork';
  /** where checkpoints go (CLI --out); default <dataDir>/runs/<id>/checkpoints */
  checkpointDir: string;
}

export interface RunOutcome {
  run: RunSummary;
  result: TrainResult | null;
  backend: BackendInfo | null;
  error: string | null;
}

export interface StartOptions {
  /** partial run config (layers above the defaults); validated here */
  config: unknown;
  /** for error messages: the file the config came from */
  configSource?: string;
  name?: string;
  checkpointDir?: string;
  resumeFrom?: string;
  resumeMode?: 'exact' | 'fork';
  parentRunId?: number | null;
  parentCheckpointId?: number | null;
  forkEpoch?: number | null;
}

interface Active {
  runId: number;
  config: Readonly<RunConfig>;
  trainer: Trainer | null;
  source: BatchSource | null;
  stopRequested: boolean;
  pauseRequested: boolean;
  progress: StepProgress | null;
  augment: AugmentParams;
  steps: StepSample[];
  lastFlush: number;
  done: Promise<void>;
}

/** Step samples are written in batches: one transaction per this many ms (and at each epoch end). */
const STEP_FLUSH_MS = 2000;

export interface RunManager {
  start(opts: StartOptions): RunSummary;
  /**
   * A new child run resumed from a checkpoint: config = parent config deep-merged with overrides.
   * The trainer continues the parent's schedule exactly when only train.epochs (and the name)
   * differ ('exact'), else the new settings start a new experiment ('fork').
   */
  fork(checkpointId: number, overrides: Record<string, unknown>, name?: string, opts?: { checkpointDir?: string }): RunSummary;
  pause(runId: number): RunSummary;
  resume(runId: number): RunSummary;
  stop(runId: number): RunSummary;
  updateAugment(runId: number, patch: AugmentPatch): { effectiveFromStep: number };
  state(): ServiceState;
  isBusy(runId: number): boolean;
  /** resolves when the run leaves the queue/trainer (completed, stopped, failed) */
  whenFinished(runId: number): Promise<RunOutcome>;
  backend(): BackendInfo | null;
  throughput(): { dataImagesPerSec: number | null; trainImagesPerSec: number | null };
  /** stop everything at the next step boundary; queued runs become 'stopped' */
  shutdown(reason: string): Promise<void>;
}

export function createRunManager(deps: { store: Store; paths: AppPaths; emit: Emit; log: LogFn; addDatasetRoot(root: string): void }): RunManager {
  const { store, paths, emit, log } = deps;
  const queue: Launch[] = [];
  let active: Active | null = null;
  let lastBackend: BackendInfo | null = null;
  let lastDataRate: number | null = null;
  let lastTrainRate: number | null = null;
  let shuttingDown = false;
  const waiters = new Map<number, ((o: RunOutcome) => void)[]>();
  const outcomes = new Map<number, RunOutcome>();

  /**
   * <dataDir>/runs/<id>/checkpoints. Run ids are per database: when another database on the same
   * data dir already used that folder, a suffixed one is taken, so checkpoint rotation can never
   * touch another run's files.
   */
  const defaultCheckpointDir = (runId: number): string => {
    const dir = path.join(paths.runsDir, String(runId), 'checkpoints');
    const taken = (d: string): boolean => {
      try {
        return fs.readdirSync(d).length > 0;
      } catch {
        return false;
      }
    };
    if (!taken(dir)) return dir;
    for (let i = 2; ; i++) {
      const alt = path.join(paths.runsDir, `${runId}-${i}`, 'checkpoints');
      if (!taken(alt)) return alt;
    }
  };

  function setStatus(runId: number, status: RunSummary['status'], extra?: { error?: string | null }): RunSummary {
    const run = store.runs.setStatus(runId, status, extra);
    emit('run.status', { run });
    return run;
  }

  function addEvent(
    runId: number,
    kind: Parameters<Store['events']['add']>[0]['kind'],
    data: Record<string, unknown>,
    at?: { epoch?: number | null; globalStep?: number | null },
  ): void {
    const ev = store.events.add({ runId, kind, epoch: at?.epoch ?? null, globalStep: at?.globalStep ?? null, data });
    emit('run.event', ev);
  }

  function mustRun(runId: number): RunSummary {
    const run = store.runs.get(runId);
    if (!run) throw new WorkstationError('NOT_FOUND', `run ${runId} not found`, { field: 'runId' });
    return run;
  }

  function finish(runId: number, outcome: RunOutcome): void {
    outcomes.set(runId, outcome);
    for (const w of waiters.get(runId) ?? []) w(outcome);
    waiters.delete(runId);
  }

  function flushSteps(a: Active): void {
    if (a.steps.length === 0) return;
    const batch = a.steps;
    a.steps = [];
    a.lastFlush = Date.now();
    store.metrics.addSteps(a.runId, batch);
  }

  function enqueue(l: Launch): void {
    queue.push(l);
    pump();
  }

  function pump(): void {
    if (active || shuttingDown) return;
    const next = queue.shift();
    if (!next) return;
    const run = store.runs.get(next.runId);
    if (!run || run.status !== 'queued') return pump();
    launch(next);
  }

  /** The config a run uses: its stored config with the live augmentation changes recorded so far. */
  function effectiveConfig(runId: number): Readonly<RunConfig> {
    const base = resolveRunConfig([store.runs.config(runId)]);
    let augment = base.augment;
    for (const ev of store.events.list(runId)) if (ev.kind === 'augment' && ev.data.patch) augment = applyAugmentPatch(augment, ev.data.patch as AugmentPatch);
    return augment === base.augment ? base : resolveRunConfig([base, { augment }]);
  }

  function launch(l: Launch): void {
    const config = effectiveConfig(l.runId);
    const a: Active = {
      runId: l.runId,
      config,
      trainer: null,
      source: null,
      stopRequested: false,
      pauseRequested: false,
      progress: null,
      augment: config.augment,
      steps: [],
      lastFlush: Date.now(),
      done: Promise.resolve(),
    };
    active = a;
    setStatus(l.runId, 'running', { error: null });
    a.done = train(a, l)
      .catch((e: unknown) => log('error', `run ${l.runId}: ${(e as Error)?.message ?? String(e)}`, l.runId))
      .finally(() => {
        if (active === a) active = null;
        pump();
      });
  }

  async function train(a: Active, l: Launch): Promise<void> {
    const runId = a.runId;
    let result: TrainResult | null = null;
    let error: string | null = null;
    let final: 'completed' | 'stopped' | 'failed' = 'failed';
    try {
      const root = a.config.data.root ?? (await ensureDemoDataset(paths.demoDatasetDir));
      deps.addDatasetRoot(root);
      const source = await createBatchSource({
        config: a.config,
        root,
        cacheDir: paths.cacheDir,
        onLog: (level: string, msg: string) => log(level as 'info', msg, runId),
      });
      a.source = source;
      // Loaded on first use: opening the service (serve, CLI, reattach) does not pay for tfjs.
      const { Trainer } = await import('../ml/trainer');
      a.trainer = await Trainer.create({
        config: a.config,
        source,
        checkpointDir: l.checkpointDir,
        resumeFrom: l.resumeFrom,
        resumeMode: l.resumeMode,
        events: {
          onStep: (p) => {
            const progress: StepProgress = { ...p, runId };
            a.progress = progress;
            if (p.phase === 'train') {
              lastTrainRate = p.imagesPerSec;
              a.steps.push(toStepSample(p));
              if (Date.now() - a.lastFlush > STEP_FLUSH_MS) flushSteps(a);
            }
            emit('run.step', progress);
          },
          onEpochEnd: (m: EpochMetrics) => {
            flushSteps(a);
            // Committed before the trainer starts the next epoch (it awaits this callback).
            store.metrics.addEpoch(runId, m);
            const stats = a.source?.stats('train', m.epoch);
            if (stats && stats.seconds > 0) lastDataRate = stats.images / stats.seconds;
            emit('run.epoch', { runId, metrics: m });
            emit('run.status', { run: mustRun(runId) });
          },
          onCheckpoint: (c) => {
            const info = store.checkpoints.add({ runId, epoch: c.epoch, path: c.path, bytes: c.bytes, sha256: c.sha256, valTop1: c.valTop1, isBest: c.isBest });
            for (const removed of c.removed) store.checkpoints.markRemoved(removed);
            emit('checkpoint.saved', info);
          },
          onLog: (level, msg) => log(level as 'info', msg, runId),
        },
      });
      lastBackend = a.trainer.backend;
      store.runs.setBackend(runId, a.trainer.backend.name, os.hostname());
      // the reason matters later ("why was this run on the CPU?"): keep it with the run
      addEvent(runId, 'note', { backend: a.trainer.backend.name, reason: a.trainer.backend.reason, gpu: a.trainer.backend.gpu });
      if (a.stopRequested) a.trainer.stop();
      else if (a.pauseRequested) a.trainer.pause();
      emit('run.status', { run: mustRun(runId) });
      log('info', `run ${runId} training on ${a.trainer.backend.name} (${a.trainer.backend.reason})`, runId);
      result = await a.trainer.run();
      flushSteps(a);
      final = result.stopped ? 'stopped' : 'completed';
    } catch (e) {
      error = (e as Error)?.message ?? String(e);
      try {
        flushSteps(a);
      } catch {
        /* the run failed anyway; keep the original error */
      }
      log('error', `run ${runId} failed: ${error}`, runId);
      addEvent(
        runId,
        'error',
        { message: error, code: (e as { code?: string }).code ?? 'INTERNAL' },
        { epoch: a.progress?.epoch ?? null, globalStep: a.progress?.globalStep ?? null },
      );
    }
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
    if (active === a) active = null;
    const run = setStatus(runId, final, final === 'failed' ? { error } : undefined);
    finish(runId, { run, result, backend, error });
  }

  const latestCheckpoint = (runId: number) => store.checkpoints.latest(runId) ?? null;

  const manager: RunManager = {
    start(opts) {
      const config = resolveRunConfig([opts.config], opts.configSource);
      const name = opts.name ?? config.name;
      const run = store.runs.create({
        name,
        config: name === config.name ? config : resolveRunConfig([config, { name }]),
        seed: config.seed,
        targetEpochs: config.train.epochs,
        parentRunId: opts.parentRunId ?? null,
        parentCheckpointId: opts.parentCheckpointId ?? null,
        forkEpoch: opts.forkEpoch ?? null,
        status: 'queued',
      });
      emit('run.status', { run });
      if (active) log('info', `run ${run.id} (${run.name}) queued: run ${active.runId} is training; it starts when that one ends`, run.id);
      enqueue({ runId: run.id, resumeFrom: opts.resumeFrom, resumeMode: opts.resumeMode, checkpointDir: opts.checkpointDir ?? defaultCheckpointDir(run.id) });
      return mustRun(run.id);
    },

    fork(checkpointId, overrides, name, opts) {
      const cp = store.checkpoints.get(checkpointId);
      if (!cp) throw new WorkstationError('NOT_FOUND', `checkpoint ${checkpointId} not found`, { field: 'checkpointId' });
      if (!cp.exists)
        throw new WorkstationError('NOT_FOUND', `checkpoint ${checkpointId} file was removed (${cp.path})`, { field: 'checkpointId', path: cp.path });
      const parent = mustRun(cp.runId);
      const parentConfig = resolveRunConfig([store.runs.config(parent.id)]);
      let childConfig: Readonly<RunConfig>;
      try {
        childConfig = resolveRunConfig([parentConfig, overrides]);
      } catch (e) {
        if (e instanceof WorkstationError && e.field)
          throw new WorkstationError('INVALID_ARGUMENT', `overrides.${e.message}`, { field: `overrides.${e.field}` });
        throw e;
      }
      if (childConfig.train.epochs <= cp.epoch) {
        throw new WorkstationError(
          'INVALID_ARGUMENT',
          `overrides.train.epochs: the child run starts after epoch ${cp.epoch}, so train.epochs (the epoch it ends at) must be greater than ${cp.epoch}`,
          { field: 'overrides.train.epochs' },
        );
      }
      const childName = name ?? (typeof overrides.name === 'string' ? overrides.name : `${parent.name} ↳ e${cp.epoch}`);
      const diff = diffForFork(parentConfig, childConfig);
      const resumeMode = diff.every((d) => d.field === 'train.epochs') ? 'exact' : 'fork';
      const run = manager.start({
        config: { ...childConfig, name: childName },
        name: childName,
        resumeFrom: cp.path,
        resumeMode,
        parentRunId: parent.id,
        parentCheckpointId: cp.id,
        forkEpoch: cp.epoch,
        checkpointDir: opts?.checkpointDir,
      });
      addEvent(
        run.id,
        'fork',
        { parentRunId: parent.id, parentCheckpointId: cp.id, forkEpoch: cp.epoch, checkpointPath: cp.path, resumeMode, diff },
        { epoch: cp.epoch },
      );
      return mustRun(run.id);
    },

    pause(runId) {
      const run = mustRun(runId);
      if (!active || active.runId !== runId || run.status !== 'running')
        throw new WorkstationError('INVALID_STATE', `run ${runId} is ${run.status}; only the running run can be paused`, { field: 'runId' });
      active.pauseRequested = true;
      active.trainer?.pause();
      addEvent(runId, 'pause', {}, { epoch: active.progress?.epoch ?? null, globalStep: active.progress?.globalStep ?? null });
      return setStatus(runId, 'paused');
    },

    resume(runId) {
      const run = mustRun(runId);
      if (run.status === 'paused' && active?.runId === runId) {
        active.pauseRequested = false;
        active.trainer?.resume();
        addEvent(runId, 'resume', { mode: 'in-place' }, { epoch: active.progress?.epoch ?? null, globalStep: active.progress?.globalStep ?? null });
        return setStatus(runId, 'running');
      }
      if (run.status === 'interrupted' || run.status === 'stopped' || run.status === 'failed' || (run.status === 'paused' && active?.runId !== runId)) {
        if (run.lastEpoch !== null && run.lastEpoch >= run.targetEpochs)
          throw new WorkstationError('INVALID_STATE', `run ${runId} already reached its last epoch (${run.targetEpochs})`, { field: 'runId' });
        const cp = latestCheckpoint(runId);
        const launch: Launch = { runId, checkpointDir: defaultCheckpointDir(runId) };
        if (cp) {
          // Continue the same run bit-exactly from its newest checkpoint (epochs after it are retrained and overwritten).
          Object.assign(launch, { resumeFrom: cp.path, resumeMode: 'exact', checkpointDir: path.dirname(cp.path) });
        } else if (run.parentCheckpointId !== null) {
          const pcp = store.checkpoints.get(run.parentCheckpointId);
          if (!pcp || !pcp.exists)
            throw new WorkstationError('NOT_FOUND', `run ${runId} has no checkpoint of its own and its parent checkpoint is gone`, { field: 'runId' });
          Object.assign(launch, { resumeFrom: pcp.path, resumeMode: 'fork' });
        }
        addEvent(
          runId,
          'resume',
          { mode: cp ? 'checkpoint' : 'restart', fromStatus: run.status, checkpointId: cp?.id ?? null, checkpointEpoch: cp?.epoch ?? null },
          { epoch: cp?.epoch ?? null },
        );
        const queued = setStatus(runId, 'queued');
        if (active) log('info', `run ${runId} queued: run ${active.runId} is training`, runId);
        enqueue(launch);
        return store.runs.get(runId) ?? queued;
      }
      throw new WorkstationError('INVALID_STATE', `run ${runId} is ${run.status}; only paused, stopped, failed or interrupted runs can be resumed`, {
        field: 'runId',
      });
    },

    stop(runId) {
      const run = mustRun(runId);
      if (active?.runId === runId) {
        active.stopRequested = true;
        active.trainer?.stop();
        addEvent(runId, 'status', { action: 'stop-requested' }, { epoch: active.progress?.epoch ?? null, globalStep: active.progress?.globalStep ?? null });
        return run;
      }
      const qi = queue.findIndex((l) => l.runId === runId);
      if (qi >= 0) {
        queue.splice(qi, 1);
        const stopped = setStatus(runId, 'stopped');
        finish(runId, { run: stopped, result: null, backend: null, error: null });
        return stopped;
      }
      throw new WorkstationError('INVALID_STATE', `run ${runId} is ${run.status}; only queued, running or paused runs can be stopped`, { field: 'runId' });
    },

    updateAugment(runId, patch) {
      const run = mustRun(runId);
      if (!active || active.runId !== runId || !active.trainer)
        throw new WorkstationError('INVALID_STATE', `run ${runId} is ${run.status}; augmentation can change only while it trains`, { field: 'runId' });
      const next = applyAugmentPatch(active.augment, patch);
      const effectiveFromStep = active.trainer.updateAugment(patch);
      // (the trainer forwards the patch to the batch source for the worker-side crop/flip)
      active.augment = next;
      addEvent(runId, 'augment', { patch, effective: next }, { epoch: active.progress?.epoch ?? null, globalStep: effectiveFromStep });
      return { effectiveFromStep };
    },

    state() {
      const run = active ? (store.runs.get(active.runId) ?? null) : null;
      return { activeRun: run, progress: active?.progress ?? null, queue: queue.map((l) => l.runId), augment: active?.augment ?? null };
    },

    isBusy(runId) {
      return active?.runId === runId || queue.some((l) => l.runId === runId);
    },

    whenFinished(runId) {
      const done = outcomes.get(runId);
      if (done && !manager.isBusy(runId)) return Promise.resolve(done);
      return new Promise((resolve) => waiters.set(runId, [...(waiters.get(runId) ?? []), resolve]));
    },

    backend: () => lastBackend,
    throughput: () => ({ dataImagesPerSec: lastDataRate, trainImagesPerSec: lastTrainRate }),

    async shutdown(reason) {
      shuttingDown = true;
      for (const l of queue.splice(0)) {
        addEvent(l.runId, 'status', { action: 'stopped-before-start', reason });
        const stopped = setStatus(l.runId, 'stopped');
        finish(l.runId, { run: stopped, result: null, backend: null, error: null });
      }
      if (active) {
        const a = active;
        a.stopRequested = true;
        addEvent(a.runId, 'status', { action: 'stop-requested', reason }, { epoch: a.progress?.epoch ?? null, globalStep: a.progress?.globalStep ?? null });
        a.trainer?.stop();
        await a.done;
      }
    },
  };
  return manager;
}

/** The fork event's config diff, without the name (a child is always renamed). */
function diffForFork(parent: Readonly<RunConfig>, child: Readonly<RunConfig>): { field: string; from: unknown; to: unknown }[] {
  return diffConfigs(parent, child).filter((d) => d.field !== 'name');
}
