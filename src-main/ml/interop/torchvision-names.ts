// Our ResNet-50 variables ↔ torchvision's resnet50 state_dict: names, layouts and dtypes.
//
//   ours (NHWC model)                         torchvision (state_dict)
//   <conv>.kernel       HWIO [kh, kw, in, out] <conv>.weight        OIHW [out, in, kh, kw]
//   <bn>.gamma / .beta                         <bn>.weight / .bias
//   <bn>.running_mean / .running_var           the same names
//   (none)                                     <bn>.num_batches_tracked  int64, shape []
//   fc.kernel           [in, out]              fc.weight            [out, in]
//   fc.bias                                    fc.bias
//
// Module names are already torchvision's (conv1, bn1, layer1.0.conv1 … layer4.2.bn3,
// layerN.0.downsample.0 / .1, fc), and our variable order is the state_dict order, so the list
// below is exactly `torchvision.models.resnet50(num_classes).state_dict().keys()` at width 1. Other
// widths keep the names (the project's own PyTorch model in resources/scale-out uses them).
// Conversions are exact (a permutation of float32 values), so ours → torchvision → ours is
// bit-identical. Loading is strict like `load_state_dict(strict=True)`: every tensor present with
// its shape and dtype, nothing unexpected, or an error naming the first mismatch; nothing is
// assigned until everything checked out.
import * as tf from '@tensorflow/tfjs';
import { WorkstationError } from '../../../src-shared/errors';
import type { NamedArray } from '../checkpoint-file';
import type { Model, ModelSpec } from '../models/index';
import type { VarKind, VarSpec } from '../models/resnet';
import { readSafetensorsFile, type SafeTensor, type SafetensorsContents } from './safetensors';

/** Prefix of SGD momentum buffers in a workstation safetensors checkpoint (scale-out). */
export const MOMENTUM_PREFIX = 'optimizer.momentum_buffer.';

export interface TorchTensorSpec {
  /** torchvision state_dict key */
  name: string;
  shape: number[];
  dtype: 'F32' | 'I64';
  /** our variable, null for num_batches_tracked */
  ours: VarSpec | null;
}

const LEAF: Partial<Record<VarKind, string>> = {
  conv: 'weight',
  'bn-gamma': 'weight',
  'bn-beta': 'bias',
  'bn-mean': 'running_mean',
  'bn-var': 'running_var',
  'fc-kernel': 'weight',
  'fc-bias': 'bias',
};

/** torchvision's key for one of our variables, e.g. layer1.0.conv1.kernel → layer1.0.conv1.weight. */
export function torchvisionName(v: Pick<VarSpec, 'name' | 'kind'>): string {
  const module = v.name.slice(0, v.name.lastIndexOf('.'));
  return `${module}.${LEAF[v.kind]}`;
}

function torchShape(v: VarSpec): number[] {
  if (v.kind === 'conv') {
    const [kh, kw, i, o] = v.shape;
    return [o, i, kh, kw];
  }
  if (v.kind === 'fc-kernel') return [v.shape[1], v.shape[0]];
  return v.shape.slice();
}

/** The torchvision state_dict of a model spec, in state_dict order. */
export function torchvisionLayout(spec: Pick<ModelSpec, 'vars'>): TorchTensorSpec[] {
  const out: TorchTensorSpec[] = [];
  for (const v of spec.vars) {
    out.push({ name: torchvisionName(v), shape: torchShape(v), dtype: 'F32', ours: v });
    // BatchNorm2d's buffers end with num_batches_tracked, right after running_var
    if (v.kind === 'bn-var') out.push({ name: `${v.name.slice(0, v.name.lastIndexOf('.'))}.num_batches_tracked`, shape: [], dtype: 'I64', ours: null });
  }
  return out;
}

/** HWIO → OIHW for conv kernels, [in, out] → [out, in] for the FC kernel, else a copy. */
export function toTorchLayout(v: Pick<VarSpec, 'kind' | 'shape'>, data: Float32Array): Float32Array {
  if (v.kind === 'conv') {
    const [kh, kw, ci, co] = v.shape;
    const out = new Float32Array(data.length);
    for (let h = 0; h < kh; h++)
      for (let w = 0; w < kw; w++)
        for (let i = 0; i < ci; i++) {
          const src = ((h * kw + w) * ci + i) * co;
          for (let o = 0; o < co; o++) out[((o * ci + i) * kh + h) * kw + w] = data[src + o];
        }
    return out;
  }
  if (v.kind === 'fc-kernel') return transpose2d(data, v.shape[0], v.shape[1]);
  return Float32Array.from(data);
}

/** The inverse of toTorchLayout. */
export function fromTorchLayout(v: Pick<VarSpec, 'kind' | 'shape'>, data: Float32Array): Float32Array {
  if (v.kind === 'conv') {
    const [kh, kw, ci, co] = v.shape;
    const out = new Float32Array(data.length);
    for (let o = 0; o < co; o++)
      for (let i = 0; i < ci; i++)
        for (let h = 0; h < kh; h++) {
          const src = ((o * ci + i) * kh + h) * kw;
          for (let w = 0; w < kw; w++) out[((h * kw + w) * ci + i) * co + o] = data[src + w];
        }
    return out;
  }
  if (v.kind === 'fc-kernel') return transpose2d(data, v.shape[1], v.shape[0]);
  return Float32Array.from(data);
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/**
 * Our variables (model order, our layouts) as torchvision's state_dict. `numBatchesTracked` is
 * what every BN layer's counter reads (PyTorch adds one per training forward: the global step).
 */
export function toTorchvisionTensors(spec: Pick<ModelSpec, 'vars'>, arrays: readonly NamedArray[], numBatchesTracked: number): SafeTensor[] {
  const byName = new Map(arrays.map((a) => [a.name, a]));
  return torchvisionLayout(spec).map((t) => {
    if (!t.ours) return { name: t.name, dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(numBatchesTracked)) };
    const a = byName.get(t.ours.name);
    if (!a || a.data.length !== t.ours.shape.reduce((x, y) => x * y, 1))
      throw new WorkstationError('INTERNAL', `torchvision export: no values of the right size for ${t.ours.name}`);
    return { name: t.name, dtype: 'F32', shape: t.shape, data: toTorchLayout(t.ours, a.data) };
  });
}

/** SGD momentum buffers (keyed by our variable names) under torchvision names and layouts. */
export function momentumToTorch(spec: Pick<ModelSpec, 'vars'>, buffers: readonly NamedArray[]): SafeTensor[] {
  const vars = new Map(spec.vars.map((v) => [v.name, v]));
  return buffers.map((b) => {
    const v = vars.get(b.name);
    if (!v) throw new WorkstationError('CHECKPOINT_MISMATCH', `optimizer buffer "${b.name}" matches no model variable`, { field: b.name });
    return { name: MOMENTUM_PREFIX + torchvisionName(v), dtype: 'F32', shape: torchShape(v), data: toTorchLayout(v, b.data) };
  });
}

function describe(spec: Pick<ModelSpec, 'numClasses' | 'widthMultiplier'>): string {
  return `resnet50 with ${spec.numClasses} classes at width ${spec.widthMultiplier}`;
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

export interface FromTorchvisionResult {
  /** our variables, model order, our layouts */
  model: NamedArray[];
  /** momentum buffers found (our names), in model order */
  momentum: NamedArray[];
  /** num_batches_tracked of the first BN layer */
  numBatchesTracked: number;
}

/**
 * torchvision-named tensors → our variables, strictly: the first missing tensor, wrong shape or
 * dtype, or unexpected name is an error naming it (and the file). `allowMomentum`: also accept
 * (and convert) `optimizer.momentum_buffer.<name>` tensors.
 */
export function fromTorchvisionTensors(
  spec: Pick<ModelSpec, 'vars' | 'numClasses' | 'widthMultiplier'>,
  tensors: readonly SafeTensor[],
  file: string,
  opts: { allowMomentum?: boolean } = {},
): FromTorchvisionResult {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const layout = torchvisionLayout(spec);
  const mismatch = (msg: string, field: string) =>
    new WorkstationError('CHECKPOINT_MISMATCH', `${file}: ${msg} (the model is ${describe(spec)})`, { path: file, field });
  const model: NamedArray[] = [];
  let numBatchesTracked: number | null = null;
  for (const t of layout) {
    const got = byName.get(t.name);
    if (!got) throw mismatch(`missing tensor ${t.name} (${t.dtype} ${fmt(t.shape)})`, t.name);
    if (got.shape.length !== t.shape.length || got.shape.some((d, i) => d !== t.shape[i]))
      throw mismatch(`tensor ${t.name} has shape ${fmt(got.shape)}, expected ${fmt(t.shape)}`, t.name);
    if (!t.ours) {
      if (got.dtype !== 'I64') throw mismatch(`tensor ${t.name} is ${got.dtype}, expected I64`, t.name);
      numBatchesTracked ??= Number((got.data as BigInt64Array)[0]);
      continue;
    }
    if (got.dtype !== 'F32') throw mismatch(`tensor ${t.name} is ${got.dtype}, expected F32`, t.name);
    model.push({ name: t.ours.name, shape: t.ours.shape.slice(), data: fromTorchLayout(t.ours, got.data as Float32Array) });
  }
  const known = new Set(layout.map((t) => t.name));
  const momentum: NamedArray[] = [];
  const trainable = new Map(layout.filter((t) => t.ours?.trainable).map((t) => [t.name, t]));
  for (const got of tensors) {
    if (known.has(got.name)) continue;
    if (opts.allowMomentum && got.name.startsWith(MOMENTUM_PREFIX)) {
      const t = trainable.get(got.name.slice(MOMENTUM_PREFIX.length));
      if (t?.ours && got.dtype === 'F32' && got.shape.join('x') === t.shape.join('x')) continue;
      throw mismatch(`momentum buffer ${got.name} matches no trainable tensor of that shape`, got.name);
    }
    throw mismatch(`unexpected tensor ${got.name} (${got.dtype} ${fmt(got.shape)})`, got.name);
  }
  if (opts.allowMomentum) {
    for (const t of layout) {
      const got = t.ours ? byName.get(MOMENTUM_PREFIX + t.name) : undefined;
      if (got && t.ours) momentum.push({ name: t.ours.name, shape: t.ours.shape.slice(), data: fromTorchLayout(t.ours, got.data as Float32Array) });
    }
  }
  return { model, momentum, numBatchesTracked: numBatchesTracked ?? 0 };
}

/** Checks a .safetensors file against a model spec without loading it anywhere (the CLI, before a run is created). */
export function checkTorchvisionWeightsFile(file: string, spec: Pick<ModelSpec, 'vars' | 'numClasses' | 'widthMultiplier'>): SafetensorsContents {
  const contents = readSafetensorsFile(file);
  fromTorchvisionTensors(spec, contents.tensors, file, { allowMomentum: true });
  return contents;
}

/**
 * Loads torchvision-named weights from a .safetensors file into `model` (`train --init-weights`):
 * everything is checked first, then assigned, so a mismatch never loads partially.
 */
export function loadTorchvisionWeightsInto(file: string, model: Model): SafetensorsContents & { numBatchesTracked: number } {
  const contents = readSafetensorsFile(file);
  const spec = { vars: model.vars, numClasses: model.numClasses, widthMultiplier: model.widthMultiplier };
  // a scale-out checkpoint carries momentum buffers as well: init-weights takes its weights only
  const { model: arrays, numBatchesTracked } = fromTorchvisionTensors(spec, contents.tensors, file, { allowMomentum: true });
  model.vars.forEach((v, i) => {
    const t = tf.tensor(arrays[i].data, v.shape, 'float32');
    v.variable.assign(t);
    t.dispose();
  });
  return { ...contents, numBatchesTracked };
}
