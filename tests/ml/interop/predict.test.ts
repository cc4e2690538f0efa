// `workstation predict`: JSON of [{image, top: [{classIndex, wnid, name, prob}], logits}] computed
// with the run's validation transform; probabilities are the softmax of the logits, sorted; the
// logits are the model's on exactly the pixels validation would feed it; classes come from
// --classes or the run's dataset; a file that is not an image is an error naming it.
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareImage } from '../../../src-main/cli/commands/predict';
import { prepareImages } from '../../../src-main/ml/augment/prepare-batch';
import { CLASSES_TSV, sampleFiles, tempDir } from '../../helpers/samples';
import { cli } from './cli';
import { interopConfig, writeTestCheckpoint, type TestCheckpoint } from './fixtures';

interface Prediction {
  image: string;
  top: { classIndex: number; wnid: string | null; name: string | null; prob: number }[];
  logits: number[];
}

let dir: string;
let ck: TestCheckpoint;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = tempDir('predict-');
  ck = writeTestCheckpoint(dir, interopConfig({ model: { numClasses: 1000, widthMultiplier: 1 / 16 } }));
});

describe('workstation predict', () => {
  it('prints top-k classes (softmax of the logits, sorted) with wnid and name, and the logits of the validation-transformed images', async () => {
    const files = sampleFiles().slice(0, 3);
    const r = await cli(['predict', '--checkpoint', ck.file, ...files.flatMap((f) => ['--image', f]), '--top', '3', '--classes', CLASSES_TSV, '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Prediction[];
    expect(out.map((p) => p.image)).toEqual(files);
    const tsv = fs
      .readFileSync(CLASSES_TSV, 'utf8')
      .trim()
      .split('\n')
      .slice(1) // header row
      .map((l) => l.split('\t'));
    expect(tsv[0]).toEqual(['0', 'n01440764', 'tench']);
    for (const p of out) {
      expect(p.logits).toHaveLength(1000);
      expect(p.top).toHaveLength(3);
      const max = Math.max(...p.logits);
      const z = p.logits.reduce((a, v) => a + Math.exp(v - max), 0);
      const argmax = p.logits.indexOf(max);
      expect(p.top[0].classIndex).toBe(argmax);
      for (const t of p.top) {
        expect(t.prob).toBeCloseTo(Math.exp(p.logits[t.classIndex] - max) / z, 12);
        expect([t.wnid, t.name]).toEqual([tsv[t.classIndex][1], tsv[t.classIndex][2]]);
      }
      expect(p.top[0].prob).toBeGreaterThanOrEqual(p.top[1].prob);
      expect(p.top[1].prob).toBeGreaterThanOrEqual(p.top[2].prob);
    }
    // the logits are the model's (eval mode) on the validation transform's pixels: resize 40, centre crop 32
    const px = await Promise.all(files.map((f) => prepareImage(f, { mode: 'resize-center-crop', resize: 40, size: 32 })));
    const batch = new Uint8Array(3 * 32 * 32 * 3);
    px.forEach((p, i) => batch.set(p.pixels, i * 32 * 32 * 3));
    const logits = tf.tidy(() => ck.model.forward(prepareImages(batch, [3, 32, 32], null, ck.config.augment.normalize), false).arraySync());
    logits.forEach((row, i) => row.forEach((v, c) => expect(out[i].logits[c]).toBe(v)));
  });

  it("uses the run's dataset classes by default (the demo dataset here) and prints a readable table without --json", async () => {
    const small = writeTestCheckpoint(tempDir('predict-'), interopConfig());
    small.model.dispose();
    const r = await cli(['predict', '--checkpoint', small.file, '--image', sampleFiles()[0], '--top', '2'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(sampleFiles()[0]);
    expect(r.stdout).toMatch(/%\s+\d+\s+n0000000\d\s+\w+/);
  });

  it('an input that is not an image (or is cut short, or missing) is an error naming the file', async () => {
    const notImage = path.join(dir, 'notes.JPEG');
    fs.writeFileSync(notImage, 'these are not pixels\n');
    const truncated = path.join(dir, 'cut.JPEG');
    const jpeg = fs.readFileSync(sampleFiles()[1]);
    fs.writeFileSync(truncated, jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    for (const [file, why] of [
      [notImage, /is not an image that can be read/],
      [truncated, /is not an image that can be read \(truncated JPEG/],
      [path.join(dir, 'missing.jpg'), /no such file/],
    ] as const) {
      const r = await cli(['predict', '--checkpoint', ck.file, '--image', sampleFiles()[0], '--image', file, '--json'], dir);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`--image ${file}`);
      expect(r.stderr).toMatch(why);
    }
  });
});
