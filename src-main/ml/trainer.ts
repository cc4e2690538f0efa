// The training loop: epochs of steps over a BatchSource, validation after each epoch, progress
// events every `train.logEverySteps` steps (the only host syncs), pause / resume / stop at step
// boundaries, live augmentation changes, per-epoch atomic checkpoints with keep-last-K-plus-best,
// and resume from a checkpoint either exactly ('exact') or as a new experiment ('fork').
import path from 'node:path';
import type { BatchSource } from '../../src-shared/batch-source';
import { applyAugmentPatch, type AugmentParams, type AugmentPatch } from '../../src-shared/config/augment';
import type { RunConfig } from '../../src-shared/config/run-config';
import { WorkstationError } from '../../src-shared/errors';
import type { EpochMetrics } from '../../src-shared/metrics';
import type { StepProgress } from '../../src-shared/api/schemas';
import { prepareBatch } from './augment/prepare-batch';
import { selectBackend, type BackendInfo } from './backend';
import {
  bestCheckpoint,
  checkpointName,
  listCheckpoints,
  loadCheckpointInto,
  modelWeightsSha256,
  rotateCheckpoints,
  saveCheckpoint,
  type RotationEntry,
  type SchedulerState,
} from './checkpoint';
import { createMetricAccumulator, type MetricAccumulator } from './metrics';
import { createModel, type Model } from './models/index';
import { createOptimizer, type SgdOptimizer } from './optim/sgd';
import { createSchedule } from './schedule/index';
import { freshSchedulerState, planResume } from './resume';
import { evalStep, trainStep } from './train-step';

export type StepEvent = Omit<StepProgress, 'runId'>;

export interface CheckpointEvent {
  path: string;
  epoch: number;
  bytes: number;
  sha256: string;
  valTop1: number | null;
  isBest: boolean;
  removed: string[];
}

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
  private readonly dir: string;
  private readonly events: TrainerEvents;
  private readonly optimizer: SgdOptimizer;
  private schedState: SchedulerState;
  private schedule: ReturnType<typeof createSchedule>;
  private augment: AugmentParams;
  private pendingAugment: AugmentPatch | null = null;
  private globalStep: number;
  private paused = false;
  private stopRequested = false;
  private wake: (() => void) | null = null;
  private disposed = false;
  private rotation: RotationEntry[] | null = null;

  private constructor(
    opts: TrainerOptions,
    backend: BackendInfo,
    model: Model,
    init: { startEpoch: number; globalStep: number; sched: SchedulerState; optimizer: SgdOptimizer },
  ) {
    this.cfg = opts.config;
    this.source = opts.source;
    this.dir = opts.checkpointDir;
    this.events = opts.events ?? {};
    this.backend = backend;
    this.model = model;
    this.stepsPerEpoch = opts.source.stepsPerEpoch('train');
    this.startEpoch = init.startEpoch;
    this.globalStep = init.globalStep;
    this.schedState = init.sched;
    this.optimizer = init.optimizer;
    this.schedule = createSchedule(init.sched.policy, {
      totalSteps: init.sched.totalSteps,
      stepsPerEpoch: this.stepsPerEpoch,
      baseLr: init.sched.baseLr,
      baseMomentum: init.sched.baseMomentum,
    });
    this.augment = opts.config.augment;
  }

  static async create(opts: TrainerOptions): Promise<Trainer> {
    const cfg = opts.config;
    if (opts.source.numClasses !== cfg.model.numClasses) {
      throw new WorkstationError('INVALID_CONFIG', `model.numClasses is ${cfg.model.numClasses} but the dataset has ${opts.source.numClasses} classes`, {
        field: 'model.numClasses',
      });
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
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  /** Stops at the next step boundary; run() then resolves with what finished. */
  stop(): void {
    this.stopRequested = true;
    this.wake?.();
  }

  /** Live augmentation change; returns the global step from which it applies. */
  updateAugment(patch: AugmentPatch): number {
    this.pendingAugment = this.pendingAugment
      ? {
          ...this.pendingAugment,
          ...patch,
          randomResizedCrop: { ...this.pendingAugment.randomResizedCrop, ...patch.randomResizedCrop },
          colorJitter: { ...this.pendingAugment.colorJitter, ...patch.colorJitter },
          normalize: { ...this.pendingAugment.normalize, ...patch.normalize },
        }
      : patch;
    this.source.setAugment?.(patch);
    return this.globalStep;
  }

  get currentAugment(): AugmentParams {
    return this.augment;
  }

  get step(): number {
    return this.globalStep;
  }

  private async gate(): Promise<boolean> {
    while (this.paused && !this.stopRequested) await new Promise<void>((r) => (this.wake = r));
    this.wake = null;
    return !this.stopRequested;
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void {
    this.events.onLog?.(level, msg);
  }

  async run(): Promise<TrainResult> {
    if (this.disposed) throw new WorkstationError('INVALID_STATE', 'trainer was disposed');
    const cfg = this.cfg;
    const spe = this.stepsPerEpoch;
    const target = cfg.train.epochs;
    const logEvery = cfg.train.logEverySteps;
    const epochs: EpochMetrics[] = [];
    let lastCheckpoint: string | null = null;
    const trainAcc = createMetricAccumulator();
    const valAcc = createMetricAccumulator();
    const runStart = performance.now();
    let runSteps = 0;
    let stopped = false;
    try {
      for (let epoch = this.startEpoch; epoch <= target && !stopped; epoch++) {
        trainAcc.reset();
        const t0 = performance.now();
        let lr = NaN;
        let momentum = NaN;
        let stepInEpoch = 0;
        let windowStart = t0;
        let windowImages = 0;
        for await (const batch of this.source.batches('train', epoch)) {
          if (!(await this.gate())) {
            stopped = true;
            break;
          }
          if (this.pendingAugment) {
            this.augment = applyAugmentPatch(this.augment, this.pendingAugment);
            this.pendingAugment = null;
            this.log('info', `augmentation updated from global step ${this.globalStep}`);
          }
          ({ lr, momentum } = this.schedule.at(this.globalStep - this.schedState.startGlobalStep));
          const x = prepareBatch(batch, { train: true, augment: this.augment, seed: cfg.seed });
          try {
            trainStep(this.model, this.optimizer, { x, labels: batch.labels, lr, momentum, labelSmoothing: cfg.train.labelSmoothing }, trainAcc);
          } finally {
            x.dispose();
          }
          this.globalStep++;
          runSteps++;
          windowImages += batch.n;
          const last = stepInEpoch === spe - 1;
          if ((stepInEpoch + 1) % logEvery === 0 || last) {
            const m = trainAcc.read(); // host sync: only here
            // A diverged run must stop loudly, not burn GPU-days on NaN weights; the epoch is not
            // checkpointed, so the last good checkpoint stays the newest one.
            if (!Number.isFinite(m.loss)) {
              throw new WorkstationError(
                'DIVERGED',
                `training diverged in epoch ${epoch} by step ${stepInEpoch + 1}: the loss is ${m.loss} (lr ${lr}, momentum ${momentum}). ` +
                  `Nothing of this epoch was saved; resume from the last checkpoint with a lower optimizer.lr (or a gentler schedule)`,
                { field: 'optimizer.lr' },
              );
            }
            const now = performance.now();
            const rate = runSteps / ((now - runStart) / 1000);
            const remaining = (target - epoch) * spe + (spe - stepInEpoch - 1);
            this.events.onStep?.({
              epoch,
              step: stepInEpoch,
              stepsInEpoch: spe,
              globalStep: this.globalStep,
              loss: m.loss,
              top1: m.top1,
              lr,
              momentum,
              imagesPerSec: windowImages / Math.max(1e-9, (now - windowStart) / 1000),
              etaSeconds: rate > 0 ? remaining / rate : null,
              targetEpochs: target,
              phase: 'train',
            });
            windowStart = now;
            windowImages = 0;
          }
          stepInEpoch++;
        }
        if (stopped) break;
        const trainSeconds = (performance.now() - t0) / 1000;
        const train = trainAcc.read();
        const val = await this.validate(epoch, valAcc);
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
          lr,
          momentum,
          imagesPerSec: train.samples / Math.max(1e-9, trainSeconds),
          epochSeconds: (performance.now() - t0) / 1000,
          skippedFiles: (stats?.skipped ?? 0) + (this.source.stats('val', epoch)?.skipped ?? 0),
          imageSize: this.source.imageSize('train', epoch),
        };
        epochs.push(metrics);
        await this.events.onEpochEnd?.(metrics);
        lastCheckpoint = await this.writeCheckpoint(epoch, metrics);
      }
    } finally {
      trainAcc.dispose();
      valAcc.dispose();
    }
    return { epochs, lastCheckpoint, weightsSha256: modelWeightsSha256(this.model), stopped };
  }

  /** Validation in eval mode (running BN stats); null when the val split is empty. */
  private async validate(epoch: number, acc: MetricAccumulator): Promise<{ loss: number; top1: number; top5: number } | null | 'stopped'> {
    const steps = this.source.stepsPerEpoch('val');
    if (steps === 0) return null;
    acc.reset();
    let i = 0;
    const t0 = performance.now();
    for await (const batch of this.source.batches('val', epoch)) {
      if (!(await this.gate())) return 'stopped';
      const x = prepareBatch(batch, { train: false, augment: this.augment, seed: this.cfg.seed });
      try {
        evalStep(this.model, x, batch.labels, this.cfg.train.labelSmoothing, acc);
      } finally {
        x.dispose();
      }
      i++;
      if (i % this.cfg.train.logEverySteps === 0 || i === steps) {
        const m = acc.read();
        this.events.onStep?.({
          epoch,
          step: i - 1,
          stepsInEpoch: steps,
          globalStep: this.globalStep,
          loss: m.loss,
          top1: m.top1,
          lr: this.schedState.baseLr,
          momentum: this.schedState.baseMomentum,
          imagesPerSec: m.samples / Math.max(1e-9, (performance.now() - t0) / 1000),
          etaSeconds: null,
          targetEpochs: this.cfg.train.epochs,
          phase: 'val',
        });
      }
    }
    const m = acc.read();
    return m.samples > 0 ? { loss: m.loss, top1: m.top1, top5: m.top5 } : null;
  }

  private async writeCheckpoint(epoch: number, metrics: EpochMetrics): Promise<string> {
    const file = path.join(this.dir, checkpointName(epoch));
    const sched: SchedulerState = { ...this.schedState, step: this.globalStep - this.schedState.startGlobalStep };
    const saved = saveCheckpoint({
      file,
      model: this.model,
      optimizer: this.optimizer.getState(),
      header: {
        epoch,
        step: this.globalStep,
        stepsPerEpoch: this.stepsPerEpoch,
        config: this.cfg as RunConfig,
        metrics,
        scheduler: sched,
        rng: { seed: this.cfg.seed, scheme: 'counter-based: hashKeys(seed, purpose, epoch, sampleId)' },
        backend: this.backend.name,
      },
    });
    // checkpoints already in the folder are read once (headers + checksum); later ones are tracked here
    this.rotation ??= (await listCheckpoints(this.dir)).filter((e) => path.resolve(e.path) !== path.resolve(file));
    this.rotation.push({ path: file, epoch, valTop1: metrics.valTop1 });
    const removed = rotateCheckpoints(this.rotation, this.cfg.checkpoint.keepLast, this.cfg.checkpoint.keepBest);
    this.rotation = this.rotation.filter((e) => !removed.includes(e.path));
    const best = bestCheckpoint(this.rotation);
    const isBest = best !== null && path.resolve(best.path) === path.resolve(file);
    this.log('info', `checkpoint ${file} (${saved.bytes} bytes)${removed.length ? `, removed ${removed.length} old` : ''}`);
    await this.events.onCheckpoint?.({ path: file, epoch, bytes: saved.bytes, sha256: saved.sha256, valTop1: metrics.valTop1, isBest, removed });
    return file;
  }

  /** Frees the model and optimizer tensors (the source is the caller's to close). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.optimizer.dispose();
    this.model.dispose();
  }
}
