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

/**
 * The backend a run reads when it trains in PyTorch DDP outside the workstation (`workstation
 * scale-out`; "pytorch-ddp 8×cuda" once rank 0 reported): the workstation cannot pause, stop or
 * resume it, only import what it reports.
 */
export const SCALE_OUT_ENGINE = 'pytorch-ddp';
export const isScaleOutRun = (run: { backend: string | null }): boolean => run.backend?.startsWith(SCALE_OUT_ENGINE) === true;

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
  /** free text the user keeps with the run ('' when none; absent from older producers = '') */
  notes: z.string().default(''),
  /** short labels, sorted (absent from older producers = none) */
  tags: z.array(z.string()).default([]),
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

/** Tags: 1–64 characters after trimming, no commas, semicolons or control characters (they separate tags in flags and CSV). */
export const TAG_MAX_LENGTH = 64;
export const TAGS_MAX_PER_RUN = 32;
export const NOTES_MAX_LENGTH = 20_000;
export const TagSchema = z
  .string()
  .trim()
  .min(1, 'a tag must not be empty')
  .max(TAG_MAX_LENGTH, `a tag is at most ${TAG_MAX_LENGTH} characters`)
  .regex(/^[^,;\u0000-\u001f\u007f]+$/, 'a tag must not contain commas, semicolons or control characters');

/**
 * A learning-rate range test (Smith; fastai's lr_find): one entry per step taken. Losses that
 * were not finite (the step it diverged at) are null on the wire.
 */
/** runs.probe: a few timed training steps of a config on the backend it would get (no run) */
export const StepProbeResultSchema = z.object({
  /** the backend the steps ran on ('tensorflow-gpu', 'tensorflow', 'cpu') */
  backend: z.string(),
  gpu: z.string().nullable(),
  /** seconds of the first, untimed step (kernel set-up, weight upload, cuDNN load / JIT) */
  warmupSeconds: z.number(),
  /** median seconds per timed step, data wait included */
  secondsPerStep: z.number(),
  dataWaitFraction: z.number(),
  steps: z.number().int(),
  batchSize: z.number().int(),
  imageSize: z.number().int(),
  /** batches in a training epoch and a validation pass of the config's dataset */
  trainStepsPerEpoch: z.number().int(),
  valStepsPerEpoch: z.number().int(),
  /** trainStepsPerEpoch × secondsPerStep: the training part of an epoch */
  trainEpochSeconds: z.number(),
});

export const LrFindResultSchema = z.object({
  lr: z.array(z.number()),
  loss: z.array(z.number().nullable()),
  /** debiased EMA of the loss (beta 0.98) */
  smoothedLoss: z.array(z.number().nullable()),
  /** where the smoothed loss falls fastest against log lr; null when it never falls */
  suggestedLr: z.number().nullable(),
  /** 'diverged' (the loss blew up: not finite, or 4× its best smoothed value) or 'completed' (all steps) */
  stopReason: z.enum(['diverged', 'completed', 'stopped']),
  steps: z.number().int(),
  backend: z.string(),
});

export const NOTIFY_KINDS = ['completed', 'failed', 'diverged', 'stalled', 'starved'] as const;
export type NotifyKind = (typeof NOTIFY_KINDS)[number];
/** What a desktop notification / webhook POST says about a run (service event 'notify'). */
export const NoticeSchema = z.object({
  /** unique per notice (a webhook delivery id: retries carry the same one) */
  id: z.string(),
  kind: z.enum(NOTIFY_KINDS),
  runId: RunIdSchema,
  runName: z.string(),
  title: z.string(),
  body: z.string(),
  at: z.string(),
  /** whether clients should show it as a desktop notification (settings.notifications.desktop) */
  desktop: z.boolean(),
});

export type RunSummary = z.infer<typeof RunSummarySchema>;
export type LrFindResult = z.infer<typeof LrFindResultSchema>;
export type StepProbeResult = z.infer<typeof StepProbeResultSchema>;
export type Notice = z.infer<typeof NoticeSchema>;
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

// --- Evaluation of checkpoints (`workstation eval`, the app's Evaluation view) -------------------
/** 'run': the run's own validation transform; 'resize': plain resize to the run's valSize; 'center-crop': resize 256, centre crop 224 */
export const EVAL_PROTOCOLS = ['run', 'resize', 'center-crop'] as const;
/** 'flip': the softmax of the image and of its horizontal mirror, averaged */
export const EVAL_TTAS = ['none', 'flip'] as const;
/** 'train' evaluates the training folder with the validation transform (no augmentation) */
export const EVAL_SPLITS = ['val', 'train'] as const;
export const EVAL_JOB_STATES = ['queued', 'running', 'completed', 'cancelled', 'failed'] as const;
export const EvalProtocolSchema = z.enum(EVAL_PROTOCOLS);
export const EvalTtaSchema = z.enum(EVAL_TTAS);
export const EvalSplitSchema = z.enum(EVAL_SPLITS);

/** One class of an evaluation; top1/top5 in percent, null for a class with no images in the split. */
export const EvalClassSchema = z.object({
  classIndex: z.number().int(),
  wnid: z.string().nullable(),
  name: z.string().nullable(),
  images: z.number().int(),
  top1: z.number().nullable(),
  top5: z.number().nullable(),
});

/** How often images of class `true` were predicted as `predicted` (true ≠ predicted). */
export const EvalConfusionSchema = z.object({ true: z.number().int(), predicted: z.number().int(), count: z.number().int() });

/** A misclassified image: its class, the predicted class with its probability, and the true class's. */
export const EvalMistakeSchema = z.object({
  classIndex: z.number().int(),
  predicted: z.number().int(),
  /** probability of the predicted class (0..1) */
  confidence: z.number(),
  /** probability of the true class (0..1) */
  trueProb: z.number(),
  /** absolute path of the image (served by the dataset-root file endpoint) */
  path: z.string(),
  /** its index in the split's file list */
  sampleId: z.number().int(),
});

export const EvaluationSummarySchema = z.object({
  id: z.number().int(),
  checkpointId: z.number().int(),
  runId: RunIdSchema,
  split: EvalSplitSchema,
  protocol: EvalProtocolSchema,
  tta: EvalTtaSchema,
  /** the dataset root evaluated */
  dataRoot: z.string().nullable(),
  images: z.number().int(),
  loss: z.number().nullable(),
  /** percent */
  top1: z.number().nullable(),
  top5: z.number().nullable(),
  createdAt: z.string(),
});

export const EvaluationSchema = EvaluationSummarySchema.extend({
  /** the validation transform used */
  transform: z.object({ mode: z.enum(['resize-center-crop', 'resize']), resize: z.number().int(), size: z.number().int() }),
  checkpoint: z.object({ path: z.string(), epoch: z.number().int(), kind: z.enum(CHECKPOINT_KINDS), stepInEpoch: z.number().int().nullable() }),
  /** files that could not be decoded (not counted in images) */
  skipped: z.number().int(),
  seconds: z.number(),
  perClass: z.array(EvalClassSchema),
  /** every (true, predicted) pair with true ≠ predicted and count > 0, most frequent first */
  confusions: z.array(EvalConfusionSchema),
  /** the highest-confidence mistakes of each class (at most mistakesPerClass each), highest first */
  mistakes: z.array(EvalMistakeSchema),
  mistakesPerClass: z.number().int(),
});

/** An evaluation the service runs: queued behind training, running (with progress), or ended. */
export const EvalJobSchema = z.object({
  evalId: z.number().int(),
  checkpointId: z.number().int(),
  runId: RunIdSchema,
  split: EvalSplitSchema,
  protocol: EvalProtocolSchema,
  tta: EvalTtaSchema,
  state: z.enum(EVAL_JOB_STATES),
  /** images evaluated so far, of totalImages (null until the dataset is indexed) */
  images: z.number().int(),
  totalImages: z.number().int().nullable(),
  step: z.number().int(),
  steps: z.number().int().nullable(),
  /** top-1 so far (percent) */
  top1: z.number().nullable(),
  imagesPerSec: z.number().nullable(),
  etaSeconds: z.number().nullable(),
  /** why it waits ('run 3 is training'), null when it does not */
  waitingFor: z.string().nullable(),
  /** the stored evaluation, once completed */
  evaluationId: z.number().int().nullable(),
  error: z.string().nullable(),
});

export type EvalProtocol = z.infer<typeof EvalProtocolSchema>;
export type EvalTta = z.infer<typeof EvalTtaSchema>;
export type EvalSplit = z.infer<typeof EvalSplitSchema>;
export type EvalClass = z.infer<typeof EvalClassSchema>;
export type EvalConfusion = z.infer<typeof EvalConfusionSchema>;
export type EvalMistake = z.infer<typeof EvalMistakeSchema>;
export type EvaluationSummary = z.infer<typeof EvaluationSummarySchema>;
export type Evaluation = z.infer<typeof EvaluationSchema>;
export type EvalJob = z.infer<typeof EvalJobSchema>;

// --- NVIDIA GPUs (`system.gpu`, from nvidia-smi; empty where it is absent) ----------------------
export const GpuDeviceSchema = z.object({
  index: z.number().int(),
  name: z.string(),
  memoryTotalMiB: z.number().nullable(),
  driver: z.string(),
});
/** one GPU at one moment, sampled every 5 s while a run trains; null = the GPU does not report it ([N/A]) */
export const GpuSampleSchema = z.object({
  at: z.string(),
  index: z.number().int(),
  /** percent */
  utilization: z.number().nullable(),
  memoryUsedMiB: z.number().nullable(),
  powerW: z.number().nullable(),
  temperatureC: z.number().nullable(),
});
export const GpuStatusSchema = z.object({
  /** nvidia-smi is on the service's PATH and answers */
  available: z.boolean(),
  gpus: z.array(GpuDeviceSchema),
  /** oldest first; kept in memory (bounded), so a restarted service starts empty */
  samples: z.array(GpuSampleSchema),
});
export type GpuDevice = z.infer<typeof GpuDeviceSchema>;
export type GpuSample = z.infer<typeof GpuSampleSchema>;
export type GpuStatus = z.infer<typeof GpuStatusSchema>;

// --- PyTorch DDP continuations (`workstation scale-out`) reporting live (`scaleOut.report`) -------
/**
 * One record of a scale-out folder's train_ddp.py (rank 0): what it appends to metrics.jsonl
 * (start, epoch, checkpoint, checkpoint-removed, end), plus 'progress' (live only, never in the file).
 * Unknown fields are dropped; `runId` is the plan's run (checked against the command's).
 */
const scaleOutRecordBase = { runId: RunIdSchema.optional(), at: z.string().optional() };
export const ScaleOutRecordSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('start'),
    ...scaleOutRecordBase,
    worldSize: z.number().int().positive(),
    device: z.string(),
    host: z.string().min(1),
    /** rank 0's process id on `host`: the run's owner while it trains (a run whose owner is gone reads 'interrupted') */
    pid: z.number().int().positive().optional(),
    torch: z.string().optional(),
    startEpoch: z.number().int().optional(),
    globalStep: z.number().int().optional(),
    stepsPerEpoch: z.number().int().optional(),
    targetEpochs: z.number().int().optional(),
  }),
  z.object({ type: z.literal('epoch'), ...scaleOutRecordBase, globalStep: z.number().int().optional(), metrics: EpochMetricsSchema }),
  z.object({
    type: z.literal('checkpoint'),
    ...scaleOutRecordBase,
    epoch: z.number().int(),
    globalStep: z.number().int().optional(),
    path: z.string().min(1),
    valTop1: z.number().nullable().optional(),
  }),
  z.object({ type: z.literal('checkpoint-removed'), ...scaleOutRecordBase, path: z.string().min(1) }),
  z.object({
    type: z.literal('end'),
    ...scaleOutRecordBase,
    status: z.enum(['completed', 'stopped', 'failed']),
    error: z.string().nullable().optional(),
    lastEpoch: z.number().int().nullable().optional(),
  }),
  z.object({ type: z.literal('progress'), ...scaleOutRecordBase, ...StepProgressSchema.omit({ runId: true }).shape }),
]);
export type ScaleOutRecord = z.infer<typeof ScaleOutRecordSchema>;
export const ScaleOutReportResultSchema = z.object({
  runId: RunIdSchema,
  status: RunStatusSchema,
  /** epochs whose rows this report wrote (new or changed; earlier records missed live are caught up too) */
  epochs: z.array(z.number().int()),
  /** checkpoints converted into workstation checkpoints by this report */
  checkpoints: z.number().int(),
});

/** the GPU samples stored with a run (`runs.gpuSamples`), and its epochs' data-wait share beside them */
export const GpuRunSamplesSchema = z.object({
  runId: RunIdSchema,
  /** oldest first; a long run's older samples are thinned (bounded per run) */
  samples: z.array(GpuSampleSchema),
  /** per epoch: the share of training time spent waiting for the next batch (0..1; null when not recorded) */
  dataWait: z.array(z.object({ epoch: z.number().int(), fraction: z.number().nullable() })),
});
export type GpuRunSamples = z.infer<typeof GpuRunSamplesSchema>;

// --- backend self-test (`doctor --selftest`; the service runs it before a native backend's first run) ---
export const SelftestCheckSchema = z.object({
  name: z.string(),
  ok: z.boolean(),
  /** null when the check threw (no comparison) */
  maxRelError: z.number().nullable(),
  tolerance: z.number(),
  /** why the check did not run */
  skipped: z.string().optional(),
  /** what a kernel threw */
  error: z.string().optional(),
});
export const SelftestChecksSchema = z.array(SelftestCheckSchema);
export const SELFTEST_TRIGGERS = ['first-run', 'manual', 'doctor'] as const;
export const SelftestRecordSchema = z.object({
  id: z.number().int(),
  /** tfjs backend as the trainer names it: tensorflow-gpu, tensorflow, cpu */
  backend: z.string(),
  tfjsVersion: z.string(),
  /** libtensorflow's TF_Version ('stand-in' for the test stand-in; null for pure-JS cpu) */
  libtensorflowVersion: z.string().nullable(),
  nativePackage: z.string().nullable(),
  nativeVersion: z.string().nullable(),
  ok: z.boolean(),
  precision: z.enum(['float32', 'tf32']),
  checks: SelftestChecksSchema,
  seconds: z.number(),
  /** what ran it: a run's first start on the backend, the System view / API, `workstation doctor --selftest` */
  trigger: z.enum(SELFTEST_TRIGGERS),
  /** the run whose start ran it (first-run) */
  runId: RunIdSchema.nullable(),
  createdAt: z.string(),
});
export type SelftestCheckRecord = z.infer<typeof SelftestCheckSchema>;
export type SelftestRecord = z.infer<typeof SelftestRecordSchema>;
export type SelftestTrigger = (typeof SELFTEST_TRIGGERS)[number];
