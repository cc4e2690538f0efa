// Model registry: config arch name → factory. The trainer, CLI and benchmarks build models only here.
import type { ModelConfig } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';
import { countParams, createResnet50, describeResnet50, type ResnetModel, type ResnetSpec } from './resnet';

export type Model = ResnetModel;
export type ModelSpec = ResnetSpec;
export type Arch = ModelConfig['arch'];

interface ArchEntry {
  describe(numClasses: number, widthMultiplier: number): ModelSpec;
  create(opts: { numClasses: number; widthMultiplier: number; seed: number; fusedKernels?: boolean }): Model;
}

const ARCHS: Record<string, ArchEntry> = {
  resnet50: { describe: describeResnet50, create: createResnet50 },
};

export const ARCH_NAMES = Object.keys(ARCHS);

function entry(arch: string): ArchEntry {
  const e = ARCHS[arch];
  if (!e) throw new WorkstationError('INVALID_ARGUMENT', `unknown architecture "${arch}" (known: ${ARCH_NAMES.join(', ')})`, { field: 'model.arch' });
  return e;
}

export interface CreateModelOptions {
  /** train.fusedKernels: the workstation kernels where the backend has them (default true) */
  fusedKernels?: boolean;
}

export function createModel(cfg: Pick<ModelConfig, 'arch' | 'numClasses' | 'widthMultiplier'>, seed: number, opts: CreateModelOptions = {}): Model {
  return entry(cfg.arch).create({ numClasses: cfg.numClasses, widthMultiplier: cfg.widthMultiplier, seed, fusedKernels: opts.fusedKernels });
}

/** The architecture without allocating tensors (model summary, checkpoint checks). */
export function describeModel(
  cfg: Pick<ModelConfig, 'arch' | 'numClasses' | 'widthMultiplier'>,
): ModelSpec & { trainableParams: number; nonTrainableParams: number } {
  const spec = entry(cfg.arch).describe(cfg.numClasses, cfg.widthMultiplier);
  const c = countParams(spec);
  return { ...spec, trainableParams: c.trainable, nonTrainableParams: c.nonTrainable };
}
