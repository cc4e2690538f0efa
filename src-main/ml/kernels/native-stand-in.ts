// A stand-in for tfjs-node's 'tensorflow' backend on a machine without libtensorflow, so the
// native code path can run (and be counted and tested) anywhere: a pure-JS cpu backend instance
// registered under the name 'tensorflow', with
//  - tfjs's built-in cpu kernels registered for 'tensorflow' (each stands for tfjs-node's kernel of
//    the same name), wrapped with the padding restrictions tfjs-node's kernels have (their
//    backprop and pooling kernels throw on anything but 'valid'/'same'), and
//  - executeSingleOutput / executeMultipleOutputs that run the few TensorFlow ops our 'tensorflow'
//    kernels issue (kernels/tensorflow/*.ts) in JavaScript, checking their attributes the way the
//    TF op definitions declare them.
// So our native kernels run unchanged here and every TF op they issue is one call, as on the real
// backend. What the stand-in cannot show is TensorFlow's own numerics: `workstation doctor
// --selftest` checks those where the real backend exists.
import * as tf from '@tensorflow/tfjs';
import { read } from './backend-io';
import { bnBackward, bnForward } from './batch-norm-math';
import { isWsKernel } from './names';
import type { TfBinding, TfeOpAttr } from './tensorflow/native';

/** TF_AttrType / TF_DataType values of TensorFlow's C API, as tfjs-node's binding exposes them. */
const BINDING: TfBinding = { TF_ATTR_STRING: 0, TF_ATTR_INT: 1, TF_ATTR_FLOAT: 2, TF_ATTR_BOOL: 3, TF_ATTR_TYPE: 4, TF_FLOAT: 1, TF_INT32: 3 };

type AttrKind = 'type' | 'float' | 'int' | 'ints' | 'bool' | 'string';
const KIND_TYPE: Record<AttrKind, number> = {
  type: BINDING.TF_ATTR_TYPE,
  float: BINDING.TF_ATTR_FLOAT,
  int: BINDING.TF_ATTR_INT,
  ints: BINDING.TF_ATTR_INT,
  bool: BINDING.TF_ATTR_BOOL,
  string: BINDING.TF_ATTR_STRING,
};

interface OpResult {
  values: Float32Array;
  shape: number[];
}
interface EmulatedOp {
  /** required attributes; `?` suffix: optional */
  attrs: Record<string, AttrKind>;
  inputs: number | 'N';
  outputs: number | 'num';
  run(ins: tf.TensorInfo[], a: Record<string, TfeOpAttr['value']>, be: tf.KernelBackend): OpResult[];
}

const size = (shape: number[]) => shape.reduce((x, y) => x * y, 1);
const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

function elementwise(fn: (a: number, b: number) => number): EmulatedOp {
  return {
    attrs: { T: 'type' },
    inputs: 2,
    outputs: 1,
    run([x, y], _a, be) {
      const xs = read(be, x);
      const ys = read(be, y);
      const scalarY = size(y.shape) === 1 && y.shape.length <= 1 ? ys[0] : null;
      if (scalarY === null && !same(x.shape, y.shape)) throw new Error(`shapes [${x.shape}] and [${y.shape}] (the stand-in broadcasts scalars only)`);
      const out = new Float32Array(xs.length);
      for (let i = 0; i < out.length; i++) out[i] = fn(xs[i], scalarY ?? ys[i]);
      return [{ values: out, shape: x.shape }];
    },
  };
}

function unary(fn: (a: number) => number): EmulatedOp {
  return {
    attrs: { T: 'type' },
    inputs: 1,
    outputs: 1,
    run([x], _a, be) {
      const xs = read(be, x);
      return [{ values: Float32Array.from(xs, fn), shape: x.shape }];
    },
  };
}

function cpuKernel(name: string, args: Parameters<tf.KernelFunc>[0]): OpResult {
  const info = tf.getKernel(name, 'cpu').kernelFunc(args) as tf.TensorInfo;
  const be = args.backend as tf.KernelBackend;
  const values = Float32Array.from(read(be, info));
  be.disposeData(info.dataId);
  return { values, shape: info.shape };
}

const CONV_ATTRS: Record<string, AttrKind> = {
  T: 'type',
  strides: 'ints',
  padding: 'string',
  data_format: 'string',
  use_cudnn_on_gpu: 'bool',
  dilations: 'ints',
  'explicit_paddings?': 'ints',
};

function convPad(a: Record<string, TfeOpAttr['value']>): 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]] {
  if (a.data_format !== 'NHWC') throw new Error(`data_format ${a.data_format} (NHWC expected)`);
  const d = a.dilations as number[];
  if (d.some((v) => v !== 1)) throw new Error('dilations other than 1');
  const s = a.strides as number[];
  if (s.length !== 4 || s[0] !== 1 || s[3] !== 1 || s[1] !== s[2]) throw new Error(`strides [${s}]`);
  const e = a.explicit_paddings as number[] | undefined;
  if (a.padding === 'EXPLICIT') {
    if (!e || e.length !== 8 || e[0] || e[1] || e[6] || e[7]) throw new Error(`padding EXPLICIT needs explicit_paddings of 8 (NHWC), got [${e}]`);
    return [
      [0, 0],
      [e[2], e[3]],
      [e[4], e[5]],
      [0, 0],
    ];
  }
  if (e && e.length > 0) throw new Error(`explicit_paddings given with padding ${a.padding}`);
  if (a.padding === 'VALID') return 'valid';
  if (a.padding === 'SAME') return 'same';
  throw new Error(`padding ${a.padding}`);
}

function sizes(be: tf.KernelBackend, t: tf.TensorInfo, what: string): [number, number, number, number] {
  if (t.dtype !== 'int32' || !same(t.shape, [4])) throw new Error(`${what} must be int32 [4], got ${t.dtype} [${t.shape}]`);
  return Array.from(read(be, t)) as [number, number, number, number];
}

const BN_ATTRS: Record<string, AttrKind> = { T: 'type', U: 'type', epsilon: 'float', data_format: 'string', is_training: 'bool' };
const channels = (t: tf.TensorInfo) => t.shape[t.shape.length - 1];

const OPS: Record<string, EmulatedOp> = {
  AddV2: elementwise((a, b) => a + b),
  Sub: elementwise((a, b) => a - b),
  Mul: elementwise((a, b) => a * b),
  Relu: unary((v) => (v < 0 ? 0 : v)),
  ReluGrad: {
    attrs: { T: 'type' },
    inputs: 2,
    outputs: 1,
    run([g, f], _a, be) {
      if (!same(g.shape, f.shape)) throw new Error('gradients and features differ in shape');
      const gs = read(be, g);
      const fs = read(be, f);
      return [{ values: Float32Array.from(gs, (v, i) => (fs[i] > 0 ? v : 0)), shape: g.shape }];
    },
  },
  Pack: {
    attrs: { T: 'type', N: 'int', axis: 'int' },
    inputs: 'N',
    outputs: 1,
    run(ins, a, be) {
      if (a.axis !== 0 || a.N !== ins.length) throw new Error(`Pack N=${a.N} axis=${a.axis} for ${ins.length} inputs`);
      const n = size(ins[0].shape);
      const out = new Float32Array(n * ins.length);
      ins.forEach((t, k) => {
        if (!same(t.shape, ins[0].shape)) throw new Error('Pack inputs differ in shape');
        out.set(read(be, t) as Float32Array, k * n);
      });
      return [{ values: out, shape: [ins.length, ...ins[0].shape] }];
    },
  },
  Unpack: {
    attrs: { T: 'type', num: 'int', axis: 'int' },
    inputs: 1,
    outputs: 'num',
    run([x], a, be) {
      if (a.axis !== 0 || a.num !== x.shape[0]) throw new Error(`Unpack num=${a.num} axis=${a.axis} of [${x.shape}]`);
      const shape = x.shape.slice(1);
      const n = size(shape);
      const xs = read(be, x) as Float32Array;
      return Array.from({ length: x.shape[0] }, (_, k) => ({ values: xs.slice(k * n, (k + 1) * n), shape }));
    },
  },
  Conv2D: {
    attrs: CONV_ATTRS,
    inputs: 2,
    outputs: 1,
    run([x, filter], a, backend) {
      return [
        cpuKernel('Conv2D', {
          inputs: { x, filter },
          attrs: { strides: (a.strides as number[])[1], pad: convPad(a), dataFormat: 'NHWC', dilations: 1 },
          backend,
        }),
      ];
    },
  },
  Conv2DBackpropInput: {
    attrs: CONV_ATTRS,
    inputs: 3,
    outputs: 1,
    run([inputSizes, filter, dy], a, backend) {
      const inputShape = sizes(backend, inputSizes, 'input_sizes');
      const attrs = { strides: (a.strides as number[])[1], pad: convPad(a), dataFormat: 'NHWC', inputShape };
      return [cpuKernel('Conv2DBackpropInput', { inputs: { dy, filter }, attrs, backend })];
    },
  },
  Conv2DBackpropFilter: {
    attrs: CONV_ATTRS,
    inputs: 3,
    outputs: 1,
    run([x, filterSizes, dy], a, backend) {
      const filterShape = sizes(backend, filterSizes, 'filter_sizes');
      const attrs = { strides: (a.strides as number[])[1], pad: convPad(a), dataFormat: 'NHWC', filterShape };
      return [cpuKernel('Conv2DBackpropFilter', { inputs: { x, dy }, attrs, backend })];
    },
  },
  FusedBatchNormV3: {
    attrs: { ...BN_ATTRS, exponential_avg_factor: 'float' },
    inputs: 5,
    outputs: 6,
    run([x, scale, offset, mean, variance], a, be) {
      if (a.data_format !== 'NHWC' || a.is_training !== true) throw new Error('the stand-in runs FusedBatchNormV3 in NHWC training mode only');
      const c = channels(x);
      const r = bnForward(read(be, x), c, read(be, scale), read(be, offset), read(be, mean), read(be, variance), {
        epsilon: a.epsilon as number,
        momentum: a.exponential_avg_factor as number,
        relu: false,
      });
      return [
        { values: r.y, shape: x.shape },
        { values: r.runningMean, shape: [c] },
        { values: r.runningVariance, shape: [c] },
        { values: r.mean, shape: [c] },
        { values: r.variance, shape: [c] },
        { values: new Float32Array(0), shape: [0] },
      ];
    },
  },
  FusedBatchNormGradV3: {
    attrs: BN_ATTRS,
    inputs: 6,
    outputs: 5,
    run([dy, x, scale, r1, r2], a, be) {
      if (a.data_format !== 'NHWC' || a.is_training !== true) throw new Error('the stand-in runs FusedBatchNormGradV3 in NHWC training mode only');
      const c = channels(x);
      const r = bnBackward(read(be, dy), read(be, x), c, read(be, scale), read(be, r1), read(be, r2), { epsilon: a.epsilon as number });
      return [
        { values: r.dx, shape: x.shape },
        { values: r.dscale, shape: [c] },
        { values: r.doffset, shape: [c] },
        { values: new Float32Array(0), shape: [0] },
        { values: new Float32Array(0), shape: [0] },
      ];
    },
  },
};

function checkAttrs(op: string, spec: Record<string, AttrKind>, attrs: TfeOpAttr[]): Record<string, TfeOpAttr['value']> {
  const out: Record<string, TfeOpAttr['value']> = {};
  for (const at of attrs) {
    const kind = spec[at.name] ?? spec[`${at.name}?`];
    if (!kind) throw new Error(`${op}: unknown attribute "${at.name}"`);
    if (at.type !== KIND_TYPE[kind]) throw new Error(`${op}: attribute "${at.name}" has type ${at.type}, expected ${kind}`);
    const v = at.value;
    const ok =
      kind === 'ints'
        ? Array.isArray(v) && v.every(Number.isInteger)
        : kind === 'int'
          ? Number.isInteger(v)
          : kind === 'float'
            ? typeof v === 'number'
            : kind === 'bool'
              ? typeof v === 'boolean'
              : kind === 'string'
                ? typeof v === 'string'
                : v === BINDING.TF_FLOAT;
    if (!ok) throw new Error(`${op}: attribute "${at.name}" = ${JSON.stringify(v)} is not a valid ${kind === 'type' ? 'float32 type' : kind}`);
    if (at.name in out) throw new Error(`${op}: attribute "${at.name}" given twice`);
    out[at.name] = v;
  }
  for (const name of Object.keys(spec)) if (!name.endsWith('?') && !(name in out)) throw new Error(`${op}: missing attribute "${name}"`);
  return out;
}

/** The stand-in's TFE_Execute: runs an emulated op and returns tfjs tensors, as tfjs-node's binding does. */
function execute(this: tf.KernelBackend, name: string, attrs: TfeOpAttr[], inputs: tf.TensorInfo[], numOutputs: number): tf.Tensor[] {
  const op = OPS[name];
  if (!op) throw new Error(`native stand-in: TensorFlow op ${name} is not emulated (add it to kernels/native-stand-in.ts)`);
  const a = checkAttrs(name, op.attrs, attrs);
  const wantIn = op.inputs === 'N' ? (a.N as number) : op.inputs;
  if (inputs.length !== wantIn) throw new Error(`${name}: ${inputs.length} inputs, the op takes ${wantIn}`);
  const wantOut = op.outputs === 'num' ? (a.num as number) : op.outputs;
  if (numOutputs !== wantOut) throw new Error(`${name}: asked for ${numOutputs} outputs, the op has ${wantOut}`);
  for (const t of inputs) if (t.dtype !== 'float32' && !name.startsWith('Conv2DBackprop')) throw new Error(`${name}: input of dtype ${t.dtype}`);
  let results: OpResult[];
  try {
    results = op.run(inputs, a, this);
  } catch (e) {
    throw new Error(`${name}: ${(e as Error).message}`);
  }
  return results.map((r) => tf.engine().makeTensorFromTensorInfo({ dataId: this.write(r.values, r.shape, 'float32'), shape: r.shape, dtype: 'float32' }));
}

function standInBackend(cpu: tf.KernelBackend): tf.KernelBackend {
  return Object.assign(cpu, {
    binding: BINDING,
    isNativeStandIn: true,
    executeMultipleOutputs(this: tf.KernelBackend, name: string, attrs: TfeOpAttr[], inputs: tf.TensorInfo[], numOutputs: number) {
      return execute.call(this, name, attrs, inputs, numOutputs);
    },
    executeSingleOutput(this: tf.KernelBackend, name: string, attrs: TfeOpAttr[], inputs: tf.TensorInfo[]) {
      return execute.call(this, name, attrs, inputs, 1)[0];
    },
  });
}

/** tfjs-node kernels that accept only 'valid' / 'same' padding (they throw on numbers and explicit pads). */
const VALID_OR_SAME_ONLY: Record<string, (inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap) => string> = {
  Conv2DBackpropInput: (i, a) =>
    tf.backend_util.computeConv2DInfo(
      a.inputShape as [number, number, number, number],
      i.filter!.shape as [number, number, number, number],
      a.strides as number,
      1,
      a.pad as 'valid',
    ).padInfo.type,
  Conv2DBackpropFilter: (i, a) =>
    tf.backend_util.computeConv2DInfo(
      i.x!.shape as [number, number, number, number],
      a.filterShape as [number, number, number, number],
      a.strides as number,
      1,
      a.pad as 'valid',
    ).padInfo.type,
  MaxPool: (i, a) => poolPad(i.x!, a),
  MaxPoolGrad: (i, a) => poolPad(i.input!, a),
  AvgPool: (i, a) => poolPad(i.x!, a),
  AvgPoolGrad: (i, a) => poolPad(i.input!, a),
};
function poolPad(x: tf.TensorInfo, a: tf.NamedAttrMap): string {
  return tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], a.filterSize as number, a.strides as number, 1, a.pad as 'valid')
    .padInfo.type;
}

function asTensorflowKernel(k: tf.KernelConfig): tf.KernelConfig {
  const check = VALID_OR_SAME_ONLY[k.kernelName];
  if (!check) return { ...k, backendName: 'tensorflow' };
  return {
    ...k,
    backendName: 'tensorflow',
    kernelFunc: (args) => {
      const type = check(args.inputs, args.attrs ?? {});
      // tfjs-node's message, so a test sees what a user would
      if (type !== 'VALID' && type !== 'SAME') throw new Error(`TF Backend supports only 'valid' and 'same' padding while padding was ${type}`);
      return k.kernelFunc(args);
    },
  };
}

let installed: string[] | null = null;

/**
 * Registers the stand-in as 'tensorflow' unless a real 'tensorflow' backend (tfjs-node) is
 * registered. Returns which one 'tensorflow' now is. Does not select it.
 */
export function installNativeStandIn(): 'stand-in' | 'native' {
  if (installed) return 'stand-in';
  if (tf.findBackendFactory('tensorflow')) return 'native';
  const cpuFactory = tf.findBackendFactory('cpu');
  if (!cpuFactory) throw new Error('native stand-in: the cpu backend is not registered');
  tf.registerBackend('tensorflow', () => standInBackend(cpuFactory() as tf.KernelBackend), -1);
  installed = [];
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (isWsKernel(k.kernelName)) continue; // ours stay the native implementations
    if (tf.getKernel(k.kernelName, 'tensorflow')) tf.unregisterKernel(k.kernelName, 'tensorflow');
    tf.registerKernel(asTensorflowKernel(k));
    installed.push(k.kernelName);
  }
  return 'stand-in';
}

/** Removes the stand-in again (tests). The cpu backend is selected if the stand-in was active. */
export async function uninstallNativeStandIn(): Promise<void> {
  if (!installed) return;
  if (tf.getBackend() === 'tensorflow') await tf.setBackend('cpu');
  tf.removeBackend('tensorflow');
  for (const name of installed) tf.unregisterKernel(name, 'tensorflow');
  installed = null;
}

export function isNativeStandIn(backend: unknown): boolean {
  return (backend as { isNativeStandIn?: boolean } | null)?.isNativeStandIn === true;
}
