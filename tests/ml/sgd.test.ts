// SGD against torch.optim.SGD trajectories (fixtures from scripts/golden/sgd.py) on every training
// path (tests/ml/kernel-paths.ts: each backend, the stand-in 'tensorflow', fused kernels and the
// composite path): coupled weight decay honouring the
// per-variable flag, momentum/dampening/Nesterov, lr and momentum changing per step, skipped
// gradients; state round trip; tensor hygiene.
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { OptimizerSchema } from '../../src-shared/config/run-config';
import { isWorkstationError } from '../../src-shared/errors';
import { createOptimizer } from '../../src-main/ml/optim/index';
import { createOptimizer as createSgd, type OptimizerVar } from '../../src-main/ml/optim/sgd';
import type { TestBackend } from '../helpers/backends';
import { describeEachPath } from './kernel-paths';

interface SgdCase {
  name: string;
  dtype: 'float32' | 'float64';
  optimizer: Record<string, unknown>;
  shapes: Record<string, number[]>;
  decay: Record<string, boolean>;
  lr: number[];
  momentum: number[];
  init: Record<string, number[]>;
  grads: Record<string, number[] | null>[];
  params: Record<string, number[]>[];
  buffers: Record<string, number[]>;
}

const golden = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../fixtures/golden/sgd.json'), 'utf8')) as { cases: SgdCase[] };

function makeVars(c: SgdCase): OptimizerVar[] {
  return Object.entries(c.shapes).map(([name, shape]) => ({
    name,
    variable: tf.variable(tf.tensor(c.init[name], shape, 'float32'), true, `${c.name}/${name}/${Math.random()}`),
    decay: c.decay[name],
  }));
}

function gradsAt(c: SgdCase, s: number): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [name, g] of Object.entries(c.grads[s])) if (g !== null) out[name] = tf.tensor(g, c.shapes[name], 'float32');
  return out;
}

/**
 * float32 tolerance: a float32 run (torch and tfjs) differs by rounding order only, a few ulps of the
 * largest term; against the float64 trajectory the inputs' own float32 rounding adds the same order.
 * libtensorflow's float32 kernels may fuse or reorder those ops: 4× the room there.
 */
const TOL: Record<TestBackend, number> = { cpu: 1e-6, tensorflow: 4e-6 };

function expectF32Close(actual: ArrayLike<number>, expected: number[], what: string, backend: TestBackend): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tol = TOL[backend] * Math.max(1, Math.abs(expected[i]));
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) expect.fail(`${what}[${i}]: got ${actual[i]}, PyTorch ${expected[i]}`);
  }
}

function thrown(fn: () => unknown): { code?: string; field?: string; message: string } {
  try {
    fn();
  } catch (e) {
    return isWorkstationError(e) ? { code: e.code, field: e.field, message: e.message } : { message: String(e) };
  }
  return expect.fail('expected an error');
}

describeEachPath('SGD = torch.optim.SGD', (path) => {
  const backend = path.tolerances;
  const opts = { fusedKernels: path.fusedKernels };
  it('golden covers the seed defaults, dampening, Nesterov, OneCycle momentum, excluded decay', () => {
    const names = golden.cases.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['seed-defaults-f32', 'dampening-0.1-f32', 'nesterov-f32', 'onecycle-momentum-f32', 'exclude-bn-bias-f32']));
  });

  for (const c of golden.cases) {
    it(`${c.name}: parameter trajectory and momentum buffers`, () => {
      const vars = makeVars(c);
      const opt = createOptimizer(OptimizerSchema.parse(c.optimizer), vars, opts);
      for (let s = 0; s < c.lr.length; s++) {
        const g = gradsAt(c, s);
        opt.step(g, c.lr[s], c.momentum[s]);
        tf.dispose(Object.values(g));
        for (const v of vars) expectF32Close(v.variable.dataSync(), c.params[s][v.name], `${v.name} after step ${s + 1}`, backend);
      }
      const state = opt.getState();
      expect(state.map((e) => e.name).sort()).toEqual(Object.keys(c.buffers).sort());
      for (const e of state) {
        expect(e.shape).toEqual(c.shapes[e.name]);
        expectF32Close(e.data, c.buffers[e.name], `buffer ${e.name}`, backend);
      }
      opt.dispose();
      for (const v of vars) v.variable.dispose();
    });
  }

  it('state round trip: save after 3 steps, restore into a fresh optimizer, continue identically', () => {
    const c = golden.cases.find((x) => x.name === 'missing-grad-f32')!;
    const straightVars = makeVars(c);
    const straight = createSgd(OptimizerSchema.parse(c.optimizer), straightVars, opts);
    const forkVars = makeVars(c);
    const first = createSgd(OptimizerSchema.parse(c.optimizer), forkVars, opts);
    // step 0 has no gradient for fc.bias: after it, fc.bias has no buffer yet (PyTorch: None)
    const g0 = gradsAt(c, 0);
    first.step(g0, c.lr[0], c.momentum[0]);
    expect(first.getState().map((e) => e.name)).toEqual(['conv.kernel', 'bn.gamma']);
    tf.dispose(Object.values(g0));
    for (let s = 1; s < 3; s++) {
      const g = gradsAt(c, s);
      first.step(g, c.lr[s], c.momentum[s]);
      tf.dispose(Object.values(g));
    }
    // what a checkpoint stores: name → Float32Array (shape from the variable), as the trainer hands it back
    const saved = Object.fromEntries(first.getState().map((e) => [e.name, e.data]));
    first.dispose();
    const resumed = createSgd(OptimizerSchema.parse(c.optimizer), forkVars, opts);
    resumed.setState(saved);
    for (let s = 0; s < c.lr.length; s++) {
      const g = gradsAt(c, s);
      straight.step(g, c.lr[s], c.momentum[s]);
      if (s >= 3) resumed.step(g, c.lr[s], c.momentum[s]);
      tf.dispose(Object.values(g));
    }
    for (let i = 0; i < straightVars.length; i++) expect(Array.from(forkVars[i].variable.dataSync())).toEqual(Array.from(straightVars[i].variable.dataSync()));
    expect(resumed.getState()).toEqual(straight.getState());
    // getState hands out copies: changing them does not touch the optimizer
    resumed.getState()[0].data.fill(123);
    expect(resumed.getState()[0].data[0]).not.toBe(123);
    resumed.dispose();
    straight.dispose();
    for (const v of [...straightVars, ...forkVars]) v.variable.dispose();
  });

  it('setState refuses unknown names and wrong sizes and keeps the previous buffers', () => {
    const c = golden.cases[0];
    const vars = makeVars(c);
    const opt = createSgd(OptimizerSchema.parse(c.optimizer), vars, opts);
    const g = gradsAt(c, 0);
    opt.step(g, 0.1, 0.9);
    tf.dispose(Object.values(g));
    const before = opt.getState();
    expect(thrown(() => opt.setState({ 'conv.kernel': new Float32Array(6), 'layer9.w': new Float32Array(3) }))).toMatchObject({
      code: 'CHECKPOINT_MISMATCH',
      field: 'layer9.w',
    });
    expect(thrown(() => opt.setState([{ name: 'bn.gamma', shape: [5], data: new Float32Array(5) }]))).toMatchObject({
      code: 'CHECKPOINT_MISMATCH',
      field: 'bn.gamma',
    });
    expect(opt.getState()).toEqual(before);
    opt.dispose();
    for (const v of vars) v.variable.dispose();
  });

  it('rejects Nesterov without momentum or with dampening, and gradients of unknown variables', () => {
    const vars = makeVars(golden.cases[0]);
    expect(thrown(() => createSgd(OptimizerSchema.parse({ nesterov: true, dampening: 0.1 }), vars))).toMatchObject({
      code: 'INVALID_CONFIG',
      field: 'optimizer.nesterov',
    });
    expect(thrown(() => createSgd(OptimizerSchema.parse({ nesterov: true, momentum: 0 }), vars)).field).toBe('optimizer.nesterov');
    const opt = createSgd(OptimizerSchema.parse({}), vars, opts);
    const g = tf.zeros([3]);
    expect(thrown(() => opt.step({ nope: g }, 0.1, 0.9))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'nope' });
    g.dispose();
    opt.dispose();
    for (const v of vars) v.variable.dispose();
  });

  it('tensor hygiene: numTensors is the same after step 10 as after step 2; dispose frees the buffers', () => {
    const c = golden.cases.find((x) => x.name === 'dampening-0.1-f32')!;
    const vars = makeVars(c);
    const opt = createSgd(OptimizerSchema.parse({ ...c.optimizer, nesterov: false }), vars, opts);
    const base = tf.memory().numTensors;
    const counts: number[] = [];
    for (let s = 0; s < 10; s++) {
      const g = gradsAt(c, s % c.lr.length);
      opt.step(g, 0.01, s % 3 === 2 ? 0 : 0.9);
      tf.dispose(Object.values(g));
      counts.push(tf.memory().numTensors);
    }
    expect(counts[9]).toBe(counts[1]);
    expect(counts[1]).toBe(base + vars.length); // one buffer per variable
    opt.getState();
    expect(tf.memory().numTensors).toBe(counts[9]);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(base);
    expect(thrown(() => opt.step({}, 0.1, 0.9)).code).toBe('INVALID_STATE');
    for (const v of vars) v.variable.dispose();
  });
});
