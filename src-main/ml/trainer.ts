// The trainer: builds (or restores from a checkpoint) the model, optimizer and schedule, then runs
// epochs — the step loop (train-epoch.ts), validation (validate.ts), the epoch's metrics, and an
// atomic checkpoint with rotation (checkpoint-writer.ts) — honouring pause / resume / stop at step
// boundaries (run-control.ts) and live augmentation changes. Mid-epoch checkpoints are written
// every `checkpoint.everyMinutes` / `everySteps` and on a graceful stop, and resume continues at
// the next step with the epoch's partial metric sums, so an interrupted run ends on the same
// weights and epoch metrics as an uninterrupted one. A checkpoint write that fails (disk full)
// pauses the run with CHECKPOINT_WRITE_FAILED and is retried when it resumes. Resume is either
// exact ('exact') or a new experiment ('fork'), see resume.ts.
import type { BatchSource } from '../../src-shared/batch-source';
import { applyAugmentPatch, type AugmentParams, type AugmentPatch } from '../../src-shared/config/augment';
import type { RunConfig } from '../../src-shared/config/run-config';
import { WorkstationError } from '../../src-shared/errors';
import type { EpochMetrics } from '../../src-shared/metrics';
import { selectBackend, type BackendInfo } from './backend';
import { checkpointPosition, loadCheckpointInto, modelWeightsSha256, type PartialEpoch, type SchedulerState } from './checkpoint';
import { removeStaleTemps, type AtomicWriteHooks } from './checkpoint-file';
import { CheckpointWriter, type CheckpointEvent, type WriteHeader } from './checkpoint-writer';
import { createMetricAccumulator, type MetricAccumulator } from './metrics';
import { createModel, type Model } from './models/index';
import { createOptimizer, type SgdOptimizer } from './optim/sgd';
import { createSchedule } from './schedule/index';
import { freshSchedulerState, planResume } from './resume';
import type { StepEvent } from './progress';
import { RunControl } from './run-control';
import { diverged, trainEpoch, type EpochContext, type LoopState } from './train-epoch';
import { validateEpoch } from './validate';
import { loadTorchvisionWeightsInto } from './interop/torchvision-names';
import { createEarlyStopping, type EarlyStopping, type EarlyStopVerdict } from './early-stopping';

export type { StepEvent } from './progress';
export type { CheckpointEvent } from './checkpoint-writer';

export interface TrainerEvents {
  onStep?(p: StepEvent): void;
  /** awaited before the next epoch starts (the store commits there) */
  onEpochEnd?(m: EpochMetrics): void | Promise<void>;
  onCheckpoint?(c: CheckpointEvent): void | Promise<void>;
  /** a checkpoint write failed; the trainer has paused itself and retries the write when resumed */
  onCheckpointError?(e: WorkstationError): void;
  onLog?(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void;
}

export interface TrainerOptions {
  config: Readonly<RunConfig>;
  source: BatchSource;
  checkpointDir: string;
  resumeFrom?: string;
  resumeMode?: 'exact' | 'fork';
  /** a fresh run starts from these torchvision-named weights (.safetensors, strict) instead of the seeded init */
  initWeights?: string;
  /**
   * Live augmentation changes recorded after the checkpoint resumed from, re-applied at their
   * recorded global steps (the checkpoint holds the augmentation in effect when it was written).
   */
  augmentChanges?: { globalStep: number; patch: AugmentPatch }[];
  /** checkpoint files a queued or running child run needs (never removed by rotation) */
  pinnedCheckpoints?: () => Iterable<string>;
  /** epochs the run finished before (the store's rows), replayed by train.earlyStopping on resume */
  earlyStoppingHistory?: readonly EpochMetrics[];
  /** fault injection for tests: hooks for the next checkpoint writes */
  checkpointHooks?: () => AtomicWriteHooks | undefined;
  events?: TrainerEvents;
}

/** Where the epoch in progress stands, for a mid-epoch checkpoint. */
interface EpochSoFar {
  epoch: number;
  stepsDone: number;
  acc: MetricAccumulator;
  /** training seconds of the epoch so far */
  seconds: number;
  skippedBefore: number;
  last: { lr: number; momentum: number };
  /** seconds waited for batches in the epoch so far */
  waitSeconds: number;
}

/** Where a resumed trainer started: the checkpoint's epoch and the steps already done in it. */
export interface ResumedFrom {
  epoch: number;
  stepInEpoch: number;
  checkpoint: string;
  kind: 'epoch' | 'mid-epoch';
}

export interface TrainResult {
  epochs: EpochMetrics[];
  lastCheckpoint: string | null;
  weightsSha256: string;
  /** true when stop() ended the run before its last epoch */
  stopped: boolean;
  /** the checkpoint this trainer resumed from, and where in its epoch */
  resumedFrom: ResumedFrom | null;
  /** train.earlyStopping ended the run after an epoch (it completed early), else null */
  earlyStopped: EarlyStopVerdict | null;
}

export class Trainer {
  readonly backend: BackendInfo;
  readonly model: Model;
  readonly stepsPerEpoch: number;
  /** first epoch this trainer runs (1, the epoch after an epoch checkpoint, or a mid-epoch checkpoint's epoch) */
  readonly startEpoch: number;
  /** steps of startEpoch already done (a mid-epoch checkpoint), else 0 */
  readonly startStep: number;
  readonly resumedFrom: ResumedFrom | null;
  private readonly cfg: Readonly<RunConfig>;
  private readonly source: BatchSource;
  private readonly events: TrainerEvents;
  private readonly optimizer: SgdOptimizer;
  private readonly schedState: SchedulerState;
  private readonly schedule: ReturnType<typeof createSchedule>;
  private readonly control = new RunControl();
  private readonly writer: CheckpointWriter;
  private readonly dir: string;
  private readonly state: LoopState;
  private readonly partial: PartialEpoch | null;
  private lastCheckpointStep: number;
  private lastCheckpointAt = performance.now();
  private disposed = false;
  private readonly earlyStopping: EarlyStopping;

  private constructor(
    opts: TrainerOptions,
    backend: BackendInfo,
    model: Model,
    init: {
      startEpoch: number;
      startStep?: number;
      globalStep: number;
      sched: SchedulerState;
      optimizer: SgdOptimizer;
      augment?: AugmentParams;
      partial?: PartialEpoch;
      resumedFrom?: ResumedFrom;
    },
  ) {
    this.cfg = opts.config;
    this.source = opts.source;
    this.events = opts.events ?? {};
    this.backend = backend;
    this.model = model;
    this.stepsPerEpoch = opts.source.stepsPerEpoch('train');
    this.startEpoch = init.startEpoch;
    this.startStep = init.startStep ?? 0;
    this.resumedFrom = init.resumedFrom ?? null;
    this.partial = init.partial ?? null;
    this.earlyStopping = createEarlyStopping(
      opts.config.train.earlyStopping,
      (opts.earlyStoppingHistory ?? []).filter((m) => m.epoch < init.startEpoch),
    );
    this.lastCheckpointStep = init.resumedFrom ? init.globalStep : -1;
    this.schedState = init.sched;
    this.optimizer = init.optimizer;
    this.schedule = createSchedule(init.sched.policy, {
      totalSteps: init.sched.totalSteps,
      stepsPerEpoch: this.stepsPerEpoch,
      baseLr: init.sched.baseLr,
      baseMomentum: init.sched.baseMomentum,
    });
    this.dir = opts.checkpointDir;
    this.writer = new CheckpointWriter(opts.checkpointDir, opts.config, { pinned: opts.pinnedCheckpoints, hooks: opts.checkpointHooks });
    this.state = {
      globalStep: init.globalStep,
      augment: init.augment ?? opts.config.augment,
      pendingAugment: null,
      scheduled: [...(opts.augmentChanges ?? [])].filter((c) => c.globalStep >= init.globalStep).sort((a, b) => a.globalStep - b.globalStep),
      runSteps: 0,
      runStart: performance.now(),
    };
  }

  static async create(opts: TrainerOptions): Promise<Trainer> {
    const cfg = opts.config;
    // More outputs than dataset classes is allowed (a 1000-way head trained on a class subset,
    // as the data layer allows too); fewer would leave labels without an output.
    if (opts.source.numClasses > cfg.model.numClasses) {
      throw new WorkstationError(
        'INVALID_CONFIG',
        `model.numClasses is ${cfg.model.numClasses} but the dataset has ${opts.source.numClasses} classes: model.numClasses must be at least the number of classes`,
        { field: 'model.numClasses' },
      );
    }
    const spe = opts.source.stepsPerEpoch('train');
    if (spe < 1) throw new WorkstationError('DATASET_ERROR', 'the training split yields no batches');
    const backend = await selectBackend(cfg.backend);
    opts.events?.onLog?.('info', `backend ${backend.name}: ${backend.reason}`);
    // train.fusedKernels: the registered fused kernels where the backend has them, else the composite ops
    const fusedKernels = cfg.train.fusedKernels;
    const model = createModel(cfg.model, cfg.seed, { fusedKernels });
    const optimizer = createOptimizer(
      cfg.optimizer,
      model.vars.filter((v) => v.trainable).map((v) => ({ name: v.name, variable: v.variable, decay: cfg.optimizer.excludeBnAndBias ? v.decay : true })),
      { fusedKernels },
    );
    const fresh = freshSchedulerState(cfg, spe);
    // temp files of a write killed half-way (SIGKILL, power loss) are never a checkpoint
    for (const t of removeStaleTemps(opts.checkpointDir)) opts.events?.onLog?.('info', `removed ${t}, left by an interrupted checkpoint write`);
    try {
      if (opts.initWeights && opts.resumeFrom)
        throw new WorkstationError('INVALID_ARGUMENT', 'initial weights and a checkpoint to resume from exclude each other', { field: 'initWeights' });
      if (opts.initWeights) {
        const w = loadTorchvisionWeightsInto(opts.initWeights, model);
        opts.events?.onLog?.('info', `initial weights from ${opts.initWeights} (${w.tensors.length} tensors)`);
      }
      if (!opts.resumeFrom) return new Trainer(opts, backend, model, { startEpoch: 1, globalStep: 0, sched: fresh, optimizer });
      const ck = loadCheckpointInto(opts.resumeFrom, model);
      const h = ck.header;
      const pos = checkpointPosition(h);
      if (cfg.train.epochs <= pos.completedEpochs) {
        throw new WorkstationError(
          'INVALID_CONFIG',
          `train.epochs (${cfg.train.epochs}) is the epoch the run ends at; the checkpoint already finished epoch ${pos.completedEpochs}`,
          { field: 'train.epochs' },
        );
      }
      const mode = opts.resumeMode ?? 'exact';
      const mid = pos.kind === 'mid-epoch';
      if (mid && h.stepsPerEpoch !== spe)
        throw new WorkstationError(
          'CHECKPOINT_MISMATCH',
          `${opts.resumeFrom} is a mid-epoch checkpoint of an epoch of ${h.stepsPerEpoch} steps; the data now gives ${spe} (batch size or dataset changed): resume from an epoch checkpoint instead`,
          { path: opts.resumeFrom },
        );
      optimizer.setState(ck.optimizer);
      const plan = planResume(h, cfg, spe, opts.resumeMode ?? 'exact');
      for (const n of plan.notes) opts.events?.onLog?.(plan.restarted ? 'info' : 'warn', n);
      const sched = plan.sched;
      // exact: the augmentation in effect when the checkpoint was written (live changes included);
      // a fork's config already holds the settings it was forked with
      const augment = mode === 'exact' && h.augment ? h.augment : cfg.augment;
      if (augment !== cfg.augment) opts.source.setAugment?.(augment);
      const resumedFrom: ResumedFrom = { epoch: pos.epoch, stepInEpoch: pos.stepInEpoch, checkpoint: opts.resumeFrom, kind: pos.kind };
      opts.events?.onLog?.(
        'info',
        `resumed from ${opts.resumeFrom} (epoch ${pos.epoch}${mid ? ` step ${pos.stepInEpoch}/${spe}` : ''}, global step ${h.step}, ${mode})`,
      );
      return new Trainer(opts, backend, model, {
        startEpoch: mid ? pos.epoch : pos.epoch + 1,
        startStep: mid ? pos.stepInEpoch : 0,
        globalStep: h.step,
        sched,
        optimizer,
        augment,
        partial: mid ? h.partial : undefined,
        resumedFrom,
      });
    } catch (e) {
      optimizer.dispose();
      model.dispose();
      throw e;
    }
  }

  /** Pauses at the next step boundary. */
  pause(): void {
    this.control.pause();
  }

  resume(): void {
    this.control.resume();
  }

  /** Stops at the next step boundary; run() then resolves with what finished. */
  stop(): void {
    this.control.stop();
  }

  /** Live augmentation change; returns the global step from which it applies. */
  updateAugment(patch: AugmentPatch): number {
    const prev = this.state.pendingAugment;
    this.state.pendingAugment = prev
      ? {
          ...prev,
          ...patch,
          randomResizedCrop: { ...prev.randomResizedCrop, ...patch.randomResizedCrop },
          colorJitter: { ...prev.colorJitter, ...patch.colorJitter },
          normalize: { ...prev.normalize, ...patch.normalize },
        }
      : patch;
    this.source.setAugment?.(patch);
    return this.state.globalStep;
  }

  get currentAugment(): AugmentParams {
    return this.state.augment;
  }

  get step(): number {
    return this.state.globalStep;
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void {
    this.events.onLog?.(level, msg);
  }

  private epochContext(): EpochContext {
    return {
      cfg: this.cfg,
      model: this.model,
      optimizer: this.optimizer,
      source: this.source,
      control: this.control,
      schedule: this.schedule,
      scheduleStart: this.schedState.startGlobalStep,
      stepsPerEpoch: this.stepsPerEpoch,
      state: this.state,
      onStep: this.events.onStep,
      log: (level, msg) => this.log(level, msg),
    };
  }

  /** A mid-epoch checkpoint is due: every `checkpoint.everySteps` steps or `everyMinutes` minutes. */
  private midEpochDue(): boolean {
    const c = this.cfg.checkpoint;
    if (c.everySteps !== null && this.state.globalStep % c.everySteps === 0) return true;
    return c.everyMinutes > 0 && performance.now() - this.lastCheckpointAt >= c.everyMinutes * 60_000;
  }

  async run(): Promise<TrainResult> {
    if (this.disposed) throw new WorkstationError('INVALID_STATE', 'trainer was disposed');
    const epochs: EpochMetrics[] = [];
    let lastCheckpoint: string | null = null;
    const trainAcc = createMetricAccumulator();
    const valAcc = createMetricAccumulator();
    const spe = this.stepsPerEpoch;
    let stopped = false;
    let earlyStopped: EarlyStopVerdict | null = null;
    try {
      for (let epoch = this.startEpoch; epoch <= this.cfg.train.epochs && !stopped; epoch++) {
        const first = epoch === this.startEpoch;
        const startStep = first ? this.startStep : 0;
        const partial = first ? this.partial : null;
        trainAcc.reset();
        if (partial) trainAcc.restore(partial);
        // training time of the epoch: what the partial epoch had, plus this trainer's share
        const before = partial?.trainSeconds ?? 0;
        const skippedBefore = partial?.skipped ?? 0;
        const waitBefore = partial?.waitSeconds ?? 0;
        // paused time is not training time: epoch seconds and images/s leave it out
        const active = () => performance.now() - this.control.pausedMs;
        const t0 = active();
        const epochSeconds = () => before + (active() - t0) / 1000;
        let last = { lr: partial?.lr ?? NaN, momentum: partial?.momentum ?? NaN };
        const ctx: EpochContext = {
          ...this.epochContext(),
          afterStep: async (e, done, waited) => {
            if (done < spe && this.midEpochDue())
              await this.writeMidEpoch(
                { epoch: e, stepsDone: done, acc: trainAcc, seconds: epochSeconds(), skippedBefore, last, waitSeconds: waitBefore + waited },
                true,
              );
          },
        };
        const tr = await trainEpoch(ctx, epoch, trainAcc, startStep);
        if (tr.stepsDone > startStep) last = { lr: tr.lr, momentum: tr.momentum };
        if (tr.stopped) {
          stopped = true;
          await this.checkpointOnStop({
            epoch,
            stepsDone: tr.stepsDone,
            acc: trainAcc,
            seconds: epochSeconds(),
            skippedBefore,
            last,
            waitSeconds: waitBefore + tr.waitSeconds,
          });
          break;
        }
        const trainSeconds = epochSeconds();
        const train = trainAcc.read();
        const val = await validateEpoch(
          {
            cfg: this.cfg,
            model: this.model,
            source: this.source,
            control: this.control,
            augment: this.state.augment,
            globalStep: this.state.globalStep,
            lr: this.schedState.baseLr,
            momentum: this.schedState.baseMomentum,
            onStep: this.events.onStep,
          },
          epoch,
          valAcc,
        );
        if (val === 'stopped') {
          stopped = true;
          // all training steps of the epoch are done: the checkpoint says so, resume validates
          await this.checkpointOnStop({
            epoch,
            stepsDone: spe,
            acc: trainAcc,
            seconds: trainSeconds,
            skippedBefore,
            last,
            waitSeconds: waitBefore + tr.waitSeconds,
          });
          break;
        }
        const stats = this.source.stats('train', epoch);
        const metrics: EpochMetrics = {
          epoch,
          trainLoss: train.loss,
          trainTop1: train.top1,
          trainTop5: train.top5,
          valLoss: val ? val.loss : null,
          valTop1: val ? val.top1 : null,
          valTop5: val ? val.top5 : null,
          lr: last.lr,
          momentum: last.momentum,
          imagesPerSec: (train.samples - (partial?.samples ?? 0)) / Math.max(1e-9, trainSeconds - before),
          epochSeconds: epochSeconds(),
          skippedFiles: skippedBefore + (stats?.skipped ?? 0) + (this.source.stats('val', epoch)?.skipped ?? 0),
          imageSize: this.source.imageSize('train', epoch),
          // the trainer's share of training time blocked on the data loader: a starving GPU shows here
          dataWaitFraction: Math.min(1, (waitBefore + tr.waitSeconds) / Math.max(1e-9, trainSeconds)),
        };
        epochs.push(metrics);
        await this.events.onEpochEnd?.(metrics);
        const c = await this.checkpoint(this.header('epoch', epoch, spe, metrics), true);
        if (c) lastCheckpoint = c.path;
        else {
          stopped = true; // stopped while paused on a failed write
          break;
        }
        earlyStopped = this.earlyStopping.update(metrics); // train.earlyStopping: the run completes here
        if (earlyStopped) break;
      }
    } finally {
      trainAcc.dispose();
      valAcc.dispose();
    }
    return { epochs, lastCheckpoint, weightsSha256: modelWeightsSha256(this.model), stopped, resumedFrom: this.resumedFrom, earlyStopped };
  }

  /** A graceful stop keeps every step done: a mid-epoch checkpoint unless the newest one is here already. */
  private async checkpointOnStop(p: EpochSoFar): Promise<void> {
    if (this.state.globalStep === this.lastCheckpointStep) return;
    if (p.stepsDone === 0) return; // nothing of this epoch yet: the previous epoch checkpoint is where it stands
    await this.writeMidEpoch(p, false);
  }

  private async writeMidEpoch({ epoch, stepsDone, acc, seconds, skippedBefore, last, waitSeconds }: EpochSoFar, retry: boolean): Promise<void> {
    const snap = acc.snapshot();
    const loss = snap.samples > 0 ? snap.sums[0] / snap.samples : 0;
    // never checkpoint NaN weights: a diverged run stops here like at a progress event
    if (!Number.isFinite(loss)) throw diverged(epoch, stepsDone, loss, last.lr, last.momentum);
    const skipped = skippedBefore + (this.source.stats('train', epoch)?.skipped ?? 0);
    const partial: PartialEpoch = { ...snap, trainSeconds: seconds, skipped, ...last, waitSeconds };
    await this.checkpoint({ ...this.header('mid-epoch', epoch, stepsDone, null), partial }, retry);
  }

  private header(kind: 'epoch' | 'mid-epoch', epoch: number, stepInEpoch: number, metrics: EpochMetrics | null): WriteHeader {
    const g = this.state.globalStep;
    return {
      checkpointKind: kind,
      epoch,
      stepInEpoch,
      step: g,
      stepsPerEpoch: this.stepsPerEpoch,
      config: this.cfg as RunConfig,
      metrics,
      scheduler: { ...this.schedState, step: g - this.schedState.startGlobalStep },
      rng: { seed: this.cfg.seed, scheme: 'counter-based: hashKeys(seed, purpose, epoch, sampleId)' },
      backend: this.backend.name,
      // a change asked for but not applied yet applies at the next step either way
      augment: this.state.pendingAugment ? applyAugmentPatch(this.state.augment, this.state.pendingAugment) : this.state.augment,
    };
  }

  /**
   * Writes a checkpoint. A failed write (disk full, I/O error) leaves the previous checkpoint and
   * the database as they were; with `retry` the trainer pauses itself, reports the error, and
   * writes again when resumed (null: stopped while paused). Without `retry` (a graceful stop) the
   * error is logged and the stop goes on.
   */
  private async checkpoint(header: WriteHeader, retry: boolean): Promise<CheckpointEvent | null> {
    for (;;) {
      try {
        const c = await this.writer.write(this.model, this.optimizer.getState(), header);
        this.lastCheckpointStep = header.step;
        this.lastCheckpointAt = performance.now();
        const where = c.kind === 'mid-epoch' ? `epoch ${c.epoch} step ${c.stepInEpoch}/${this.stepsPerEpoch}` : `epoch ${c.epoch}`;
        this.log('info', `checkpoint ${c.path} (${where}, ${c.bytes} bytes)${c.removed.length ? `, removed ${c.removed.length} old` : ''}`);
        await this.events.onCheckpoint?.(c); // recorded (committed) first…
        this.writer.removeSuperseded(c.removed); // …then the files it supersedes go
        return c;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) throw e;
        const err = new WorkstationError(
          'CHECKPOINT_WRITE_FAILED',
          `writing the ${header.checkpointKind} checkpoint of epoch ${header.epoch} into ${this.dir} failed: ${code} (${(e as Error).message}). ` +
            `The previous checkpoint and the database are intact; ${code === 'ENOSPC' ? 'free disk space' : 'fix the disk'} and resume the run to write it again`,
          { path: this.dir, cause: e },
        );
        this.log('error', err.message);
        if (!retry) return null;
        this.control.pause();
        this.events.onCheckpointError?.(err);
        if (!(await this.control.gate())) return null;
        this.log('info', `writing the ${header.checkpointKind} checkpoint of epoch ${header.epoch} again`);
      }
    }
  }

  /** Frees the model and optimizer tensors (the source is the caller's to close). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.optimizer.dispose();
    this.model.dispose();
  }
}
