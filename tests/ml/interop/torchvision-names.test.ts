// Our ResNet-50 ↔ torchvision's resnet50 state_dict: the key list, shapes and dtypes at width 1
// (what `torchvision.models.resnet50().state_dict()` holds: 320 entries, 25,557,032 parameters),
// the layouts (HWIO → OIHW, [in, out] → [out, in]) element by element, the round trip
// ours → .safetensors → ours bit-identical (weights, momentum buffers and header), strict loading
// that names the first mismatch, and `train --init-weights` starting a run from such a file.
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { inspectCheckpoint, modelWeightsSha256 } from '../../../src-main/ml/checkpoint';
import { readCheckpointFile, weightsSha256 } from '../../../src-main/ml/checkpoint-file';
import { exportTorchvision, importSafetensorsCheckpoint, readWorkstationCheckpoint } from '../../../src-main/ml/interop/checkpoint-safetensors';
import { readSafetensorsFile } from '../../../src-main/ml/interop/safetensors';
import { fromTorchLayout, fromTorchvisionTensors, toTorchLayout, torchvisionLayout } from '../../../src-main/ml/interop/torchvision-names';
import { describeModel } from '../../../src-main/ml/models/index';
import { Trainer } from '../../../src-main/ml/trainer';
import { openStore } from '../../../src-main/store/index';
import { createMemoryBatchSource } from '../../helpers/memory-batch-source';
import { tempDir } from '../../helpers/samples';
import { cli } from './cli';
import { interopConfig, writeTestCheckpoint, type TestCheckpoint } from './fixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('torchvision state_dict layout', () => {
  const layout = torchvisionLayout(describeModel({ arch: 'resnet50', numClasses: 1000, widthMultiplier: 1 }));

  it("at width 1 is torchvision's resnet50 state_dict: 320 keys in order, 25,557,032 parameters, int64 num_batches_tracked", () => {
    expect(layout).toHaveLength(320);
    expect(layout.slice(0, 8).map((t) => t.name)).toEqual([
      'conv1.weight',
      'bn1.weight',
      'bn1.bias',
      'bn1.running_mean',
      'bn1.running_var',
      'bn1.num_batches_tracked',
      'layer1.0.conv1.weight',
      'layer1.0.bn1.weight',
    ]);
    const byName = new Map(layout.map((t) => [t.name, t]));
    expect(byName.get('conv1.weight')?.shape).toEqual([64, 3, 7, 7]);
    expect(byName.get('layer1.0.downsample.0.weight')?.shape).toEqual([256, 64, 1, 1]);
    expect(byName.get('layer1.0.downsample.1.running_var')?.shape).toEqual([256]);
    expect(byName.get('layer2.0.conv2.weight')?.shape).toEqual([128, 128, 3, 3]);
    expect(byName.get('layer4.2.bn3.num_batches_tracked')).toMatchObject({ shape: [], dtype: 'I64' });
    expect(byName.get('fc.weight')?.shape).toEqual([1000, 2048]);
    expect(layout[layout.length - 1].name).toBe('fc.bias');
    expect(layout.filter((t) => t.name.endsWith('num_batches_tracked'))).toHaveLength(53);
    expect(layout.filter((t) => t.name.includes('downsample.0.weight')).map((t) => t.name)).toEqual([
      'layer1.0.downsample.0.weight',
      'layer2.0.downsample.0.weight',
      'layer3.0.downsample.0.weight',
      'layer4.0.downsample.0.weight',
    ]);
    const params = layout.filter((t) => t.ours?.trainable).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
    expect(params).toBe(25_557_032);
  });

  it('conv kernels go HWIO → OIHW and the FC kernel [in, out] → [out, in], element by element, and back', () => {
    const conv = { kind: 'conv' as const, shape: [3, 2, 4, 5] };
    const data = Float32Array.from({ length: 120 }, (_, i) => i);
    const t = toTorchLayout(conv, data);
    // ours[h][w][i][o] == torch[o][i][h][w]
    const ours = (h: number, w: number, i: number, o: number) => data[((h * 2 + w) * 4 + i) * 5 + o];
    const torch = (o: number, i: number, h: number, w: number) => t[((o * 4 + i) * 3 + h) * 2 + w];
    for (const [h, w, i, o] of [
      [0, 0, 0, 0],
      [2, 1, 3, 4],
      [1, 0, 2, 3],
      [2, 0, 1, 0],
    ])
      expect(torch(o, i, h, w)).toBe(ours(h, w, i, o));
    expect(fromTorchLayout(conv, t)).toEqual(data);
    const fc = { kind: 'fc-kernel' as const, shape: [3, 2] };
    expect(Array.from(toTorchLayout(fc, Float32Array.of(1, 2, 3, 4, 5, 6)))).toEqual([1, 3, 5, 2, 4, 6]);
  });
});

describe('ours → safetensors → ours', () => {
  let dir: string;
  let ck: TestCheckpoint;
  beforeAll(() => {
    dir = tempDir('tv-names-');
    ck = writeTestCheckpoint(dir);
  });

  it('the torchvision export holds the weights under their names, num_batches_tracked = the global step, and the metadata', () => {
    const out = path.join(dir, 'model.safetensors');
    const loaded = readWorkstationCheckpoint(ck.file);
    exportTorchvision(loaded, out, { classes: [{ wnid: 'n01440764', name: 'tench' }] });
    const st = readSafetensorsFile(out);
    expect(st.tensors).toHaveLength(320);
    expect(st.tensors.find((t) => t.name === 'bn1.num_batches_tracked')?.data).toEqual(BigInt64Array.of(10n));
    expect(st.tensors.some((t) => t.name.startsWith('optimizer.'))).toBe(false); // strict=True in torchvision needs exactly the state_dict
    expect(st.metadata).toMatchObject({ format: 'pt', arch: 'resnet50', classes: '10', width: '0.0625', epoch: '2', wnids: '["n01440764"]' });
    expect(JSON.parse(st.metadata.val_transform)).toEqual({
      mode: 'resize-center-crop',
      resize: 40,
      size: 32,
      interpolation: 'bilinear',
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    });
    const back = fromTorchvisionTensors(describeModel(ck.config.model), st.tensors, out);
    expect(weightsSha256(back.model.map((a) => a.data))).toBe(ck.weightsSha256);
    const original = readCheckpointFile(ck.file).model;
    back.model.forEach((a, i) => {
      expect(a.name).toBe(original[i].name);
      expect(Buffer.from(a.data.buffer).equals(Buffer.from(original[i].data.buffer))).toBe(true);
    });
  });

  it('with the training state, a checkpoint converts back bit-identically: weights, momentum buffers, header', async () => {
    const st = path.join(dir, 'state.safetensors');
    exportTorchvision(readWorkstationCheckpoint(ck.file), st, { classes: null, withTrainingState: true });
    const again = importSafetensorsCheckpoint(st, path.join(dir, 'again.ckpt'));
    const a = readCheckpointFile<Record<string, unknown>>(ck.file);
    const b = readCheckpointFile<Record<string, unknown>>(again.path);
    expect(again.weightsSha256).toBe(ck.weightsSha256);
    expect((await inspectCheckpoint(again.path)).weightsSha256).toBe(ck.weightsSha256);
    for (const group of ['model', 'optimizer'] as const) {
      expect(b[group].map((x) => x.name)).toEqual(a[group].map((x) => x.name));
      b[group].forEach((x, i) => expect(Buffer.from(x.data.buffer).equals(Buffer.from(a[group][i].data.buffer))).toBe(true));
    }
    for (const k of [
      'epoch',
      'step',
      'stepsPerEpoch',
      'checkpointKind',
      'stepInEpoch',
      'scheduler',
      'config',
      'metrics',
      'augment',
      'rng',
      'arch',
      'numClasses',
    ])
      expect(b.header[k], k).toEqual(a.header[k]);
  });

  it('loading is strict: the first missing, misshapen, mistyped or unexpected tensor is named', () => {
    const out = path.join(dir, 'model.safetensors');
    const st = readSafetensorsFile(out);
    const spec = describeModel(ck.config.model);
    const without = st.tensors.filter((t) => t.name !== 'layer2.0.bn1.running_var');
    expect(() => fromTorchvisionTensors(spec, without, out)).toThrow(/missing tensor layer2\.0\.bn1\.running_var \(F32 \[8\]\)/);
    const wide = describeModel({ ...ck.config.model, widthMultiplier: 1 / 8 });
    expect(() => fromTorchvisionTensors(wide, st.tensors, out)).toThrow(
      /tensor conv1\.weight has shape \[4, 3, 7, 7\], expected \[8, 3, 7, 7\] \(the model is resnet50 with 10 classes at width 0\.125\)/,
    );
    const classes = describeModel({ ...ck.config.model, numClasses: 5 });
    expect(() => fromTorchvisionTensors(classes, st.tensors, out)).toThrow(/tensor fc\.weight has shape \[10, 128\], expected \[5, 128\]/);
    const extra = [...st.tensors, { name: 'head.weight', dtype: 'F32' as const, shape: [1], data: new Float32Array(1) }];
    expect(() => fromTorchvisionTensors(spec, extra, out)).toThrow(/unexpected tensor head\.weight/);
    const f64 = st.tensors.map((t) => (t.name === 'bn1.bias' ? { ...t, dtype: 'F64' as const, data: Float64Array.from(t.data as Float32Array) } : t));
    expect(() => fromTorchvisionTensors(spec, f64, out)).toThrow(/tensor bn1\.bias is F64, expected F32/);
  });
});

describe('train --init-weights', () => {
  it('a trainer started from an export holds exactly its weights; a mismatched file is refused before any run exists', async () => {
    const dir = tempDir('init-weights-');
    const config = interopConfig({ train: { epochs: 1, batchSize: 4 }, data: { maxStepsPerEpoch: 1 }, schedule: { policy: 'constant' } });
    const ck = writeTestCheckpoint(dir, config);
    const weights = path.join(dir, 'w.safetensors');
    exportTorchvision(readWorkstationCheckpoint(ck.file), weights, { classes: null });

    const source = await createMemoryBatchSource({ classes: 4, perClass: 2, size: 32, batchSize: 4, seed: 3, maxStepsPerEpoch: 1 });
    const trainer = await Trainer.create({ config, source, checkpointDir: path.join(dir, 'ck'), initWeights: weights });
    try {
      expect(modelWeightsSha256(trainer.model)).toBe(ck.weightsSha256);
    } finally {
      trainer.dispose();
      await source.close?.();
    }

    // the CLI checks the file against the config's model before it creates a run
    const cfgFile = path.join(dir, 'wide.json');
    fs.writeFileSync(cfgFile, JSON.stringify({ ...config, model: { ...config.model, widthMultiplier: 0.125 } }));
    const db = path.join(dir, 'cli.db');
    const r = await cli(['train', '--config', cfgFile, '--init-weights', weights, '--db', db, '--data-dir', path.join(dir, 'data'), '--in-process'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/w\.safetensors: tensor conv1\.weight has shape \[4, 3, 7, 7\], expected \[8, 3, 7, 7\]/);
    const store = openStore(db);
    try {
      expect(store.runs.list()).toEqual([]);
    } finally {
      store.close();
    }
    const both = await cli(['train', '--config', cfgFile, '--init-weights', weights, '--resume', ck.file, '--db', db], dir);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--init-weights starts a new run; it cannot be combined with --resume/);
    // a non-safetensors file is a clear error too
    const junk = path.join(dir, 'junk.safetensors');
    fs.writeFileSync(junk, 'not a safetensors file at all');
    const bad = await cli(['train', '--config', cfgFile, '--init-weights', junk, '--db', db, '--in-process'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/junk\.safetensors is not a valid safetensors file/);
  });
});
