// Metric records and the CSV export columns (one definition for the store, CLI, service and UI).

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  /** accuracies in percent */
  trainTop1: number;
  trainTop5: number;
  valLoss: number | null;
  valTop1: number | null;
  valTop5: number | null;
  /** lr and momentum the optimizer used at the last step of the epoch */
  lr: number;
  momentum: number;
  imagesPerSec: number;
  epochSeconds: number;
  skippedFiles: number;
  /** training image size used in the epoch */
  imageSize: number;
  /** share of the epoch's training time spent waiting for the next batch (0..1); absent in older rows */
  dataWaitFraction?: number | null;
}

export interface StepSample {
  epoch: number;
  /** 0-based step within the epoch */
  step: number;
  globalStep: number;
  loss: number;
  top1: number;
  lr: number;
  momentum: number;
  imagesPerSec: number;
}

/** The stored/charted part of a step progress event (which carries more: run, ETA, phase…). */
export function toStepSample(p: StepSample): StepSample {
  return { epoch: p.epoch, step: p.step, globalStep: p.globalStep, loss: p.loss, top1: p.top1, lr: p.lr, momentum: p.momentum, imagesPerSec: p.imagesPerSec };
}

export const CSV_COLUMNS = [
  'run_id',
  'run_name',
  'epoch',
  'train_loss',
  'train_top1',
  'train_top5',
  'val_loss',
  'val_top1',
  'val_top5',
  'top1_gap',
  'lr',
  'momentum',
  'images_per_sec',
  'epoch_seconds',
  /** the run's tags, sorted, joined with "; " */
  'run_tags',
  /** the run's notes (free text; RFC 4180 quoting keeps newlines) */
  'run_notes',
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

/** RFC 4180 field quoting. Numbers are written with full precision (String(x)). */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(values: unknown[]): string {
  return values.map(csvField).join(',') + '\r\n';
}
