// The trainer: builds (or restores from a checkpoint) the model, optimizer and schedule, then runs
// epochs — the step loop (train-epoch.ts), validation (validate.ts), the epoch's metrics, and an
// atomic checkpoint with rotation (checkpoint-writer.ts) — honouring pause / resume / stop at step
// boundaries (run-control.ts) and live augmentation changes. Resume is either exact ('exact') or
// a new experiment ('fork'), see resume.ts.
import type { BatchSource } from '../../src-shared/batch-source';
import type { AugmentParams, AugmentPatch } from '../../src-shared/config/augment';
import type { RunConfig } from '../../src-shared/config/run-config';
import { WorkstationError } from '../../src-shared/errors';
import type { EpochMetrics } from '../../src-shared/metrics';
import { selectBackend, type BackendInfo } from './backend';
import { loadCheckpointInto, modelWeightsSha256, type SchedulerState } from './checkpoint';
import { CheckpointWriter, type CheckpointEvent } from './checkpoint-writer';
import { createMetricAccumulator } from './metrics';
import { createModel, type Model } from './models/index';
import { createOptimizer, type SgdOptimizer } from './optim/sgd';
import { createSchedule } from './schedule/index';
import { freshSchedulerState, planResume } from './resume';
import type { StepEvent } from './progress';
import { RunControl } from './run-control';
import { trainEpoch, type EpochContext, type LoopState } from './train-epoch';
import { validateEpoch } from './validate';

export type { StepEvent } from './progress';
export type { CheckpointEvent } from './checkpoint-writer';

export interface TrainerEvents {
  onStep?(p: StepEvent): void;
  /** awaited before the next epoch starts (the store commits there) */
  onEpochEnd?(m: EpochMetrics): void | Promise<void>;
  onCheckpoint?(c: CheckpointEvent): void | Promise<void>;
  onLog?(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void;
}

export interface TrainerOptions {
  config: Readonly<RunConfig>;
  source: BatchSource;
  checkpointDir: string;
  resumeFrom?: string;
  resumeMode?: 'exact' | 'fork';
  events?: TrainerEvents;
}

export interface TrainResult {
  epochs: EpochMetrics[];
  lastCheckpoint: string | null;
  weightsSha256: string;
  /** true when stop() ended the run before its last epoch */
  stopped: boolean;
}

export class Trainer {
  readonly backend: BackendInfo;
  readonly model: Model;
  readonly stepsPerEpoch: number;
  /** first epoch this trainer runs (1, or the checkpoint's epoch + 1) */
  readonly startEpoch: number;
  private readonly cfg: Readonly<RunConfig>;
  private readonly source: BatchSource;
  private readonly events: TrainerEvents;
  private readonly optimizer: SgdOptimizer;
  private readonly schedState: SchedulerState;
  private readonly schedule: ReturnType<typeof createSchedule>;
  private readonly control = new RunControl();
  private readonly writer: CheckpointWriter;
  private readonly state: LoopState;
  private disposed = false;

  private constructor(
    opts: TrainerOptions,
    backend: BackendInfo,
    model: Model,
    init: { startEpoch: number; globalStep: number; sched: SchedulerState; optimizer: SgdOptimizer },
  ) {
    this.cfg = opts.config;
    this.source = opts.source;
    this.events = opts.events ?? {};
    this.backend = backend;
    this.model = model;
    this.stepsPerEpoch = opts.source.stepsPerEpoch('train');
    this.startEpoch = init.startEpoch;
    this.schedState = init.sched;
    this.optimizer = init.optimizer;
    this.schedule = createSchedule(init.sched.policy, {
      totalSteps: init.sched.totalSteps,
      stepsPerEpoch: this.stepsPerEpoch,
      baseLr: init.sched.baseLr,
      baseMomentum: init.sched.baseMomentum,
    });
    this.writer = new CheckpointWriter(opts.checkpointDir, opts.config);
    this.state = { globalStep: init.globalStep, augment: opts.config.augment, pendingAugment: null, runSteps: 0, runStart: performance.now() };
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
    const model = createModel(cfg.model, cfg.seed);
    const optimizer = createOptimizer(
      cfg.optimizer,
      model.vars.filter((v) => v.trainable).map((v) => ({ name: v.name, variable: v.variable, decay: cfg.optimizer.excludeBnAndBias ? v.decay : true })),
    );
    const fresh = freshSchedulerState(cfg, spe);
    try {
      if (!opts.resumeFrom) return new Trainer(opts, backend, model, { startEpoch: 1, globalStep: 0, sched: fresh, optimizer });
      const ck = loadCheckpointInto(opts.resumeFrom, model);
      const h = ck.header;
      if (cfg.train.epochs <= h.epoch) {
        throw new WorkstationError(
          'INVALID_CONFIG',
          `train.epochs (${cfg.train.epochs}) is the epoch the run ends at; the checkpoint already finished epoch ${h.epoch}`,
          { field: 'train.epochs' },
        );
      }
      optimizer.setState(ck.optimizer);
      const plan = planResume(h, cfg, spe, opts.resumeMode ?? 'exact');
      for (const n of plan.notes) opts.events?.onLog?.(plan.restarted ? 'info' : 'warn', n);
      const sched = plan.sched;
      opts.events?.onLog?.('info', `resumed from ${opts.resumeFrom} (epoch ${h.epoch}, step ${h.step}, ${opts.resumeMode ?? 'exact'})`);
      return new Trainer(opts, backend, model, { startEpoch: h.epoch + 1, globalStep: h.step, sched, optimizer });
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

  async run(): Promise<TrainResult> {
    if (this.disposed) throw new WorkstationError('INVALID_STATE', 'trainer was disposed');
    const epochs: EpochMetrics[] = [];
    let lastCheckpoint: string | null = null;
    const trainAcc = createMetricAccumulator();
    const valAcc = createMetricAccumulator();
    const ctx = this.epochContext();
    let stopped = false;
    try {
      for (let epoch = this.startEpoch; epoch <= this.cfg.train.epochs && !stopped; epoch++) {
        trainAcc.reset();
        const t0 = performance.now();
        const tr = await trainEpoch(ctx, epoch, trainAcc);
        if (tr.stopped) {
          stopped = true;
          break;
        }
        const trainSeconds = (performance.now() - t0) / 1000;
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
          lr: tr.lr,
          momentum: tr.momentum,
          imagesPerSec: train.samples / Math.max(1e-9, trainSeconds),
          epochSeconds: (performance.now() - t0) / 1000,
          skippedFiles: (stats?.skipped ?? 0) + (this.source.stats('val', epoch)?.skipped ?? 0),
          imageSize: this.source.imageSize('train', epoch),
        };
        epochs.push(metrics);
        await this.events.onEpochEnd?.(metrics);
        lastCheckpoint = await this.writeEpochCheckpoint(epoch, metrics);
      }
    } finally {
      trainAcc.dispose();
      valAcc.dispose();
    }
    return { epochs, lastCheckpoint, weightsSha256: modelWeightsSha256(this.model), stopped };
  }

  private async writeEpochCheckpoint(epoch: number, metrics: EpochMetrics): Promise<string> {
    const g = this.state.globalStep;
    const c = await this.writer.writeEpoch(this.model, this.optimizer.getState(), {
      epoch,
      step: g,
      stepsPerEpoch: this.stepsPerEpoch,
      config: this.cfg as RunConfig,
      metrics,
      scheduler: { ...this.schedState, step: g - this.schedState.startGlobalStep },
      rng: { seed: this.cfg.seed, scheme: 'counter-based: hashKeys(seed, purpose, epoch, sampleId)' },
      backend: this.backend.name,
    });
    this.log('info', `checkpoint ${c.path} (${c.bytes} bytes)${c.removed.length ? `, removed ${c.removed.length} old` : ''}`);
    await this.events.onCheckpoint?.(c);
    return c.path;
  }

  /** Frees the model and optimizer tensors (the source is the caller's to close). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.optimizer.dispose();
    this.model.dispose();
  }
}
