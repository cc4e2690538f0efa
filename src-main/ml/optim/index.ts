// Optimizer registry: config `optimizer.name` → factory. Only SGD (torch.optim.SGD semantics) for now.
import type { OptimizerConfig } from '../../../src-shared/config/run-config';
import { createOptimizer as createSgd, type OptimizerOptions, type OptimizerVar, type SgdOptimizer } from './sgd';

export type { OptimizerOptions, NamedArray, NamedArrays, OptimizerStateInput, OptimizerVar, SgdOptimizer } from './sgd';
export type Optimizer = SgdOptimizer;

const OPTIMIZERS: Record<OptimizerConfig['name'], (cfg: OptimizerConfig, vars: OptimizerVar[], opts?: OptimizerOptions) => Optimizer> = {
  sgd: createSgd,
};

export function createOptimizer(cfg: OptimizerConfig, vars: OptimizerVar[], opts: OptimizerOptions = {}): Optimizer {
  return OPTIMIZERS[cfg.name](cfg, vars, opts);
}
