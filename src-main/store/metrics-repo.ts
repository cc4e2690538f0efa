// Per-epoch metrics (one row per run and epoch, committed before the trainer moves on) and step
// samples for live charts (stored as recorded, never downsampled).
import type { EpochMetrics, StepSample } from '../../src-shared/metrics';
import { WorkstationError } from '../../src-shared/errors';
import type { Db } from './db';

export interface MetricsRepo {
  /** upsert by (run, epoch); the row is committed when this returns */
  addEpoch(runId: number, m: EpochMetrics): void;
  /** ordered by epoch */
  epochs(runId: number): EpochMetrics[];
  /** upsert by (run, globalStep), all samples in one transaction */
  addSteps(runId: number, samples: readonly StepSample[]): void;
  /** ordered by globalStep; afterGlobalStep returns only later samples (incremental reads) */
  steps(runId: number, opts?: { afterGlobalStep?: number }): StepSample[];
}

interface EpochRow {
  epoch: number;
  train_loss: number | null;
  train_top1: number | null;
  train_top5: number | null;
  val_loss: number | null;
  val_top1: number | null;
  val_top5: number | null;
  lr: number | null;
  momentum: number | null;
  images_per_sec: number | null;
  epoch_seconds: number | null;
  skipped_files: number;
  image_size: number | null;
  data_wait_fraction: number | null;
}

interface StepRow {
  epoch: number;
  step: number;
  global_step: number;
  loss: number | null;
  top1: number | null;
  lr: number | null;
  momentum: number | null;
  images_per_sec: number | null;
}

/** SQLite stores NaN as NULL; a number field that is not nullable in the type reads back as NaN. */
const num = (v: number | null): number => (v === null ? NaN : v);
/** Fields that may legitimately be unknown (val skipped) stay null; NaN is written as NULL. */
const opt = (v: number | null): number | null => (v === null || Number.isNaN(v) ? null : v);

function toEpoch(r: EpochRow): EpochMetrics {
  return {
    epoch: r.epoch,
    trainLoss: num(r.train_loss),
    trainTop1: num(r.train_top1),
    trainTop5: num(r.train_top5),
    valLoss: r.val_loss,
    valTop1: r.val_top1,
    valTop5: r.val_top5,
    lr: num(r.lr),
    momentum: num(r.momentum),
    imagesPerSec: num(r.images_per_sec),
    epochSeconds: num(r.epoch_seconds),
    skippedFiles: r.skipped_files,
    imageSize: num(r.image_size),
    // only when measured (rows of older builds, and imported logs, have none)
    ...(r.data_wait_fraction !== null ? { dataWaitFraction: r.data_wait_fraction } : {}),
  };
}

function toStep(r: StepRow): StepSample {
  return {
    epoch: r.epoch,
    step: r.step,
    globalStep: r.global_step,
    loss: num(r.loss),
    top1: num(r.top1),
    lr: num(r.lr),
    momentum: num(r.momentum),
    imagesPerSec: num(r.images_per_sec),
  };
}

export function createMetricsRepo(db: Db, now: () => string): MetricsRepo {
  const upsertEpoch = db.prepare(`
    INSERT INTO epoch_metrics (run_id, epoch, train_loss, train_top1, train_top5, val_loss, val_top1, val_top5,
                               lr, momentum, images_per_sec, epoch_seconds, skipped_files, image_size, data_wait_fraction, recorded_at)
    VALUES (@runId, @epoch, @trainLoss, @trainTop1, @trainTop5, @valLoss, @valTop1, @valTop5,
            @lr, @momentum, @imagesPerSec, @epochSeconds, @skippedFiles, @imageSize, @dataWaitFraction, @recordedAt)
    ON CONFLICT (run_id, epoch) DO UPDATE SET
      train_loss = excluded.train_loss, train_top1 = excluded.train_top1, train_top5 = excluded.train_top5,
      val_loss = excluded.val_loss, val_top1 = excluded.val_top1, val_top5 = excluded.val_top5,
      lr = excluded.lr, momentum = excluded.momentum, images_per_sec = excluded.images_per_sec,
      epoch_seconds = excluded.epoch_seconds, skipped_files = excluded.skipped_files,
      image_size = excluded.image_size, data_wait_fraction = excluded.data_wait_fraction, recorded_at = excluded.recorded_at`);
  const selectEpochs = db.prepare<[number], EpochRow>('SELECT * FROM epoch_metrics WHERE run_id = ? ORDER BY epoch');
  const upsertStep = db.prepare(`
    INSERT OR REPLACE INTO step_samples (run_id, global_step, epoch, step, loss, top1, lr, momentum, images_per_sec)
    VALUES (@runId, @globalStep, @epoch, @step, @loss, @top1, @lr, @momentum, @imagesPerSec)`);
  const selectSteps = db.prepare<[number, number], StepRow>('SELECT * FROM step_samples WHERE run_id = ? AND global_step > ? ORDER BY global_step');
  const runExists = db.prepare<[number], { id: number }>('SELECT id FROM runs WHERE id = ?');

  function mustExist(runId: number): void {
    if (!runExists.get(runId)) throw new WorkstationError('NOT_FOUND', `run ${runId} not found`, { field: 'runId' });
  }

  const insertSteps = db.transaction((runId: number, samples: readonly StepSample[]) => {
    for (const s of samples) {
      upsertStep.run({
        runId,
        globalStep: s.globalStep,
        epoch: s.epoch,
        step: s.step,
        loss: opt(s.loss),
        top1: opt(s.top1),
        lr: opt(s.lr),
        momentum: opt(s.momentum),
        imagesPerSec: opt(s.imagesPerSec),
      });
    }
  });

  return {
    addEpoch(runId, m) {
      mustExist(runId);
      if (!Number.isSafeInteger(m.epoch)) throw new WorkstationError('INVALID_ARGUMENT', `epoch must be an integer, got ${m.epoch}`, { field: 'epoch' });
      // A single autocommit statement: durable in the WAL when run() returns.
      upsertEpoch.run({
        runId,
        epoch: m.epoch,
        trainLoss: opt(m.trainLoss),
        trainTop1: opt(m.trainTop1),
        trainTop5: opt(m.trainTop5),
        valLoss: opt(m.valLoss),
        valTop1: opt(m.valTop1),
        valTop5: opt(m.valTop5),
        lr: opt(m.lr),
        momentum: opt(m.momentum),
        imagesPerSec: opt(m.imagesPerSec),
        epochSeconds: opt(m.epochSeconds),
        skippedFiles: Number.isFinite(m.skippedFiles) ? m.skippedFiles : 0,
        imageSize: opt(m.imageSize),
        dataWaitFraction: opt(m.dataWaitFraction ?? null),
        recordedAt: now(),
      });
    },
    epochs(runId) {
      return selectEpochs.all(runId).map(toEpoch);
    },
    addSteps(runId, samples) {
      if (samples.length === 0) return;
      mustExist(runId);
      insertSteps(runId, samples);
    },
    steps(runId, opts = {}) {
      return selectSteps.all(runId, opts.afterGlobalStep ?? Number.MIN_SAFE_INTEGER).map(toStep);
    },
  };
}
