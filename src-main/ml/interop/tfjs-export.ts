// `export --format tfjs`: the model as a tfjs LayersModel folder (model.json + 4 MB weight shards,
// the layout tfjs-converter writes), loadable with `tf.loadLayersModel('…/model.json')` in a
// browser or Node for inference. The graph is our ResNet-50 rebuilt from tf.layers: explicit
// ZeroPadding2D + 'valid' conv (PyTorch's symmetric padding; 'same' pads stride-2 convs
// asymmetrically), BatchNormalization (epsilon 1e-5, running statistics), ZeroPadding2D + max
// pool (inputs are post-ReLU, so zero padding equals PyTorch's -inf padding), GlobalAveragePooling,
// Dense. Input: NHWC float32, already normalised (userDefinedMetadata.workstation.valTransform says
// how); output: logits. verifyTfjsExport loads the folder back and compares logits with ours.
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { WorkstationError } from '../../../src-shared/errors';
import { createRng, RNG_PURPOSE } from '../../../src-shared/random';
import type { NamedArray } from '../checkpoint-file';
import type { Model, ModelSpec } from '../models/index';
import { BN_EPSILON } from '../models/resnet';

/** Shard size tfjs-converter uses (browsers cache files of this size well). */
export const SHARD_BYTES = 4 * 1024 * 1024;

const layerName = (module: string) => module.replace(/\./g, '_');

/** Builds the LayersModel of `spec` with the weights in `arrays` (our names and layouts). */
export function buildLayersModel(spec: ModelSpec, arrays: readonly NamedArray[]): tf.LayersModel {
  const values = new Map(arrays.map((a) => [a.name, a]));
  const pending: { layer: tf.layers.Layer; names: string[] }[] = [];
  const input = tf.input({ shape: [null, null, 3], name: 'input' });
  const pad = (x: tf.SymbolicTensor, p: number, name: string): tf.SymbolicTensor =>
    p > 0
      ? (tf.layers
          .zeroPadding2d({
            padding: [
              [p, p],
              [p, p],
            ],
            name: `${name}_pad`,
          })
          .apply(x) as tf.SymbolicTensor)
      : x;
  const conv = (x: tf.SymbolicTensor, c: ModelSpec['stem']['conv']): tf.SymbolicTensor => {
    const layer = tf.layers.conv2d({ filters: c.outC, kernelSize: c.k, strides: c.stride, padding: 'valid', useBias: false, name: layerName(c.name) });
    pending.push({ layer, names: [`${c.name}.kernel`] });
    return layer.apply(pad(x, c.pad, layerName(c.name))) as tf.SymbolicTensor;
  };
  const bn = (x: tf.SymbolicTensor, b: ModelSpec['stem']['bn']): tf.SymbolicTensor => {
    const layer = tf.layers.batchNormalization({ axis: -1, epsilon: BN_EPSILON, name: layerName(b.name) });
    pending.push({ layer, names: ['gamma', 'beta', 'running_mean', 'running_var'].map((n) => `${b.name}.${n}`) });
    return layer.apply(x) as tf.SymbolicTensor;
  };
  const relu = (x: tf.SymbolicTensor, name: string) => tf.layers.reLU({ name: `${name}_relu` }).apply(x) as tf.SymbolicTensor;

  let h = relu(bn(conv(input, spec.stem.conv), spec.stem.bn), 'stem');
  h = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'maxpool' }).apply(pad(h, 1, 'maxpool')) as tf.SymbolicTensor;
  for (const blk of spec.blocks) {
    const n = layerName(blk.name);
    let y = relu(bn(conv(h, blk.conv1), blk.bn1), `${n}_1`);
    y = relu(bn(conv(y, blk.conv2), blk.bn2), `${n}_2`);
    y = bn(conv(y, blk.conv3), blk.bn3);
    const shortcut = blk.down ? bn(conv(h, blk.down.conv), blk.down.bn) : h;
    h = relu(tf.layers.add({ name: `${n}_add` }).apply([y, shortcut]) as tf.SymbolicTensor, `${n}_out`);
  }
  const pooled = tf.layers.globalAveragePooling2d({ name: 'avgpool' }).apply(h) as tf.SymbolicTensor;
  const fc = tf.layers.dense({ units: spec.numClasses, name: 'fc' });
  pending.push({ layer: fc, names: ['fc.kernel', 'fc.bias'] });
  const output = fc.apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output, name: `resnet50_w${String(spec.widthMultiplier).replace('.', '_')}` });
  for (const { layer, names } of pending) {
    const ts = names.map((name) => {
      const a = values.get(name);
      if (!a) throw new WorkstationError('INTERNAL', `tfjs export: no values for ${name}`);
      return tf.tensor(a.data, a.shape, 'float32');
    });
    layer.setWeights(ts);
    tf.dispose(ts);
  }
  return model;
}

export interface TfjsExportResult {
  dir: string;
  files: string[];
  bytes: number;
}

/** Writes `model` as a LayersModel folder: model.json + group1-shardKofN.bin. */
export async function writeLayersModel(model: tf.LayersModel, dir: string, metadata: Record<string, unknown>): Promise<TfjsExportResult> {
  fs.mkdirSync(dir, { recursive: true });
  model.setUserDefinedMetadata(metadata as object);
  let written: TfjsExportResult | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData ? new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData)) : new Uint8Array(0);
      const count = Math.max(1, Math.ceil(data.length / SHARD_BYTES));
      const paths: string[] = [];
      for (let i = 0; i < count; i++) {
        const name = `group1-shard${i + 1}of${count}.bin`;
        fs.writeFileSync(path.join(dir, name), data.subarray(i * SHARD_BYTES, Math.min(data.length, (i + 1) * SHARD_BYTES)));
        paths.push(name);
      }
      const json = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: 'imagenet-workstation export --format tfjs',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths, weights: artifacts.weightSpecs ?? [] }],
        userDefinedMetadata: artifacts.userDefinedMetadata,
      };
      // model.json last: a reader that finds it finds every shard it names
      const tmp = path.join(dir, `.model.json.tmp-${process.pid}`);
      fs.writeFileSync(tmp, JSON.stringify(json));
      fs.renameSync(tmp, path.join(dir, 'model.json'));
      written = { dir, files: ['model.json', ...paths], bytes: data.length };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: data.length } };
    }),
  );
  if (!written) throw new WorkstationError('INTERNAL', 'tfjs export: the model was not saved');
  return written;
}

/** An IOHandler that loads a LayersModel/GraphModel folder from disk (tfjs-node's file:// without tfjs-node). */
export function folderLoadHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const file = path.join(dir, 'model.json');
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(fs.readFileSync(file, 'utf8')) as tf.io.ModelJSON;
      } catch (e) {
        throw new WorkstationError('NOT_FOUND', `cannot read ${file}: ${(e as Error).message}`, { path: file });
      }
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((g) => g.weights);
        const buffers = manifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
        const all = Buffer.concat(buffers);
        return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
      });
    },
  };
}

/** Exports `arrays` (a checkpoint's model variables) as a LayersModel folder. */
export async function exportTfjs(spec: ModelSpec, arrays: readonly NamedArray[], dir: string, metadata: Record<string, unknown>): Promise<TfjsExportResult> {
  const model = buildLayersModel(spec, arrays);
  try {
    return await writeLayersModel(model, dir, metadata);
  } finally {
    model.dispose();
  }
}

/**
 * Loads the exported folder back with tf.loadLayersModel and compares its logits with `ours` (the
 * workstation model in eval mode) on a seeded random batch; returns the largest absolute difference
 * and the largest |logit| (for a relative reading).
 */
export async function verifyTfjsExport(dir: string, ours: Model, size = 64, batch = 2): Promise<{ maxAbsDiff: number; maxAbsLogit: number }> {
  const loaded = await tf.loadLayersModel(folderLoadHandler(dir));
  try {
    const rng = createRng(7, RNG_PURPOSE.init, -1);
    const x = tf.tensor4d(
      Float32Array.from({ length: batch * size * size * 3 }, () => rng.normal()),
      [batch, size, size, 3],
    );
    try {
      return tf.tidy(() => {
        const a = ours.forward(x, false);
        const b = loaded.predict(x) as tf.Tensor2D;
        return { maxAbsDiff: tf.max(tf.abs(tf.sub(a, b))).dataSync()[0], maxAbsLogit: tf.max(tf.abs(a)).dataSync()[0] };
      });
    } finally {
      x.dispose();
    }
  } finally {
    loaded.dispose();
  }
}
