// The service API, declared once. Every transport (Node IPC for Electron main, WebSocket for
// `serve`, in-process for the CLI) is derived from this table, and params are validated with
// these schemas where they enter the service; events are validated where they enter a client.
import { SettingsPatchSchema, SettingsSchema } from '../config/settings';
import { z } from 'zod';
import { AugmentPatchSchema } from '../config/augment';
import {
  CheckpointInfoSchema,
  DatasetSummarySchema,
  EpochMetricsSchema,
  PreviewSampleSchema,
  RunEventSchema,
  RunIdSchema,
  RunSummarySchema,
  ServiceStateSchema,
  StepProgressSchema,
  StepSampleSchema,
  SystemInfoSchema,
} from './schemas';
import { LrFindResultSchema, NoticeSchema, StepProbeResultSchema, NOTES_MAX_LENGTH, TagSchema, TAGS_MAX_PER_RUN } from './schemas';
import { EvalJobSchema, EvalProtocolSchema, EvalSplitSchema, EvalTtaSchema, EvaluationSchema, EvaluationSummarySchema } from './schemas';
import { GpuStatusSchema } from './schemas';
import { GpuRunSamplesSchema, SelftestRecordSchema } from './schemas';
import { BACKENDS } from '../config/run-config';
import { ScaleOutRecordSchema, ScaleOutReportResultSchema } from './schemas';

/** A partial run config (JSON); fully validated by resolveRunConfig in the service. */
const ConfigInputSchema = z.record(z.string(), z.unknown());

export const COMMANDS = {
  'runs.list': { params: z.strictObject({}), result: z.array(RunSummarySchema) },
  'runs.get': {
    params: z.strictObject({ runId: RunIdSchema }),
    result: z.object({
      run: RunSummarySchema,
      config: z.record(z.string(), z.unknown()),
      epochs: z.array(EpochMetricsSchema),
      steps: z.array(StepSampleSchema),
      checkpoints: z.array(CheckpointInfoSchema),
      events: z.array(RunEventSchema),
    }),
  },
  /** start a new run; queued when another run is training (one run trains at a time) */
  'runs.start': { params: z.strictObject({ config: ConfigInputSchema }), result: RunSummarySchema },
  'runs.pause': { params: z.strictObject({ runId: RunIdSchema }), result: RunSummarySchema },
  /** resume a paused run in place, or an interrupted/stopped run from its last checkpoint */
  'runs.resume': { params: z.strictObject({ runId: RunIdSchema }), result: RunSummarySchema },
  'runs.stop': { params: z.strictObject({ runId: RunIdSchema }), result: RunSummarySchema },
  /** change augmentation of the running run; takes effect at the next batch */
  'runs.updateAugment': {
    params: z.strictObject({ runId: RunIdSchema, patch: AugmentPatchSchema }),
    result: z.object({ effectiveFromStep: z.number().int() }),
  },
  /** resume from a checkpoint as a new child run, with config overrides */
  'runs.fork': {
    params: z.strictObject({ checkpointId: z.number().int(), overrides: ConfigInputSchema.default({}), name: z.string().min(1).optional() }),
    result: RunSummarySchema,
  },
  'runs.delete': {
    params: z.strictObject({ runId: RunIdSchema, deleteFiles: z.boolean() }),
    result: z.object({ deletedRuns: z.number().int(), deletedFiles: z.number().int() }),
  },
  'checkpoints.list': { params: z.strictObject({ runId: RunIdSchema }), result: z.array(CheckpointInfoSchema) },
  /**
   * what a fork from the checkpoint starts from: the run's config with the augmentation in effect
   * when the checkpoint was written (live changes included), and the runs that still need it
   */
  'checkpoints.settings': {
    params: z.strictObject({ checkpointId: z.number().int() }),
    result: z.object({ config: z.record(z.string(), z.unknown()), dependents: z.array(RunSummarySchema) }),
  },
  'checkpoints.delete': {
    params: z.strictObject({ checkpointId: z.number().int(), deleteFile: z.boolean() }),
    result: z.object({ deleted: z.boolean() }),
  },
  'augment.preview': {
    params: z.strictObject({
      images: z.array(z.string().min(1)).min(1).max(64),
      count: z.number().int().min(1).max(64),
      seed: z.number().int().min(0),
      params: AugmentPatchSchema.default({}),
      size: z.number().int().min(16).max(512).default(224),
    }),
    result: z.object({ samples: z.array(PreviewSampleSchema) }),
  },
  'export.csv': {
    params: z.strictObject({ runId: RunIdSchema, lineage: z.boolean().default(false) }),
    result: z.object({ filename: z.string(), csv: z.string(), rows: z.number().int() }),
  },
  'dataset.index': { params: z.strictObject({ root: z.string().min(1) }), result: DatasetSummarySchema },
  /** the demo dataset (generated on first use) and sample image paths for the augmentation tuner */
  'dataset.status': {
    params: z.strictObject({ root: z.string().min(1).nullable().default(null), samples: z.number().int().min(0).max(64).default(8) }),
    result: z.object({
      summary: DatasetSummarySchema,
      sampleImages: z.array(z.string()),
      /** the class of each sample image, in the same order (names from the dataset's synset mapping) */
      sampleClasses: z.array(z.object({ wnid: z.string(), name: z.string() })),
    }),
  },
  'system.info': { params: z.strictObject({}), result: SystemInfoSchema },
  /** NVIDIA GPUs (nvidia-smi) and their newest `limit` samples (utilisation, memory, power, temperature every 5 s while a run trains) */
  'system.gpu': { params: z.strictObject({ limit: z.number().int().min(0).max(10_000).default(720) }), result: GpuStatusSchema },
  /** the GPU samples stored with a run while it trained (bounded per run) and its epochs' data-wait share; kept across restarts */
  'runs.gpuSamples': { params: z.strictObject({ runId: RunIdSchema }), result: GpuRunSamplesSchema },
  /** stored backend self-test results, newest first (one per backend + tfjs + libtensorflow version) */
  'system.selftest': { params: z.strictObject({}), result: z.array(SelftestRecordSchema) },
  /**
   * runs the self-test on the backend `backend` selects now and stores it (replacing the stored one of
   * that backend + versions); selftest.status events follow it. Refused while a run trains or is queued.
   */
  'system.runSelftest': { params: z.strictObject({ backend: z.enum(BACKENDS).default('auto') }), result: SelftestRecordSchema },
  /** the data directory's app settings (auto-resume after a crash, EC2 interruption watching) */
  'settings.get': { params: z.strictObject({}), result: SettingsSchema },
  /** changes settings; interruption watching starts/stops at once, auto-resume applies at the next service start */
  'settings.set': { params: z.strictObject({ patch: SettingsPatchSchema }), result: SettingsSchema },
  /** what a client connecting mid-run needs before it follows events */
  'state.get': { params: z.strictObject({}), result: ServiceStateSchema },
  // --- notes and tags, comparison, learning-rate range test ---------------------------------
  /** replaces the run's notes (free text; '' clears them) */
  'runs.setNotes': { params: z.strictObject({ runId: RunIdSchema, notes: z.string().max(NOTES_MAX_LENGTH) }), result: RunSummarySchema },
  /** replaces the run's tags (trimmed, duplicates dropped; [] clears them) */
  'runs.setTags': { params: z.strictObject({ runId: RunIdSchema, tags: z.array(TagSchema).max(TAGS_MAX_PER_RUN) }), result: RunSummarySchema },
  /**
   * the chosen runs' epochs as one CSV: CSV_COLUMNS, then best and last val top-1 of the run and
   * one column per config field that differs between them (see service/csv-export.ts)
   */
  'export.compareCsv': {
    params: z.strictObject({ runIds: z.array(RunIdSchema).min(1).max(64) }),
    result: z.object({ filename: z.string(), csv: z.string(), rows: z.number().int(), fields: z.array(z.string()) }),
  },
  /**
   * a learning-rate range test on the config (lr growing geometrically from minLr to maxLr over
   * `steps` steps, stopped when the loss diverges) from fresh weights or a checkpoint; creates no
   * run and writes nothing. Refused while a run trains or is queued. lr.find.progress events follow it.
   */
  /**
   * a few timed training steps of a config (after one warm-up step) on the backend the run would
   * get, on its dataset: the new-run form's measured time per epoch. Creates no run, writes
   * nothing; refused while a run trains or is queued, or an evaluation or range test runs.
   */
  'runs.probe': {
    params: z.strictObject({ config: ConfigInputSchema, steps: z.number().int().min(1).max(20).default(3) }),
    result: StepProbeResultSchema,
  },
  'lr.find': {
    params: z.strictObject({
      config: ConfigInputSchema,
      checkpointId: z.number().int().nullable().default(null),
      steps: z.number().int().min(2).max(10_000).default(100),
      minLr: z.number().positive().default(1e-7),
      maxLr: z.number().positive().default(10),
    }),
    result: LrFindResultSchema,
  },
  /**
   * evaluate a checkpoint in eval mode (BN running stats) on a dataset split; returns the job at
   * once (eval.progress events follow it). One evaluation at a time, and never beside training:
   * it waits while a run trains or is queued, and a run started meanwhile waits for it.
   * tta null = the run's data.valTta; dataRoot null = the run's dataset
   */
  'eval.start': {
    params: z.strictObject({
      checkpointId: z.number().int(),
      protocol: EvalProtocolSchema.default('run'),
      tta: EvalTtaSchema.nullable().default(null),
      split: EvalSplitSchema.default('val'),
      dataRoot: z.string().min(1).nullable().default(null),
    }),
    result: EvalJobSchema,
  },
  /** stops a queued or running evaluation (nothing is stored); an ended one is returned as it is */
  'eval.cancel': { params: z.strictObject({ evalId: z.number().int() }), result: EvalJobSchema },
  /** evaluations this service runs or queued, and the ones that ended since it started, newest first */
  'eval.jobs': { params: z.strictObject({}), result: z.array(EvalJobSchema) },
  /** stored evaluations (of one checkpoint or run when given), newest first */
  'eval.list': {
    params: z.strictObject({ checkpointId: z.number().int().optional(), runId: RunIdSchema.optional() }),
    result: z.array(EvaluationSummarySchema),
  },
  /** one stored evaluation with its per-class table, confusions and top mistakes */
  'eval.get': { params: z.strictObject({ evaluationId: z.number().int() }), result: EvaluationSchema },
  /** an image inside a dataset root (the `/api/file` allow-list), for clients without HTTP (the Electron window) */
  'dataset.file': {
    params: z.strictObject({ path: z.string().min(1) }),
    result: z.object({ contentType: z.string(), base64: z.string() }),
  },
  /**
   * a PyTorch DDP continuation (train_ddp.py of a `workstation scale-out` folder, rank 0) reports a
   * record it has just appended to the folder's metrics.jsonl (also POST /api/scale-out/report with
   * the service.json token as a Bearer header): the service imports the folder as it does at its
   * start (idempotent: nothing is added twice, by this or a later import) and emits run.epoch,
   * checkpoint.saved, run.status and run.event for what is new; 'start' makes the run 'running',
   * owned by rank 0's process; 'progress' only emits run.step (and a step sample)
   */
  'scaleOut.report': {
    params: z.strictObject({
      dir: z.string().min(1),
      runId: RunIdSchema,
      record: ScaleOutRecordSchema,
      /** the reporting process (rank 0): owns the run while it trains */
      owner: z.strictObject({ pid: z.number().int().positive(), host: z.string().min(1) }).optional(),
    }),
    result: ScaleOutReportResultSchema,
  },
} as const;

export type CommandName = keyof typeof COMMANDS;
export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];
export type CommandParams<C extends CommandName> = z.input<(typeof COMMANDS)[C]['params']>;
export type CommandParamsParsed<C extends CommandName> = z.infer<(typeof COMMANDS)[C]['params']>;
export type CommandResult<C extends CommandName> = z.infer<(typeof COMMANDS)[C]['result']>;

export const EVENTS = {
  'run.step': StepProgressSchema,
  'run.epoch': z.object({ runId: RunIdSchema, metrics: EpochMetricsSchema }),
  'run.status': z.object({ run: RunSummarySchema }),
  'run.event': RunEventSchema,
  'checkpoint.saved': CheckpointInfoSchema,
  /** a run completed, failed, diverged, stalled or starved (the kinds switched on in settings.notifications) */
  notify: NoticeSchema,
  /** a step of the learning-rate range test in progress (loss null when not finite) */
  'lr.find.progress': z.object({
    step: z.number().int(),
    steps: z.number().int(),
    lr: z.number(),
    loss: z.number().nullable(),
    smoothedLoss: z.number().nullable(),
  }),
  /** an evaluation's progress and end (state completed / cancelled / failed) */
  'eval.progress': EvalJobSchema,
  /** a backend self-test started ('running': record null) or ended ('done': the stored record); runId: the run whose first start ran it */
  'selftest.status': z.object({
    state: z.enum(['running', 'done']),
    backend: z.string(),
    runId: RunIdSchema.nullable(),
    message: z.string(),
    record: SelftestRecordSchema.nullable(),
  }),
  'log.line': z.object({ level: z.enum(['debug', 'info', 'warn', 'error']), message: z.string(), runId: RunIdSchema.nullable(), at: z.string() }),
  /** Electron main → renderer only: the service process died / restarted */
  'service.state': z.object({ state: z.enum(['starting', 'ready', 'restarting', 'failed']), message: z.string().nullable() }),
} as const;

export type EventName = keyof typeof EVENTS;
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];
export type EventPayload<E extends EventName> = z.infer<(typeof EVENTS)[E]>;

/** Message envelopes used on every transport. */
export const RequestEnvelopeSchema = z.object({ type: z.literal('request'), id: z.number().int(), command: z.string(), params: z.unknown() });
export const ResponseEnvelopeSchema = z.object({
  type: z.literal('response'),
  id: z.number().int(),
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: z.object({ name: z.string(), code: z.string(), message: z.string(), field: z.string().optional(), path: z.string().optional() }).optional(),
});
export const EventEnvelopeSchema = z.object({ type: z.literal('event'), event: z.string(), payload: z.unknown() });
export type RequestEnvelope = z.infer<typeof RequestEnvelopeSchema>;
export type ResponseEnvelope = z.infer<typeof ResponseEnvelopeSchema>;
export type EventEnvelope = z.infer<typeof EventEnvelopeSchema>;

/** The typed client every front end uses (preload bridge, WebSocket client, CLI in-process). */
export interface ServiceApi {
  call<C extends CommandName>(command: C, params: CommandParams<C>): Promise<CommandResult<C>>;
  on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void;
}
