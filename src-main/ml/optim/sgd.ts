// SGD with torch.optim.SGD semantics (PyTorch 1.13 … 2.x, `_single_tensor_sgd`), per parameter:
//   d_p = g + weightDecay · p                 (coupled decay; only for variables with decay = true)
//   if momentum != 0:
//     buf = d_p                                (first step of this variable: a copy)
//         | momentum · buf + (1 − dampening) · d_p
//     d_p = nesterov ? d_p + momentum · buf : buf
//   p = p − lr · d_p
// lr and momentum are passed per step (OneCycle cycles momentum); a step with momentum 0 neither
// reads nor updates the buffers, as in PyTorch. Variables without a gradient are skipped.
// State for checkpoints: one momentum buffer per variable name; a variable without an entry has no
// buffer yet (PyTorch's momentum_buffer = None), so its next step starts one from d_p.
// With fused kernels (the default) one WsSgdUpdate kernel updates all variables of a step
// (kernels/cpu/sgd.ts, kernels/tensorflow/sgd.ts); the composite path is ~6 tfjs ops per variable.
import * as tf from '@tensorflow/tfjs';
import { fused, wsSgdUpdate } from '../kernels/ops';
import type { OptimizerConfig } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';

export interface OptimizerVar {
  /** stable name (the model's variable name); keys gradients and state */
  name: string;
  variable: tf.Variable;
  /** apply weight decay (false for BN γ/β and biases when optimizer.excludeBnAndBias) */
  decay: boolean;
}

/** One momentum buffer (same structure as checkpoint-file's NamedArray). */
export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}
export type NamedArrays = NamedArray[];

/** What setState accepts: getState()'s list, or a name → data map (shape taken from the variable). */
export type OptimizerStateInput = NamedArrays | Record<string, Float32Array | { data: Float32Array; shape?: number[] }>;

export interface OptimizerOptions {
  /** train.fusedKernels: one WsSgdUpdate kernel per step where the backend has it (default true) */
  fusedKernels?: boolean;
}

export interface SgdOptimizer {
  step(grads: Record<string, tf.Tensor>, lr: number, momentum: number): void;
  /** momentum buffers that exist, in variable order */
  getState(): NamedArrays;
  /** replaces all buffers; variables not named get none (as before their first step) */
  setState(s: OptimizerStateInput): void;
  dispose(): void;
}

function checkConfig(cfg: OptimizerConfig): void {
  // torch.optim.SGD's constructor check, against the configured momentum
  if (cfg.nesterov && (cfg.momentum <= 0 || cfg.dampening !== 0)) {
    throw new WorkstationError('INVALID_CONFIG', 'optimizer.nesterov: Nesterov momentum requires a momentum and zero dampening', {
      field: 'optimizer.nesterov',
    });
  }
}

function toEntries(s: OptimizerStateInput): { name: string; data: Float32Array; shape?: number[] }[] {
  if (Array.isArray(s)) return s;
  return Object.entries(s).map(([name, v]) => (v instanceof Float32Array ? { name, data: v } : { name, data: v.data, shape: v.shape }));
}

export function createOptimizer(cfg: OptimizerConfig, vars: OptimizerVar[], opts: OptimizerOptions = {}): SgdOptimizer {
  checkConfig(cfg);
  const byName = new Map<string, OptimizerVar>();
  for (const v of vars) {
    if (byName.has(v.name)) throw new WorkstationError('INVALID_ARGUMENT', `optimizer: duplicate variable name "${v.name}"`, { field: v.name });
    byName.set(v.name, v);
  }
  const buffers = new Map<string, tf.Tensor>();
  const { dampening, nesterov, weightDecay } = cfg;
  let disposed = false;

  const clearBuffers = (): void => {
    for (const b of buffers.values()) b.dispose();
    buffers.clear();
  };

  return {
    step(grads, lr, momentum) {
      if (disposed) throw new WorkstationError('INVALID_STATE', 'optimizer was disposed');
      for (const name of Object.keys(grads)) {
        if (!byName.has(name)) throw new WorkstationError('INVALID_ARGUMENT', `optimizer: gradient for unknown variable "${name}"`, { field: name });
      }
      const replaced: tf.Tensor[] = [];
      if (fused(opts.fusedKernels, 'sgd')) {
        const stepped = vars.filter((v) => grads[v.name] !== undefined);
        if (stepped.length === 0) return;
        tf.tidy(() => {
          const out = wsSgdUpdate(
            stepped.map((v) => ({
              param: v.variable,
              grad: grads[v.name],
              decay: v.decay,
              buffer: momentum !== 0 ? (buffers.get(v.name) ?? null) : null,
            })),
            { lr, momentum, dampening, nesterov, weightDecay },
          );
          stepped.forEach((v, i) => {
            v.variable.assign(out.params[i]);
            if (momentum === 0) return;
            const old = buffers.get(v.name);
            if (old !== undefined) replaced.push(old);
            buffers.set(v.name, tf.keep(out.buffers[i]));
          });
        });
        tf.dispose(replaced);
        return;
      }
      tf.tidy(() => {
        for (const v of vars) {
          const g = grads[v.name];
          if (g === undefined) continue;
          const p = v.variable;
          let d: tf.Tensor = v.decay && weightDecay !== 0 ? tf.add(g, tf.mul(p, weightDecay)) : g;
          if (momentum !== 0) {
            const old = buffers.get(v.name);
            const buf = old === undefined ? tf.clone(d) : tf.add(tf.mul(old, momentum), dampening === 0 ? d : tf.mul(d, 1 - dampening));
            // the buffer outlives this tidy; the old one is freed once the step is done
            buffers.set(v.name, tf.keep(buf));
            if (old !== undefined) replaced.push(old);
            d = nesterov ? tf.add(d, tf.mul(buf, momentum)) : buf;
          }
          p.assign(tf.sub(p, tf.mul(d, lr)));
        }
      });
      tf.dispose(replaced);
    },

    getState() {
      const out: NamedArrays = [];
      for (const v of vars) {
        const b = buffers.get(v.name);
        if (b) out.push({ name: v.name, shape: b.shape.slice(), data: Float32Array.from(b.dataSync() as Float32Array) }); // a copy, never the backend's storage
      }
      return out;
    },

    setState(s) {
      const entries = toEntries(s);
      const next = new Map<string, tf.Tensor>();
      try {
        for (const e of entries) {
          const v = byName.get(e.name);
          if (!v) throw new WorkstationError('CHECKPOINT_MISMATCH', `optimizer state: buffer "${e.name}" matches no model variable`, { field: e.name });
          const shape = v.variable.shape;
          if (e.data.length !== v.variable.size || (e.shape && e.shape.join('x') !== shape.join('x'))) {
            throw new WorkstationError(
              'CHECKPOINT_MISMATCH',
              `optimizer state: buffer "${e.name}" has shape [${(e.shape ?? [e.data.length]).join(', ')}], the variable [${shape.join(', ')}]`,
              { field: e.name },
            );
          }
          if (next.has(e.name)) throw new WorkstationError('CHECKPOINT_MISMATCH', `optimizer state: buffer "${e.name}" appears twice`, { field: e.name });
          next.set(e.name, tf.tensor(e.data.slice(), shape, 'float32')); // a copy: the caller keeps its array
        }
      } catch (err) {
        // never a partial load: the previous buffers stay
        for (const t of next.values()) t.dispose();
        throw err;
      }
      clearBuffers();
      for (const [k, t] of next) buffers.set(k, t);
    },

    dispose() {
      clearBuffers();
      disposed = true;
    },
  };
}
