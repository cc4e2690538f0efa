// The set-up the range test (lr-find.ts) and the step-time probe (step-probe.ts) share: the
// config's model (seeded init) and SGD on the backend the run would get, checked against the
// dataset first. Nothing here belongs to a run: the caller disposes it when done.
import type { BatchSource } from '../../src-shared/batch-source';
import type { RunConfig } from '../../src-shared/config/run-config';
import { WorkstationError } from '../../src-shared/errors';
import { selectBackend, type BackendInfo } from './backend';
import { createModel, type Model } from './models/index';
import { createOptimizer, type SgdOptimizer } from './optim/sgd';

export interface ScratchTraining {
  backend: BackendInfo;
  model: Model;
  optimizer: SgdOptimizer;
  dispose(): void;
}

export async function scratchTraining(cfg: Readonly<RunConfig>, source: BatchSource): Promise<ScratchTraining> {
  if (source.numClasses > cfg.model.numClasses)
    throw new WorkstationError(
      'INVALID_CONFIG',
      `model.numClasses is ${cfg.model.numClasses} but the dataset has ${source.numClasses} classes: model.numClasses must be at least the number of classes`,
      { field: 'model.numClasses' },
    );
  if (source.stepsPerEpoch('train') < 1) throw new WorkstationError('DATASET_ERROR', 'the training split yields no batches');
  const backend = await selectBackend(cfg.backend);
  const model = createModel(cfg.model, cfg.seed);
  const optimizer = createOptimizer(
    cfg.optimizer,
    model.vars.filter((v) => v.trainable).map((v) => ({ name: v.name, variable: v.variable, decay: cfg.optimizer.excludeBnAndBias ? v.decay : true })),
  );
  return {
    backend,
    model,
    optimizer,
    dispose() {
      optimizer.dispose();
      model.dispose();
    },
  };
}
