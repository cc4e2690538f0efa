// `workstation export --format tfjs`: the folder is a tfjs LayersModel (model.json with a
// layers-model topology and a weights manifest, ≤ 4 MB shards) that tf.loadLayersModel loads, and
// its logits on real, validation-transformed sample images are the checkpoint model's.
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareImage } from '../../../src-main/cli/commands/predict';
import { prepareImages } from '../../../src-main/ml/augment/prepare-batch';
import { folderLoadHandler, SHARD_BYTES } from '../../../src-main/ml/interop/tfjs-export';
import { sampleFiles, tempDir } from '../../helpers/samples';
import { cli } from './cli';
import { interopConfig, writeTestCheckpoint } from './fixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('export --format tfjs', () => {
  it('writes a LayersModel folder that tf.loadLayersModel loads, giving the checkpoint model its logits', async () => {
    const dir = tempDir('tfjs-export-');
    // width 1/4: ~6 MB of weights, so the shards split
    const config = interopConfig({ model: { numClasses: 10, widthMultiplier: 0.25 }, data: { valResize: 73, valSize: 64 } });
    const ck = writeTestCheckpoint(dir, config);
    const out = path.join(dir, 'tfjs');
    const r = await cli(['export', '--checkpoint', ck.file, '--format', 'tfjs', '--out', out, '--backend', 'cpu', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { files: string[]; verify: { maxAbsDiff: number; maxAbsLogit: number } };
    expect(result.verify.maxAbsDiff).toBeLessThanOrEqual(1e-4 * result.verify.maxAbsLogit);

    const json = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')) as {
      format: string;
      modelTopology: { class_name?: string; config: { layers: unknown[] } };
      weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
      userDefinedMetadata: { workstation: { numClasses: number; wnids: string[]; valTransform: { size: number } } };
    };
    expect(json.format).toBe('layers-model');
    expect(json.modelTopology.class_name).toBe('Model');
    const paths = json.weightsManifest[0].paths;
    expect(paths.length).toBeGreaterThan(1);
    expect(paths[0]).toBe(`group1-shard1of${paths.length}.bin`);
    for (const p of paths) expect(fs.statSync(path.join(out, p)).size).toBeLessThanOrEqual(SHARD_BYTES);
    expect(json.weightsManifest[0].weights.find((w) => w.name === 'fc/kernel')?.shape).toEqual([512, 10]);
    expect(json.userDefinedMetadata.workstation.numClasses).toBe(10);
    expect(json.userDefinedMetadata.workstation.wnids).toHaveLength(10); // demo dataset classes (config root null)
    expect(json.userDefinedMetadata.workstation.valTransform.size).toBe(64);

    // an independent load, on real images through the run's validation transform
    const loaded = await tf.loadLayersModel(folderLoadHandler(out));
    const images = await Promise.all(
      sampleFiles()
        .slice(0, 3)
        .map((f) => prepareImage(f, { mode: 'resize-center-crop', resize: 73, size: 64 })),
    );
    const batch = new Uint8Array(3 * 64 * 64 * 3);
    images.forEach((im, i) => batch.set(im.pixels, i * 64 * 64 * 3));
    const x = prepareImages(batch, [3, 64, 64], null, config.augment.normalize);
    const ours = ck.model.forward(x, false);
    const theirs = loaded.predict(x) as tf.Tensor2D;
    const a = ours.dataSync();
    const b = theirs.dataSync();
    const scale = Math.max(...Array.from(a, Math.abs));
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(1e-4 * scale);
    tf.dispose([x, ours, theirs]);
    loaded.dispose();
    ck.model.dispose();
  });

  it('refuses an unknown format, naming the flag', async () => {
    const dir = tempDir('tfjs-export-');
    const ck = writeTestCheckpoint(dir);
    ck.model.dispose();
    const r = await cli(['export', '--checkpoint', ck.file, '--format', 'onnx', '--out', path.join(dir, 'x')], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--format must be one of torchvision, tfjs, got "onnx"/);
  });
});
