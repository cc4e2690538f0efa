// The run config: schema, defaults and resolution. Resolved once
// (defaults < config file < CLI flags / UI form), validated into a frozen object, stored with the run.
import { z } from 'zod';
import { WorkstationError } from '../errors';
import { AugmentSchema } from './augment';

export const BACKENDS = ['auto', 'gpu', 'node', 'cpu'] as const;
export type BackendRequest = (typeof BACKENDS)[number];

export const ModelSchema = z.strictObject({
  arch: z.enum(['resnet50']).default('resnet50'),
  numClasses: z.number().int().min(2).max(100000).default(1000),
  /** channel width multiplier; 1 = torchvision ResNet-50. Tests use tiny values (e.g. 0.0625). */
  widthMultiplier: z.number().positive().max(4).default(1),
});

export const DataSchema = z.strictObject({
  /** ImageNet root holding train/ and val/; null = the embedded demo dataset */
  root: z.string().min(1).nullable().default(null),
  trainDir: z.string().min(1).default('train'),
  valDir: z.string().min(1).default('val'),
  /** decode worker threads; 0 = cores - 1 (at least 1) */
  workers: z.number().int().min(0).max(256).default(0),
  /** batches decoded ahead of the trainer */
  prefetch: z.number().int().min(1).max(64).default(4),
  /** training crop size (pixels) */
  trainSize: z.number().int().min(16).max(1024).default(224),
  /** progressive resizing: from `epoch` on (1-based), train at `size`; overrides trainSize */
  trainSizeSchedule: z.array(z.strictObject({ epoch: z.number().int().min(1), size: z.number().int().min(16).max(1024) })).default([]),
  /** 'resize-center-crop': shorter side to valResize, centre crop valSize; 'resize': plain resize to valSize */
  valTransform: z.enum(['resize-center-crop', 'resize']).default('resize-center-crop'),
  valResize: z.number().int().min(16).max(2048).default(256),
  valSize: z.number().int().min(16).max(1024).default(224),
  /** test-time augmentation of validation: 'flip' averages the softmax of each image and its horizontal mirror */
  valTta: z.enum(['none', 'flip']).default('none'),
  /** cap on training steps per epoch (tiny/test runs); null = full epoch */
  maxStepsPerEpoch: z.number().int().min(1).nullable().default(null),
  /** cap on validation steps; null = full validation set */
  maxValSteps: z.number().int().min(1).nullable().default(null),
});

/**
 * Stop a run early (it completes) when `metric` has not improved by more than `minDelta` for
 * `patience` epochs in a row (Keras' EarlyStopping semantics). Accuracies are in percent, so
 * minDelta 0.1 means 0.1 points of top-1.
 */
export const EARLY_STOPPING_METRICS = ['valTop1', 'valTop5', 'valLoss', 'trainLoss'] as const;
export const EarlyStoppingSchema = z.strictObject({
  metric: z.enum(EARLY_STOPPING_METRICS).default('valTop1'),
  patience: z.number().int().min(1).max(100000),
  minDelta: z.number().min(0).default(0),
});
export type EarlyStoppingConfig = z.infer<typeof EarlyStoppingSchema>;

export const TrainSchema = z.strictObject({
  /** the epoch the run ends at (1-based, inclusive) */
  epochs: z.number().int().min(1).max(100000).default(39),
  batchSize: z.number().int().min(1).max(65536).default(128),
  valBatchSize: z.number().int().min(1).max(65536).nullable().default(null),
  labelSmoothing: z.number().min(0).max(1).default(0),
  /** read loss/accuracy back from the device every N steps (progress events) */
  logEverySteps: z.number().int().min(1).default(10),
  /** null = train to train.epochs */
  earlyStopping: EarlyStoppingSchema.nullable().default(null),
  /**
   * deterministic GPU kernels (TF_DETERMINISTIC_OPS / TF_CUDNN_DETERMINISTIC, read when libtensorflow
   * loads): needed for a bit-exact resume on a GPU; the service must be started with --deterministic
   */
  deterministic: z.boolean().default(false),
  /**
   * the workstation's fused tfjs kernels (batch norm + ReLU, one-kernel SGD, convolutions) where the
   * backend has them; false = tfjs built-in ops only (the reference path, for comparison or as a fallback)
   */
  fusedKernels: z.boolean().default(true),
  /**
   * train on a native backend (tensorflow, tensorflow-gpu) even though its stored self-test failed
   * (the service runs the self-test once per backend + libtensorflow version before the first run)
   */
  allowFailedSelftest: z.boolean().default(false),
});

export const OptimizerSchema = z.strictObject({
  name: z.enum(['sgd']).default('sgd'),
  lr: z.number().positive().default(0.001),
  momentum: z.number().min(0).max(1).default(0.9),
  dampening: z.number().min(0).max(1).default(0),
  weightDecay: z.number().min(0).default(1e-4),
  nesterov: z.boolean().default(false),
  /** apply weight decay to conv/FC weights only (not BN gamma/beta nor biases) */
  excludeBnAndBias: z.boolean().default(false),
});

export const ScheduleSchema = z.discriminatedUnion('policy', [
  z.strictObject({ policy: z.literal('constant') }),
  z.strictObject({
    policy: z.literal('onecycle'),
    maxLr: z.number().positive(),
    pctStart: z.number().gt(0).lt(1).default(0.3),
    anneal: z.enum(['cos', 'linear']).default('cos'),
    divFactor: z.number().positive().default(25),
    finalDivFactor: z.number().positive().default(1e4),
    threePhase: z.boolean().default(false),
    cycleMomentum: z.boolean().default(true),
    baseMomentum: z.number().min(0).max(1).default(0.85),
    maxMomentum: z.number().min(0).max(1).default(0.95),
  }),
  z.strictObject({
    policy: z.literal('step'),
    /** multiply lr by gamma every stepEpochs epochs (stepped per batch) */
    stepEpochs: z.number().positive(),
    gamma: z.number().positive().default(0.1),
  }),
  z.strictObject({
    policy: z.literal('cosine'),
    warmupEpochs: z.number().min(0).default(0),
    minLr: z.number().min(0).default(0),
  }),
]);

export const CheckpointSchema = z.strictObject({
  /** keep the last K epoch checkpoints (plus the best by val top-1) */
  keepLast: z.number().int().min(1).default(3),
  keepBest: z.boolean().default(true),
  /** a mid-epoch checkpoint when this many minutes passed since the last checkpoint (0 = off) */
  everyMinutes: z.number().min(0).default(15),
  /** a mid-epoch checkpoint every this many global steps (null = off) */
  everySteps: z.number().int().min(1).nullable().default(null),
});

export const RunConfigSchema = z.strictObject({
  name: z.string().min(1).max(200).default('run'),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(0),
  backend: z.enum(BACKENDS).default('auto'),
  model: ModelSchema.default(ModelSchema.parse({})),
  data: DataSchema.default(DataSchema.parse({})),
  augment: AugmentSchema.default(AugmentSchema.parse({})),
  train: TrainSchema.default(TrainSchema.parse({})),
  optimizer: OptimizerSchema.default(OptimizerSchema.parse({})),
  schedule: ScheduleSchema.default({ policy: 'constant' }),
  checkpoint: CheckpointSchema.default(CheckpointSchema.parse({})),
});

export type RunConfig = z.infer<typeof RunConfigSchema>;
export type RunConfigInput = z.input<typeof RunConfigSchema>;
export type ScheduleConfig = z.infer<typeof ScheduleSchema>;
export type OptimizerConfig = z.infer<typeof OptimizerSchema>;
export type ModelConfig = z.infer<typeof ModelSchema>;
export type DataConfig = z.infer<typeof DataSchema>;

type Json = unknown;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects; arrays and scalars in `over` replace those in `base`. */
export function deepMerge(base: Json, over: Json): Json {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  // A discriminated union member (e.g. schedule) switching its `policy` replaces the whole
  // object: fields of the old policy must not leak into the new one.
  if ('policy' in over && over.policy !== base.policy) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = k in base ? deepMerge(base[k], v) : v;
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** Formats the first zod issue as "field.path: message". */
export function zodIssueToError(err: z.ZodError, code: 'INVALID_CONFIG' | 'INVALID_ARGUMENT', source?: string): WorkstationError {
  const issue = err.issues[0];
  let field = issue.path.map(String).join('.');
  let msg = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const key = (issue as { keys: string[] }).keys[0];
    field = field ? `${field}.${key}` : key;
    msg = 'unknown field';
  }
  const where = source ? `${source}: ` : '';
  return new WorkstationError(code, `${where}${field ? `${field}: ` : ''}${msg}`, { field: field || undefined, path: source });
}

/**
 * Resolves layers of partial configs (later wins) into a validated, frozen RunConfig.
 * `source` names the file the layers came from, for error messages.
 */
export function resolveRunConfig(layers: Json[], source?: string): Readonly<RunConfig> {
  let merged: Json = {};
  for (const layer of layers) {
    if (layer === undefined || layer === null) continue;
    if (!isPlainObject(layer)) throw new WorkstationError('INVALID_CONFIG', `${source ? source + ': ' : ''}config must be a JSON object`, { path: source });
    merged = deepMerge(merged, layer);
  }
  const parsed = RunConfigSchema.safeParse(merged);
  if (!parsed.success) throw zodIssueToError(parsed.error, 'INVALID_CONFIG', source);
  return deepFreeze(parsed.data);
}

/** Training image size used in a 1-based epoch, following data.trainSizeSchedule. */
export function trainSizeForEpoch(data: DataConfig, epoch: number): number {
  let size = data.trainSize;
  for (const s of [...data.trainSizeSchedule].sort((a, b) => a.epoch - b.epoch)) if (epoch >= s.epoch) size = s.size;
  return size;
}

/** Flat list of differences between two configs: `{ field, from, to }` (for fork / lineage markers). */
export function diffConfigs(a: Json, b: Json, prefix = ''): { field: string; from: unknown; to: unknown }[] {
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].sort().flatMap((k) => diffConfigs(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ field: prefix, from: a, to: b }];
}
