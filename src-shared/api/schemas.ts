// Data shapes carried by the service API (commands, results, events).
import { z } from 'zod';

export const RUN_STATUSES = ['queued', 'running', 'paused', 'completed', 'stopped', 'failed', 'interrupted'] as const;
export const RunStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const RunIdSchema = z.number().int().positive();

/**
 * A metric that may be unknown or undefined: NaN in memory (a diverged loss; lr, momentum and image
 * size of an epoch imported from a log), null on the JSON wire (JSON has no NaN). The parsed type
 * stays `number`.
 */
const metric = (int = false) => z.preprocess((v) => (v === null ? NaN : v), z.union([int ? z.number().int() : z.number(), z.nan()]));

export const EpochMetricsSchema = z.object({
  epoch: z.number().int(),
  trainLoss: metric(),
  trainTop1: metric(),
  trainTop5: metric(),
  valLoss: z.number().nullable(),
  valTop1: z.number().nullable(),
  valTop5: z.number().nullable(),
  lr: metric(),
  momentum: metric(),
  imagesPerSec: metric(),
  epochSeconds: metric(),
  skippedFiles: z.number().int(),
  imageSize: metric(true),
  dataWaitFraction: z.number().nullable().optional(),
});

export const StepSampleSchema = z.object({
  epoch: z.number().int(),
  step: z.number().int(),
  globalStep: z.number().int(),
  loss: metric(),
  top1: metric(),
  lr: metric(),
  momentum: metric(),
  imagesPerSec: metric(),
});

/**
 * The process that holds a run (one owner per run): set when a service or CLI starts training it,
 * refreshed by heartbeats, cleared when the run ends or the owner releases it.
 */
export const RunOwnerSchema = z.object({
  pid: z.number().int(),
  host: z.string(),
  startedAt: z.string(),
  heartbeatAt: z.string(),
});

export const RunSummarySchema = z.object({
  id: RunIdSchema,
  name: z.string(),
  status: RunStatusSchema,
  parentRunId: RunIdSchema.nullable(),
  parentCheckpointId: z.number().int().nullable(),
  /** the parent's epoch this run continues from (its first epoch is forkEpoch + 1) */
  forkEpoch: z.number().int().nullable(),
  seed: z.number().int(),
  backend: z.string().nullable(),
  host: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  error: z.string().nullable(),
  /** last completed epoch (absolute numbering), null before the first */
  lastEpoch: z.number().int().nullable(),
  /** the epoch the run ends at */
  targetEpochs: z.number().int(),
  bestValTop1: z.number().nullable(),
  /**
   * the live owner; null when none or when it is gone (the run then reads as 'interrupted' until a
   * service start writes that status). The store always sets it; absent (older producers) = null.
   */
  owner: RunOwnerSchema.nullable().optional(),
});

export const CHECKPOINT_KINDS = ['epoch', 'mid-epoch'] as const;
export const CheckpointInfoSchema = z.object({
  id: z.number().int(),
  runId: RunIdSchema,
  /** 'epoch': written after `epoch` finished; 'mid-epoch': written while `epoch` was in progress */
  kind: z.enum(CHECKPOINT_KINDS),
  epoch: z.number().int(),
  /**
   * steps of `epoch` done: for a mid-epoch checkpoint the steps trained so far, for an epoch
   * checkpoint the epoch's step count (null for rows written before this was recorded)
   */
  stepInEpoch: z.number().int().nullable(),
  /** the run's global step at the checkpoint (null for rows written before this was recorded) */
  globalStep: z.number().int().nullable(),
  path: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
  valTop1: z.number().nullable(),
  isBest: z.boolean(),
  createdAt: z.string(),
  /** false when the file has been removed (kept-last-K rotation or deletion) */
  exists: z.boolean(),
});

export const RUN_EVENT_KINDS = ['augment', 'pause', 'resume', 'fork', 'error', 'status', 'interrupted', 'note'] as const;
export const RunEventSchema = z.object({
  id: z.number().int(),
  runId: RunIdSchema,
  kind: z.enum(RUN_EVENT_KINDS),
  epoch: z.number().int().nullable(),
  globalStep: z.number().int().nullable(),
  at: z.string(),
  /** kind-specific payload, e.g. { patch } for augment, { diff: [{field, from, to}] } for fork */
  data: z.record(z.string(), z.unknown()),
});

export const StepProgressSchema = z.object({
  runId: RunIdSchema,
  epoch: z.number().int(),
  /** 0-based step within the epoch (the one just finished) */
  step: z.number().int(),
  stepsInEpoch: z.number().int(),
  globalStep: z.number().int(),
  loss: z.number(),
  top1: z.number(),
  lr: z.number(),
  momentum: z.number(),
  imagesPerSec: z.number(),
  /** seconds to the end of the run at the current rate */
  etaSeconds: z.number().nullable(),
  targetEpochs: z.number().int(),
  phase: z.enum(['train', 'val']),
  /**
   * share of the wall time since the previous progress event the trainer spent waiting for the
   * data loader (0 = never waited, 1 = only waited); absent when not measured
   */
  dataWait: z.number().min(0).max(1).nullable().optional(),
});

export const DatasetSummarySchema = z.object({
  root: z.string(),
  demo: z.boolean(),
  classes: z.number().int(),
  train: z.object({ images: z.number().int() }),
  val: z.object({ images: z.number().int() }),
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
});

export const DrawnParamsSchema = z.object({
  /** crop box in source pixels (after EXIF orientation) */
  crop: z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() }),
  flip: z.boolean(),
  jitter: z
    .object({
      applied: z.boolean(),
      brightness: z.number(),
      contrast: z.number(),
      saturation: z.number(),
      hue: z.number(),
      order: z.array(z.enum(['brightness', 'contrast', 'saturation', 'hue'])),
    })
    .nullable(),
});

export const PreviewSampleSchema = z.object({
  source: z.string(),
  /** PNG bytes as base64 */
  pngBase64: z.string(),
  params: DrawnParamsSchema,
});

export const SystemInfoSchema = z.object({
  backend: z.string().nullable(),
  backendReason: z.string().nullable(),
  gpu: z.string().nullable(),
  cpus: z.number().int(),
  cpuModel: z.string(),
  totalMemoryBytes: z.number(),
  freeMemoryBytes: z.number(),
  rssBytes: z.number(),
  node: z.string(),
  platform: z.string(),
  /** latest loader throughput (images/s produced by the data pipeline) */
  dataImagesPerSec: z.number().nullable(),
  /** latest training throughput (images/s consumed by the trainer) */
  trainImagesPerSec: z.number().nullable(),
  dbPath: z.string(),
  dataDir: z.string(),
});

export const ServiceStateSchema = z.object({
  activeRun: RunSummarySchema.nullable(),
  progress: StepProgressSchema.nullable(),
  queue: z.array(RunIdSchema),
  /** the augmentation currently applied to the active run */
  augment: z.unknown().nullable(),
});

export type RunSummary = z.infer<typeof RunSummarySchema>;
export type CheckpointInfo = z.infer<typeof CheckpointInfoSchema>;
export type CheckpointKind = CheckpointInfo['kind'];
export type RunOwner = z.infer<typeof RunOwnerSchema>;
export type RunEvent = z.infer<typeof RunEventSchema>;
export type StepProgress = z.infer<typeof StepProgressSchema>;
export type DatasetSummary = z.infer<typeof DatasetSummarySchema>;
export type DrawnParams = z.infer<typeof DrawnParamsSchema>;
export type PreviewSample = z.infer<typeof PreviewSampleSchema>;
export type SystemInfo = z.infer<typeof SystemInfoSchema>;
export type ServiceState = z.infer<typeof ServiceStateSchema>;
