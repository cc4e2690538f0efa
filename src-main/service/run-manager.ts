// The run manager: the commands that act on runs (start, fork, pause, resume, stop, live
// augmentation, shutdown) over one training slot. A second start is QUEUED (status 'queued')
// and begins when the active run ends. A run's status lives in the store only; the queue holds
// how waiting runs start (run-queue.ts), the slot what only the live process knows
// (active-run.ts), the recorder turns trainer events into rows and events (run-recorder.ts), and
// train-run.ts trains one run to its end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isScaleOutRun, type RunSummary, type ServiceState } from '../../src-shared/api/schemas';
import { applyAugmentPatch, type AugmentPatch } from '../../src-shared/config/augment';
import { diffConfigs, resolveRunConfig, type RunConfig } from '../../src-shared/config/run-config';
import { WorkstationError } from '../../src-shared/errors';
import { isDeterministicEnv } from '../common/gpu-env';
import type { BackendInfo } from '../ml/backend';
import type { TrainResult } from '../ml/trainer';
import type { AppPaths } from '../common/paths';
import type { Store } from '../store/index';
import { ActiveRun } from './active-run';
import { defaultCheckpointDir } from './checkpoint-dirs';
import { configAtCheckpoint, effectiveConfig, recordedChanges } from './effective-config';
import type { Faults } from './fault-injection';
import { initWeightsForRestart, initWeightsNote } from './init-weights';
import { createRunQueue, type Launch } from './run-queue';
import { createRunRecorder, type Emit, type LogFn } from './run-recorder';
import { trainRun } from './train-run';

export type { Emit, LogFn } from './run-recorder';

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
  /** torchvision-named weights (.safetensors) the run starts from (recorded as a 'note' event) */
  initWeights?: string;
  parentRunId?: number | null;
  parentCheckpointId?: number | null;
  forkEpoch?: number | null;
}

export interface RunManager {
  start(opts: StartOptions): RunSummary;
  /**
   * A new child run resumed from a checkpoint: config = parent config deep-merged with overrides.
   * The trainer continues the parent's schedule exactly when only train.epochs (and the name)
   * differ ('exact'), else the new settings start a new experiment ('fork').
   */
  fork(checkpointId: number, overrides: Record<string, unknown>, name?: string, opts?: { checkpointDir?: string }): RunSummary;
  pause(runId: number): RunSummary;
  /** `auto`: the service resumes a run it found interrupted after a crash (recorded as such) */
  resume(runId: number, opts?: { auto?: boolean }): RunSummary;
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
  /** the compute slot may be free again (an evaluation ended): start the next queued run */
  wake(): void;
}

export interface RunManagerDeps {
  store: Store;
  paths: AppPaths;
  emit: Emit;
  log: LogFn;
  addDatasetRoot(root: string): void;
  faults?: Faults;
  /** something else holds the compute slot (an evaluation): why, or null; queued runs wait for wake() */
  slotBusy?(): string | null;
  /** libtensorflow loads deterministic in this process (default: TF_DETERMINISTIC_OPS and TF_CUDNN_DETERMINISTIC in process.env, set by --deterministic) */
  deterministic?: boolean;
}

export function createRunManager(deps: RunManagerDeps): RunManager {
  const { store, paths, log } = deps;
  const recorder = createRunRecorder(store, deps.emit);
  const { setStatus, addEvent, mustRun } = recorder;
  const queue = createRunQueue();
  let active: ActiveRun | null = null;
  let lastBackend: BackendInfo | null = null;
  let lastDataRate: number | null = null;
  let lastTrainRate: number | null = null;
  let shuttingDown = false;
  const waiters = new Map<number, ((o: RunOutcome) => void)[]>();
  const outcomes = new Map<number, RunOutcome>();
  const rates = {
    train: (r: number) => void (lastTrainRate = r),
    data: (r: number) => void (lastDataRate = r),
    backend: (b: BackendInfo) => void (lastBackend = b),
  };

  function finish(runId: number, outcome: RunOutcome): void {
    outcomes.set(runId, outcome);
    for (const w of waiters.get(runId) ?? []) w(outcome);
    waiters.delete(runId);
  }

  function enqueue(l: Launch): void {
    queue.push(l);
    pump();
  }

  function pump(): void {
    if (active || shuttingDown || deps.slotBusy?.()) return;
    const next = queue.shift();
    if (!next) return;
    const run = store.runs.get(next.runId);
    if (!run || run.status !== 'queued') return pump();
    launch(next);
  }

  function launch(l: Launch): void {
    const a = new ActiveRun(l.runId, l.config ?? effectiveConfig(store, l.runId));
    active = a;
    // this process owns the run from now on: a run never reads 'running' without a live owner
    store.runs.claim(l.runId, { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() });
    setStatus(l.runId, 'running', { error: null });
    a.done = trainRun(a, l, { store, paths, recorder, log, addDatasetRoot: deps.addDatasetRoot, rates, faults: deps.faults, emit: deps.emit })
      .then((o) => {
        if (active === a) active = null;
        const run = setStatus(a.runId, o.final, o.final === 'failed' ? { error: o.error } : undefined);
        finish(a.runId, { run, result: o.result, backend: o.backend, error: o.error });
      })
      .catch((e: unknown) => log('error', `run ${l.runId}: ${(e as Error)?.message ?? String(e)}`, l.runId))
      .finally(() => {
        if (active === a) active = null;
        pump();
      });
  }

  /** the active run when it is `runId`, else null */
  const activeFor = (runId: number): ActiveRun | null => (active?.runId === runId ? active : null);

  const manager: RunManager = {
    start(opts) {
      const config = resolveRunConfig([opts.config], opts.configSource);
      if (config.train.deterministic && !(deps.deterministic ?? isDeterministicEnv(process.env)))
        throw new WorkstationError('INVALID_CONFIG', DETERMINISTIC_NEEDS_FLAG, { field: 'train.deterministic' });
      const name = opts.name ?? config.name;
      const initNote = opts.initWeights ? initWeightsNote(opts.initWeights) : null; // path + sha256, for a restart from scratch
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
      deps.emit('run.status', { run });
      if (initNote) addEvent(run.id, 'note', initNote);
      if (active) log('info', `run ${run.id} (${run.name}) queued: run ${active.runId} is training; it starts when that one ends`, run.id);
      else if (deps.slotBusy?.()) log('info', `run ${run.id} (${run.name}) queued: ${deps.slotBusy()}; it starts when that ends`, run.id);
      enqueue({
        runId: run.id,
        resumeFrom: opts.resumeFrom,
        resumeMode: opts.resumeMode,
        initWeights: opts.initWeights,
        checkpointDir: opts.checkpointDir ?? defaultCheckpointDir(paths.runsDir, run.id),
      });
      return mustRun(run.id);
    },

    fork(checkpointId, overrides, name, opts) {
      const cp = store.checkpoints.get(checkpointId);
      if (!cp) throw new WorkstationError('NOT_FOUND', `checkpoint ${checkpointId} not found`, { field: 'checkpointId' });
      if (!cp.exists)
        throw new WorkstationError('NOT_FOUND', `checkpoint ${checkpointId} file was removed (${cp.path})`, { field: 'checkpointId', path: cp.path });
      const parent = mustRun(cp.runId);
      // what the parent really trained with at that checkpoint (live augmentation changes included)
      const parentConfig = configAtCheckpoint(store, cp).config;
      let childConfig: Readonly<RunConfig>;
      try {
        childConfig = resolveRunConfig([parentConfig, overrides]);
      } catch (e) {
        if (e instanceof WorkstationError && e.field)
          throw new WorkstationError('INVALID_ARGUMENT', `overrides.${e.message}`, { field: `overrides.${e.field}` });
        throw e;
      }
      const done = cp.kind === 'mid-epoch' ? cp.epoch - 1 : cp.epoch;
      if (childConfig.train.epochs <= done) {
        throw new WorkstationError(
          'INVALID_ARGUMENT',
          `overrides.train.epochs: the child run starts after epoch ${done}, so train.epochs (the epoch it ends at) must be greater than ${done}`,
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
        {
          parentRunId: parent.id,
          parentCheckpointId: cp.id,
          forkEpoch: cp.epoch,
          checkpointKind: cp.kind,
          stepInEpoch: cp.kind === 'mid-epoch' ? cp.stepInEpoch : null,
          checkpointPath: cp.path,
          resumeMode,
          diff,
        },
        { epoch: cp.epoch },
      );
      return mustRun(run.id);
    },

    pause(runId) {
      const run = notScaleOut(mustRun(runId), 'paused');
      const a = activeFor(runId);
      if (!a || run.status !== 'running')
        throw new WorkstationError('INVALID_STATE', `run ${runId} is ${run.status}; only the running run can be paused`, { field: 'runId' });
      a.setControl('pause');
      addEvent(runId, 'pause', {}, a.at);
      return setStatus(runId, 'paused');
    },

    resume(runId, opts) {
      const run = notScaleOut(mustRun(runId), 'resumed');
      const a = activeFor(runId);
      if (run.status === 'paused' && a) {
        a.setControl('run');
        addEvent(runId, 'resume', { mode: 'in-place' }, a.at);
        return setStatus(runId, 'running', { error: null });
      }
      // Another live process trains it (its status would read 'interrupted' if it were gone):
      // a second trainer on the same run would fight over its checkpoints and rows.
      const owner = run.owner ?? null;
      if (!a && owner && (run.status === 'running' || run.status === 'paused' || run.status === 'queued'))
        throw new WorkstationError(
          'OWNED',
          `run ${runId} (${run.name}) is ${run.status} in another process (pid ${owner.pid} on ${owner.host}, heartbeat ${owner.heartbeatAt}); resume it there, or stop that process first`,
          { field: 'runId' },
        );
      if (run.status === 'interrupted' || run.status === 'stopped' || run.status === 'failed' || run.status === 'paused') {
        if (run.lastEpoch !== null && run.lastEpoch >= run.targetEpochs)
          throw new WorkstationError('INVALID_STATE', `run ${runId} already reached its last epoch (${run.targetEpochs})`, { field: 'runId' });
        // the newest checkpoint whose file is really there (a file deleted behind the store's back,
        // or by a crash between a rotation and its record, is marked removed and skipped)
        let cp = store.checkpoints.latest(runId) ?? null;
        while (cp && !fs.existsSync(cp.path)) {
          log('warn', `checkpoint ${cp.path} is recorded but missing on disk; resuming from the one before it`, runId);
          store.checkpoints.markRemoved(cp.path);
          cp = store.checkpoints.latest(runId) ?? null;
        }
        const l: Launch = { runId, checkpointDir: defaultCheckpointDir(paths.runsDir, runId), reason: opts?.auto ? 'auto-resume' : 'resume' };
        if (cp) {
          // Continue the same run bit-exactly from its newest checkpoint of either kind, with the
          // augmentation in effect there; changes recorded after it re-apply at their steps.
          const at = configAtCheckpoint(store, cp);
          Object.assign(l, {
            resumeFrom: cp.path,
            resumeMode: 'exact',
            checkpointDir: path.dirname(cp.path),
            config: at.config,
            augmentChanges: at.laterChanges,
          });
        } else {
          // From the start again (or from the parent's checkpoint): the run's own config, and its
          // recorded live changes re-applied at their steps, not from the first step.
          Object.assign(l, { config: resolveRunConfig([store.runs.config(runId)]), augmentChanges: recordedChanges(store, runId) });
          if (run.parentCheckpointId !== null) {
            const pcp = store.checkpoints.get(run.parentCheckpointId);
            if (!pcp || !pcp.exists)
              throw new WorkstationError('NOT_FOUND', `run ${runId} has no checkpoint of its own and its parent checkpoint is gone`, { field: 'runId' });
            Object.assign(l, { resumeFrom: pcp.path, resumeMode: 'fork' });
          } else {
            // a run started from --init-weights starts from them again (checked: still there, same sha256)
            const init = initWeightsForRestart(runId, store.events.list(runId));
            if (init) l.initWeights = init;
          }
        }
        addEvent(
          runId,
          'resume',
          {
            mode: cp ? 'checkpoint' : 'restart',
            auto: opts?.auto ?? false,
            fromStatus: run.status,
            checkpointId: cp?.id ?? null,
            checkpointEpoch: cp?.epoch ?? null,
            checkpointKind: cp?.kind ?? null,
            stepInEpoch: cp?.kind === 'mid-epoch' ? cp.stepInEpoch : null,
          },
          { epoch: cp?.epoch ?? null, globalStep: cp?.globalStep ?? null },
        );
        const queued = setStatus(runId, 'queued');
        if (active) log('info', `run ${runId} queued: run ${active.runId} is training`, runId);
        enqueue(l);
        return store.runs.get(runId) ?? queued;
      }
      throw new WorkstationError('INVALID_STATE', `run ${runId} is ${run.status}; only paused, stopped, failed or interrupted runs can be resumed`, {
        field: 'runId',
      });
    },

    stop(runId) {
      const run = notScaleOut(mustRun(runId), 'stopped');
      const a = activeFor(runId);
      if (a) {
        a.setControl('stop');
        addEvent(runId, 'status', { action: 'stop-requested' }, a.at);
        return run;
      }
      if (queue.remove(runId)) {
        const stopped = setStatus(runId, 'stopped');
        finish(runId, { run: stopped, result: null, backend: null, error: null });
        return stopped;
      }
      throw new WorkstationError('INVALID_STATE', `run ${runId} is ${run.status}; only queued, running or paused runs can be stopped`, { field: 'runId' });
    },

    updateAugment(runId, patch) {
      const run = mustRun(runId);
      const a = activeFor(runId);
      if (!a?.trainer)
        throw new WorkstationError('INVALID_STATE', `run ${runId} is ${run.status}; augmentation can change only while it trains`, { field: 'runId' });
      const next = applyAugmentPatch(a.augment, patch);
      // (the trainer forwards the patch to the batch source for the worker-side crop/flip)
      const effectiveFromStep = a.trainer.updateAugment(patch);
      a.augment = next;
      addEvent(runId, 'augment', { patch, effective: next }, { epoch: a.at.epoch, globalStep: effectiveFromStep });
      return { effectiveFromStep };
    },

    state() {
      const run = active ? (store.runs.get(active.runId) ?? null) : null;
      return { activeRun: run, progress: active?.progress ?? null, queue: queue.ids(), augment: active?.augment ?? null };
    },

    isBusy: (runId) => activeFor(runId) !== null || queue.has(runId),

    whenFinished(runId) {
      const done = outcomes.get(runId);
      if (done && !manager.isBusy(runId)) return Promise.resolve(done);
      return new Promise((resolve) => waiters.set(runId, [...(waiters.get(runId) ?? []), resolve]));
    },

    wake: () => pump(),

    backend: () => lastBackend,
    throughput: () => ({ dataImagesPerSec: lastDataRate, trainImagesPerSec: lastTrainRate }),

    async shutdown(reason) {
      shuttingDown = true;
      for (const l of queue.drain()) {
        addEvent(l.runId, 'status', { action: 'stopped-before-start', reason });
        const stopped = setStatus(l.runId, 'stopped');
        finish(l.runId, { run: stopped, result: null, backend: null, error: null });
      }
      if (active) {
        const a = active;
        a.setControl('stop');
        addEvent(a.runId, 'status', { action: 'stop-requested', reason }, a.at);
        await a.done;
      }
    },
  };
  return manager;
}

/** Why a train.deterministic run cannot start here: the switches are read once, when libtensorflow loads. */
export const DETERMINISTIC_NEEDS_FLAG =
  'train.deterministic: this service was not started with --deterministic (TF_DETERMINISTIC_OPS=1 and TF_CUDNN_DETERMINISTIC=1 must be set before libtensorflow loads); restart it with `workstation serve --deterministic` (or train with `workstation train --deterministic`), or set train.deterministic to false';

/** A run that trains in PyTorch DDP (scale-out) is the DDP job's: refused here, saying what to do instead. */
function notScaleOut(run: RunSummary, what: 'paused' | 'resumed' | 'stopped'): RunSummary {
  if (!isScaleOutRun(run)) return run;
  const instead =
    what === 'resumed'
      ? 'to continue it in the workstation, resume a checkpoint it reported as a new child run (Checkpoints → Resume from here, or `workstation import-checkpoint`)'
      : 'stop or restart it where torchrun runs (its run.sh); rank 0 reports what it does here';
  throw new WorkstationError(
    'INVALID_STATE',
    `run ${run.id} trains in PyTorch DDP outside the workstation (${run.backend}) and cannot be ${what} here: ${instead}`,
    {
      field: 'runId',
    },
  );
}

/** The fork event's config diff, without the name (a child is always renamed). */
function diffForFork(parent: Readonly<RunConfig>, child: Readonly<RunConfig>): { field: string; from: unknown; to: unknown }[] {
  return diffConfigs(parent, child).filter((d) => d.field !== 'name');
}
