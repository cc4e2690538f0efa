// A workstation checkpoint as a torchvision-named .safetensors file, and back.
//
//  - `export --format torchvision`: the model only (loads into torchvision.models.resnet50 with
//    strict=True at width 1), plus __metadata__ describing it (see exportMetadata).
//  - scale-out: the model, the SGD momentum buffers (`optimizer.momentum_buffer.<torchvision name>`,
//    torchvision layouts) and, in __metadata__.workstation_checkpoint, the checkpoint header as JSON
//    (epoch, step, schedule position, config, augmentation in effect, metrics). train_ddp.py
//    (resources/scale-out) reads and writes exactly this, so its epoch checkpoints convert back
//    into ordinary workstation checkpoints (importSafetensorsCheckpoint), bit for bit.
// No tfjs here: conversions work on the stored float32 arrays.
import path from 'node:path';
import type { AugmentParams } from '../../../src-shared/config/augment';
import { resolveRunConfig, type RunConfig } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';
import type { EpochMetrics } from '../../../src-shared/metrics';
import { checkpointPosition, type CheckpointHeader, type SchedulerState } from '../checkpoint';
import { encodeCheckpoint, readCheckpointFile, weightsSha256, writeFileAtomic, type NamedArray } from '../checkpoint-file';
import { describeModel } from '../models/index';
import { readSafetensorsFile, writeSafetensorsFile, type SafeTensor } from './safetensors';
import { fromTorchvisionTensors, momentumToTorch, toTorchvisionTensors } from './torchvision-names';

export const SAFETENSORS_CHECKPOINT_FORMAT = 'workstation-safetensors-checkpoint-1';

/** How validation (and prediction) images are prepared, as the export records it. */
export interface ValTransformInfo {
  mode: RunConfig['data']['valTransform'];
  resize: number;
  size: number;
  interpolation: 'bilinear';
  mean: readonly number[];
  std: readonly number[];
}

export function valTransformOf(config: Readonly<RunConfig>, augment: AugmentParams = config.augment): ValTransformInfo {
  return {
    mode: config.data.valTransform,
    resize: config.data.valResize,
    size: config.data.valSize,
    interpolation: 'bilinear',
    mean: augment.normalize.mean,
    std: augment.normalize.std,
  };
}

export interface ClassInfo {
  wnid: string;
  name: string;
}

/** A checkpoint file read whole: header, model and optimizer arrays. */
export interface LoadedCheckpointFile {
  header: CheckpointHeader;
  model: NamedArray[];
  optimizer: NamedArray[];
  /** the run config (validated) and the augmentation in effect at the checkpoint */
  config: Readonly<RunConfig>;
  augment: AugmentParams;
}

export function readWorkstationCheckpoint(file: string): LoadedCheckpointFile {
  const f = readCheckpointFile<CheckpointHeader>(file, true);
  if (f.header.kind !== 'workstation-checkpoint') throw new WorkstationError('CHECKPOINT_CORRUPT', `${file} is not a workstation checkpoint`, { path: file });
  const config = resolveRunConfig([f.header.config], file);
  return { header: f.header, model: f.model, optimizer: f.optimizer, config, augment: f.header.augment ?? config.augment };
}

/** __metadata__ of an export: strings only (the format's rule); lists and objects as JSON. */
export function exportMetadata(ck: LoadedCheckpointFile, classes: readonly ClassInfo[] | null): Record<string, string> {
  const h = ck.header;
  const pos = checkpointPosition(h);
  const md: Record<string, string> = {
    format: 'pt',
    producer: 'imagenet-workstation',
    arch: h.arch,
    classes: String(h.numClasses),
    width: String(h.widthMultiplier),
    epoch: String(h.epoch),
    completed_epochs: String(pos.completedEpochs),
    checkpoint_kind: pos.kind,
    global_step: String(h.step),
    weights_sha256: h.weightsSha256,
    val_transform: JSON.stringify(valTransformOf(ck.config, ck.augment)),
  };
  if (classes) {
    md.wnids = JSON.stringify(classes.map((c) => c.wnid));
    md.class_names = JSON.stringify(classes.map((c) => c.name));
  }
  return md;
}

export interface ExportOptions {
  classes: readonly ClassInfo[] | null;
  /** also write the momentum buffers and the checkpoint header (a scale-out starting point) */
  withTrainingState?: boolean;
}

/** Writes a checkpoint's weights as torchvision's state_dict to `out`; returns the tensors written and the size. */
export function exportTorchvision(
  ck: LoadedCheckpointFile,
  out: string,
  opts: ExportOptions,
): { tensors: number; bytes: number; metadata: Record<string, string> } {
  const spec = describeModel({ arch: 'resnet50', numClasses: ck.header.numClasses, widthMultiplier: ck.header.widthMultiplier });
  const tensors: SafeTensor[] = toTorchvisionTensors(spec, ck.model, ck.header.step);
  const metadata = exportMetadata(ck, opts.classes);
  if (opts.withTrainingState) {
    tensors.push(...momentumToTorch(spec, ck.optimizer));
    metadata.format_workstation = SAFETENSORS_CHECKPOINT_FORMAT;
    metadata.workstation_checkpoint = JSON.stringify(trainingState(ck));
  }
  const bytes = writeSafetensorsFile(out, tensors, metadata);
  return { tensors: tensors.length, bytes, metadata };
}

/** The header fields a continuation needs (what train_ddp.py reads and writes back). */
function trainingState(ck: LoadedCheckpointFile): SafetensorsHeader {
  const h = ck.header;
  const pos = checkpointPosition(h);
  return {
    checkpointKind: pos.kind,
    epoch: h.epoch,
    stepInEpoch: pos.stepInEpoch,
    step: h.step,
    stepsPerEpoch: h.stepsPerEpoch,
    config: h.config,
    metrics: h.metrics,
    scheduler: h.scheduler,
    augment: ck.augment,
    ...(h.partial ? { partial: h.partial } : {}),
    rng: h.rng,
    backend: h.backend,
  };
}

/** What train_ddp.py records in __metadata__.workstation_checkpoint (and an export with training state). */
interface SafetensorsHeader {
  checkpointKind?: 'epoch' | 'mid-epoch';
  epoch: number;
  stepInEpoch?: number;
  step: number;
  stepsPerEpoch: number;
  config: unknown;
  metrics: EpochMetrics | null;
  scheduler: SchedulerState;
  augment?: AugmentParams;
  partial?: CheckpointHeader['partial'];
  rng?: CheckpointHeader['rng'];
  backend?: string;
  engine?: string;
}

function parseHeader(file: string, md: Record<string, string>): SafetensorsHeader {
  const raw = md.workstation_checkpoint;
  if (!raw)
    throw new WorkstationError(
      'CHECKPOINT_MISMATCH',
      `${file} has no workstation_checkpoint metadata: it holds weights only (a torchvision export or state_dict); start a run from it with \`workstation train --init-weights ${file}\``,
      { path: file },
    );
  let h: SafetensorsHeader;
  try {
    h = JSON.parse(raw) as SafetensorsHeader;
  } catch (e) {
    throw new WorkstationError('CHECKPOINT_CORRUPT', `${file}: workstation_checkpoint metadata is not JSON (${(e as Error).message})`, { path: file });
  }
  for (const k of ['epoch', 'step', 'stepsPerEpoch'] as const)
    if (!Number.isSafeInteger(h[k]) || h[k] < 0)
      throw new WorkstationError('CHECKPOINT_CORRUPT', `${file}: workstation_checkpoint.${k} must be a non-negative integer`, { path: file, field: k });
  if (typeof h.scheduler !== 'object' || h.scheduler === null || typeof h.scheduler.totalSteps !== 'number')
    throw new WorkstationError('CHECKPOINT_CORRUPT', `${file}: workstation_checkpoint.scheduler is missing`, { path: file, field: 'scheduler' });
  return h;
}

export interface ImportedCheckpoint {
  path: string;
  bytes: number;
  sha256: string;
  weightsSha256: string;
  header: CheckpointHeader;
}

/**
 * Converts a workstation safetensors checkpoint (train_ddp.py's epoch checkpoints, or a scale-out
 * starting point) into a workstation checkpoint at `out`: same header fields, weights and momentum
 * buffers in our names and layouts. `backend` names the engine that wrote it.
 */
export function importSafetensorsCheckpoint(file: string, out: string): ImportedCheckpoint {
  const st = readSafetensorsFile(file);
  const h = parseHeader(file, st.metadata);
  const config = resolveRunConfig([h.config], `${file} (workstation_checkpoint.config)`);
  const spec = describeModel(config.model);
  const converted = fromTorchvisionTensors(spec, st.tensors, file, { allowMomentum: true });
  const wsha = weightsSha256(converted.model.map((a) => a.data));
  const header: CheckpointHeader = {
    kind: 'workstation-checkpoint',
    createdAt: new Date().toISOString(),
    checkpointKind: h.checkpointKind ?? 'epoch',
    stepInEpoch: h.stepInEpoch ?? h.stepsPerEpoch,
    augment: h.augment ?? config.augment,
    ...(h.partial ? { partial: h.partial } : {}),
    epoch: h.epoch,
    step: h.step,
    stepsPerEpoch: h.stepsPerEpoch,
    arch: spec.arch,
    numClasses: spec.numClasses,
    widthMultiplier: spec.widthMultiplier,
    trainableParams: spec.trainableParams,
    nonTrainableParams: spec.nonTrainableParams,
    weightsSha256: wsha,
    config: config as RunConfig,
    metrics: h.metrics ?? null,
    scheduler: h.scheduler,
    optimizerState: converted.momentum.map((m) => m.name),
    rng: h.rng ?? { seed: config.seed, scheme: 'counter-based: hashKeys(seed, purpose, epoch, sampleId)' },
    backend: h.backend ?? h.engine ?? 'pytorch',
  };
  const enc = encodeCheckpoint(header, converted.model, converted.momentum);
  writeFileAtomic(path.resolve(out), enc.parts);
  return { path: path.resolve(out), bytes: enc.bytes, sha256: enc.sha256, weightsSha256: wsha, header };
}
