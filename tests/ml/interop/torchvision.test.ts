// Against real torchvision (Debian's python3-torch 1.13 + python3-torchvision 0.14 on
// /usr/bin/python3, installed by .ci/run): a full-width export loads into
// torchvision.models.resnet50(num_classes=1000) with strict=True, and torchvision's logits on the
// shared sample images equal `predict`'s (both sides fed the same validation-transformed pixels);
// and a torchvision state_dict saved from PyTorch loads into our model and gives torchvision's
// logits. Skipped where torch is absent, except in CI, where that is a failure.
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareImage } from '../../../src-main/cli/commands/predict';
import { modelFromArrays } from '../../../src-main/ml/interop/predict';
import { readSafetensorsFile } from '../../../src-main/ml/interop/safetensors';
import { fromTorchvisionTensors } from '../../../src-main/ml/interop/torchvision-names';
import { describeModel } from '../../../src-main/ml/models/index';
import { createRng, RNG_PURPOSE } from '../../../src-shared/random';
import { CLASSES_TSV, sampleFiles, tempDir } from '../../helpers/samples';
import { cli } from './cli';
import { interopConfig, PYTHON, RUN_TORCH_TESTS, TORCH, writeTestCheckpoint } from './fixtures';

const SCRIPT = path.join(__dirname, 'torchvision_check.py');

function python(args: string[]): void {
  if (!TORCH) throw new Error(`${PYTHON} cannot import torch and torchvision: apt-get install python3-torch python3-torchvision (.ci/run does)`);
  const r = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`torchvision_check.py ${args[0]} failed (${r.status}):\n${r.stderr}`);
}

/** |a - b| <= tol · max|a| over whole rows of logits. */
function expectClose(a: number[][], b: number[][], tol: number): void {
  expect(b.length).toBe(a.length);
  const scale = Math.max(...a.flat().map(Math.abs));
  let worst = 0;
  a.forEach((row, i) => row.forEach((v, c) => (worst = Math.max(worst, Math.abs(v - b[i][c])))));
  expect(worst).toBeLessThanOrEqual(tol * scale);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.runIf(RUN_TORCH_TESTS)('torchvision interchange (Debian python3-torch)', () => {
  it("a full-width export loads into torchvision.models.resnet50(num_classes=1000) strictly; its logits equal predict's", async () => {
    const dir = tempDir('torchvision-');
    const size = 128;
    const ck = writeTestCheckpoint(dir, interopConfig({ model: { numClasses: 1000, widthMultiplier: 1 }, data: { valResize: 146, valSize: size } }));
    ck.model.dispose();
    const exported = path.join(dir, 'resnet50.safetensors');
    const e = await cli(['export', '--checkpoint', ck.file, '--format', 'torchvision', '--out', exported, '--classes', CLASSES_TSV], dir);
    expect(e.code, e.stderr).toBe(0);

    const files = sampleFiles().filter((f) => /n01440764|n02096051_Airedale|n02951585_can_opener|n04591713/.test(f)); // incl. gray + EXIF-rotated
    expect(files.length).toBe(4);
    const p = await cli(['predict', '--checkpoint', ck.file, ...files.flatMap((f) => ['--image', f]), '--top', '5', '--classes', CLASSES_TSV, '--json'], dir);
    expect(p.code, p.stderr).toBe(0);
    const predicted = JSON.parse(p.stdout) as { logits: number[]; top: { classIndex: number }[] }[];

    // the very pixels predict fed the model (same process, same transform), for torchvision
    const pixels = path.join(dir, 'pixels.u8');
    const px = await Promise.all(files.map((f) => prepareImage(f, { mode: 'resize-center-crop', resize: 146, size })));
    fs.writeFileSync(pixels, Buffer.concat(px.map((x) => Buffer.from(x.pixels))));
    const out = path.join(dir, 'torch.json');
    python(['load-export', exported, pixels, String(files.length), String(size), out]);
    const torch = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      logits: number[][];
      keys: number;
      missing: string[];
      unexpected: string[];
      wnids: string[];
      num_batches_tracked: number;
    };
    expect(torch.keys).toBe(320);
    expect([torch.missing, torch.unexpected]).toEqual([[], []]); // (strict=True would have raised anyway)
    expect(torch.wnids[0]).toBe('n01440764');
    expect(torch.wnids).toHaveLength(1000);
    expect(torch.num_batches_tracked).toBe(10);
    expectClose(
      predicted.map((q) => q.logits),
      torch.logits,
      1e-4,
    );
    predicted.forEach((q, i) => expect(q.top[0].classIndex).toBe(torch.logits[i].indexOf(Math.max(...torch.logits[i]))));
  });

  it("a state_dict saved by PyTorch from torchvision's resnet50 loads into our model and gives torchvision's logits", () => {
    const dir = tempDir('torchvision-');
    const [n, size] = [2, 64];
    const rng = createRng(9, RNG_PURPOSE.init, -2);
    const input = Float32Array.from({ length: n * size * size * 3 }, () => rng.normal());
    const inputFile = path.join(dir, 'x.f32');
    fs.writeFileSync(inputFile, Buffer.from(input.buffer));
    const st = path.join(dir, 'tv.safetensors');
    const out = path.join(dir, 'torch.json');
    python(['save-torchvision', st, inputFile, String(n), String(size), out]);
    const torch = JSON.parse(fs.readFileSync(out, 'utf8')) as { logits: number[][] };

    const spec = describeModel({ arch: 'resnet50', numClasses: 10, widthMultiplier: 1 });
    const { model: arrays, numBatchesTracked } = fromTorchvisionTensors(spec, readSafetensorsFile(st).tensors, st);
    expect(numBatchesTracked).toBe(7);
    const model = modelFromArrays(spec, arrays);
    const ours = tf.tidy(() => model.forward(tf.tensor4d(input, [n, size, size, 3]), false).arraySync());
    model.dispose();
    expectClose(ours, torch.logits, 1e-4);
  });
});
