// Checkpoints: what goes in (weights incl. BN running stats, optimizer buffers, scheduler state,
// counters, seed, config, the augmentation in effect, metrics; for a mid-epoch checkpoint the step
// within the epoch and the partial epoch's metric sums), loading with an architecture check that
// never loads partially, `inspect`, and keep-last-K-plus-best rotation of epoch checkpoints (files
// a queued child still needs are pinned). The byte format is in checkpoint-file.ts.
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import type { AugmentParams } from '../../src-shared/config/augment';
import type { RunConfig, ScheduleConfig } from '../../src-shared/config/run-config';
import { WorkstationError } from '../../src-shared/errors';
import type { EpochMetrics } from '../../src-shared/metrics';
import {
  encodeCheckpoint,
  readCheckpointFile,
  removeStaleTemps,
  weightsSha256,
  writeFileAtomic,
  type AtomicWriteHooks,
  type NamedArray,
} from './checkpoint-file';
import type { Model } from './models/index';

export interface SchedulerState {
  /** config of the schedule this run steps */
  policy: ScheduleConfig;
  /** total steps the schedule was created with */
  totalSteps: number;
  /** global step at which the schedule's step 0 was taken (0, or the resume step of a fork) */
  startGlobalStep: number;
  /** schedule steps taken so far (= global step - startGlobalStep) */
  step: number;
  baseLr: number;
  baseMomentum: number;
}

export interface CheckpointHeader {
  kind: 'workstation-checkpoint';
  createdAt: string;
  /**
   * 'epoch': written after epoch `epoch` finished (validation included); 'mid-epoch': written
   * inside epoch `epoch` after `stepInEpoch` of its steps. Absent in files of older builds ('epoch').
   */
  checkpointKind?: CheckpointKind;
  /** steps done within `epoch` (stepsPerEpoch for an epoch checkpoint) */
  stepInEpoch?: number;
  /** the augmentation in effect at this point (live changes included); absent in older files */
  augment?: AugmentParams;
  /** mid-epoch only: what the epoch had accumulated so far */
  partial?: PartialEpoch;
  /** the epoch (1-based) the checkpoint belongs to: finished ('epoch') or in progress ('mid-epoch') */
  epoch: number;
  /** global training steps done */
  step: number;
  stepsPerEpoch: number;
  arch: string;
  numClasses: number;
  widthMultiplier: number;
  trainableParams: number;
  nonTrainableParams: number;
  weightsSha256: string;
  config: RunConfig;
  metrics: EpochMetrics | null;
  scheduler: SchedulerState;
  /** optimizer buffer names, in blob order */
  optimizerState: string[];
  /** randomness is a pure function of (seed, purpose, epoch, sample): the seed is the whole RNG state */
  rng: { seed: number; scheme: 'counter-based: hashKeys(seed, purpose, epoch, sampleId)' };
  backend: string;
}

export type CheckpointKind = 'epoch' | 'mid-epoch';

/** The partial epoch a mid-epoch checkpoint carries, so the epoch's metrics come out whole. */
export interface PartialEpoch {
  /** training metric sums so far ([loss * n, top1 count, top5 count], float32 values) and samples */
  sums: number[];
  samples: number;
  /** training seconds spent in the epoch so far (paused time excluded) */
  trainSeconds: number;
  /** files skipped so far in the epoch */
  skipped: number;
  /** seconds spent waiting for batches so far in the epoch (absent in older files) */
  waitSeconds?: number;
  /** last step's lr and momentum */
  lr: number;
  momentum: number;
}

/** Where a checkpoint stands: its kind and the steps done within its epoch (older files: epoch). */
export function checkpointPosition(h: Pick<CheckpointHeader, 'checkpointKind' | 'stepInEpoch' | 'epoch' | 'stepsPerEpoch'>): {
  kind: CheckpointKind;
  epoch: number;
  stepInEpoch: number;
  /** epochs finished at this point */
  completedEpochs: number;
} {
  const kind = h.checkpointKind ?? 'epoch';
  const stepInEpoch = h.stepInEpoch ?? h.stepsPerEpoch;
  return { kind, epoch: h.epoch, stepInEpoch, completedEpochs: kind === 'epoch' ? h.epoch : h.epoch - 1 };
}

export type CheckpointSummary = Pick<
  CheckpointHeader,
  | 'epoch'
  | 'step'
  | 'arch'
  | 'numClasses'
  | 'widthMultiplier'
  | 'trainableParams'
  | 'nonTrainableParams'
  | 'weightsSha256'
  | 'config'
  | 'metrics'
  | 'scheduler'
  | 'createdAt'
> & { path: string; bytes: number; sha256: string; checkpointKind: CheckpointKind; stepInEpoch: number };

/** Model variables read back in the documented order. */
export function modelArrays(model: Model): NamedArray[] {
  return model.vars.map((v) => ({ name: v.name, shape: v.shape, data: v.variable.dataSync() as Float32Array }));
}

export function modelWeightsSha256(model: Model): string {
  return weightsSha256(model.vars.map((v) => v.variable.dataSync() as Float32Array));
}

export interface SaveInput {
  file: string;
  model: Model;
  optimizer: NamedArray[];
  header: Omit<
    CheckpointHeader,
    'kind' | 'createdAt' | 'weightsSha256' | 'arch' | 'numClasses' | 'widthMultiplier' | 'trainableParams' | 'nonTrainableParams' | 'optimizerState'
  >;
  hooks?: AtomicWriteHooks;
}

export function saveCheckpoint(input: SaveInput): { path: string; bytes: number; sha256: string; weightsSha256: string } {
  const model = modelArrays(input.model);
  const wsha = weightsSha256(model.map((a) => a.data));
  const header: CheckpointHeader = {
    kind: 'workstation-checkpoint',
    createdAt: new Date().toISOString(),
    ...input.header,
    arch: input.model.arch,
    numClasses: input.model.numClasses,
    widthMultiplier: input.model.widthMultiplier,
    trainableParams: input.model.trainableParams,
    nonTrainableParams: input.model.nonTrainableParams,
    weightsSha256: wsha,
    optimizerState: input.optimizer.map((a) => a.name),
  };
  const enc = encodeCheckpoint(header, model, input.optimizer);
  removeStaleTemps(path.dirname(input.file));
  writeFileAtomic(input.file, enc.parts, input.hooks);
  return { path: input.file, bytes: enc.bytes, sha256: enc.sha256, weightsSha256: wsha };
}

function summarize(file: string, h: CheckpointHeader, bytes: number, sha256: string): CheckpointSummary {
  return {
    path: path.resolve(file),
    epoch: h.epoch,
    step: h.step,
    arch: h.arch,
    numClasses: h.numClasses,
    widthMultiplier: h.widthMultiplier,
    trainableParams: h.trainableParams,
    nonTrainableParams: h.nonTrainableParams,
    weightsSha256: h.weightsSha256,
    config: h.config,
    metrics: h.metrics,
    scheduler: h.scheduler,
    bytes,
    sha256,
    createdAt: h.createdAt,
    checkpointKind: checkpointPosition(h).kind,
    stepInEpoch: checkpointPosition(h).stepInEpoch,
  };
}

export async function inspectCheckpoint(file: string): Promise<CheckpointSummary> {
  const f = readCheckpointFile<CheckpointHeader>(file, false);
  if (f.header.kind !== 'workstation-checkpoint') throw new WorkstationError('CHECKPOINT_CORRUPT', `${file} is not a workstation checkpoint`, { path: file });
  return summarize(file, f.header, f.bytes, f.sha256);
}

export interface LoadedCheckpoint {
  summary: CheckpointSummary;
  header: CheckpointHeader;
  optimizer: NamedArray[];
}

/**
 * Loads a checkpoint into `model`. Everything is checked before any variable is assigned:
 * arch / classes / width, then every variable's name and shape, so a mismatch never loads partially.
 */
export function loadCheckpointInto(file: string, model: Model): LoadedCheckpoint {
  const f = readCheckpointFile<CheckpointHeader>(file, true);
  const h = f.header;
  const diffs: string[] = [];
  if (h.arch !== model.arch) diffs.push(`arch ${h.arch} vs ${model.arch}`);
  if (h.numClasses !== model.numClasses) diffs.push(`numClasses ${h.numClasses} vs ${model.numClasses}`);
  if (h.widthMultiplier !== model.widthMultiplier) diffs.push(`widthMultiplier ${h.widthMultiplier} vs ${model.widthMultiplier}`);
  if (diffs.length)
    throw new WorkstationError('CHECKPOINT_MISMATCH', `checkpoint ${file} does not match the model: ${diffs.join(', ')} (checkpoint vs config)`, {
      path: file,
      field: 'model',
    });
  if (f.model.length !== model.vars.length)
    throw new WorkstationError('CHECKPOINT_MISMATCH', `checkpoint ${file} has ${f.model.length} model variables, the model ${model.vars.length}`, {
      path: file,
    });
  model.vars.forEach((v, i) => {
    const a = f.model[i];
    if (a.name !== v.name || a.shape.join('x') !== v.shape.join('x')) {
      throw new WorkstationError(
        'CHECKPOINT_MISMATCH',
        `checkpoint ${file}: variable ${i} is ${a.name} [${a.shape}], the model expects ${v.name} [${v.shape}]`,
        { path: file },
      );
    }
  });
  model.vars.forEach((v, i) => {
    const t = tensorOf(f.model[i]);
    v.variable.assign(t);
    t.dispose();
  });
  return { summary: summarize(file, h, f.bytes, f.sha256), header: h, optimizer: f.optimizer };
}

function tensorOf(a: NamedArray): tf.Tensor {
  return tf.tensor(a.data, a.shape, 'float32');
}

/** Checkpoint file name for an epoch: epoch-0003.ckpt */
export function checkpointName(epoch: number): string {
  return `epoch-${String(epoch).padStart(4, '0')}.ckpt`;
}

/** Mid-epoch checkpoint file name: epoch-0003.step-000120.ckpt (never matched by rotation) */
export function midEpochCheckpointName(epoch: number, stepInEpoch: number): string {
  return `epoch-${String(epoch).padStart(4, '0')}.step-${String(stepInEpoch).padStart(6, '0')}.ckpt`;
}

export const MID_EPOCH_NAME = /^epoch-\d+\.step-\d+\.ckpt$/;

export interface RotationEntry {
  path: string;
  epoch: number;
  valTop1: number | null;
}

/** Lists finished checkpoints in `dir` with their val top-1 (headers only; unreadable files are skipped). */
export async function listCheckpoints(dir: string): Promise<RotationEntry[]> {
  if (!fs.existsSync(dir)) return [];
  const out: RotationEntry[] = [];
  for (const name of fs
    .readdirSync(dir)
    .filter((n) => /^epoch-\d+\.ckpt$/.test(n))
    .sort()) {
    try {
      const s = await inspectCheckpoint(path.join(dir, name));
      out.push({ path: path.join(dir, name), epoch: s.epoch, valTop1: s.metrics?.valTop1 ?? null });
    } catch {
      // a corrupt file is not ours to delete; leave it for the user to inspect
    }
  }
  return out.sort((a, b) => a.epoch - b.epoch);
}

/** The best entry by val top-1 (earliest wins ties); null when no entry has a val top-1. */
export function bestCheckpoint(entries: RotationEntry[]): RotationEntry | null {
  let best: RotationEntry | null = null;
  for (const e of entries) if (e.valTop1 !== null && (best === null || e.valTop1 > (best.valTop1 as number))) best = e;
  return best;
}

/**
 * Keeps the last `keepLast` plus (optionally) the best and any pinned file (one a queued or
 * running child run starts from); deletes the rest and returns their paths.
 */
export function rotateCheckpoints(
  entries: RotationEntry[],
  keepLast: number,
  keepBest: boolean,
  pinned: ReadonlySet<string> = new Set(),
  opts: { remove?: boolean } = {},
): string[] {
  const sorted = [...entries].sort((a, b) => a.epoch - b.epoch);
  const keep = new Set(sorted.slice(-keepLast).map((e) => e.path));
  for (const e of sorted) if (pinned.has(path.resolve(e.path))) keep.add(e.path);
  const best = keepBest ? bestCheckpoint(sorted) : null;
  if (best) keep.add(best.path);
  const removed: string[] = [];
  for (const e of sorted) {
    if (keep.has(e.path)) continue;
    // remove: false only plans (the caller deletes once the new checkpoint is recorded)
    if (opts.remove !== false) fs.rmSync(e.path, { force: true });
    removed.push(e.path);
  }
  return removed;
}
