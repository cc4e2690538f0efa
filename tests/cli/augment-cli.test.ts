// `workstation augment preview` end to end: the real CLI bundle (bin/workstation.cjs) on real
// sample JPEGs (incl. the grayscale and the EXIF-rotated one).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DrawnParamsSchema } from '../../src-shared/api/schemas';
import { SAMPLES_DIR, tempDir } from '../helpers/samples';

const BIN = path.resolve(__dirname, '../../bin/workstation.cjs');
const AIREDALE = path.join(SAMPLES_DIR, 'n02096051_Airedale.JPEG');
const CAN_OPENER = path.join(SAMPLES_DIR, 'n02951585_can_opener.JPEG');
const GOLDFINCH = path.join(SAMPLES_DIR, 'n01531178_goldfinch.JPEG');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, 'augment', 'preview', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface PreviewJson {
  samples: { file: string; source: string; params: unknown }[];
}

describe('workstation augment preview', () => {
  it('writes sample-NNN.png and prints the drawn parameters as JSON; the same seed gives identical files', () => {
    const out1 = tempDir('ws-aug-');
    const out2 = tempDir('ws-aug-');
    const args = [
      '--image',
      AIREDALE,
      '--image',
      CAN_OPENER,
      '--image',
      GOLDFINCH,
      '--count',
      '4',
      '--seed',
      '42',
      '--size',
      '64',
      '--backend',
      'cpu',
      '--json',
    ];
    const a = cli([...args, '--out', out1]);
    expect(a.stderr).not.toMatch(/error/);
    expect(a.code).toBe(0);
    const result = JSON.parse(a.stdout) as PreviewJson;
    expect(result.samples.map((s) => path.basename(s.file))).toEqual(['sample-000.png', 'sample-001.png', 'sample-002.png', 'sample-003.png']);
    expect(result.samples.map((s) => s.source)).toEqual([AIREDALE, CAN_OPENER, GOLDFINCH, AIREDALE]);
    expect(fs.readdirSync(out1).sort()).toEqual(['sample-000.png', 'sample-001.png', 'sample-002.png', 'sample-003.png']);
    for (const s of result.samples) {
      expect(path.dirname(s.file)).toBe(out1);
      const p = DrawnParamsSchema.parse(s.params);
      expect(p.jitter!.order).toHaveLength(4);
    }
    const b = cli([...args, '--out', out2]);
    expect(b.code).toBe(0);
    expect((JSON.parse(b.stdout) as PreviewJson).samples.map((s) => s.params)).toEqual(result.samples.map((s) => s.params));
    for (const name of fs.readdirSync(out1)) expect(fs.readFileSync(path.join(out2, name)).equals(fs.readFileSync(path.join(out1, name)))).toBe(true);
  });

  it('--params changes the augmentation: no crop, no flip, jitter always → whole image, jitter applied', async () => {
    const out = tempDir('ws-aug-');
    const params = JSON.stringify({ randomResizedCrop: { enabled: false }, hflip: 0, colorJitter: { p: 1, hue: 0.3 } });
    const r = cli(['--image', CAN_OPENER, '--count', '2', '--seed', '1', '--size', '48', '--params', params, '--out', out, '--backend', 'cpu', '--json']);
    expect(r.code).toBe(0);
    const { samples } = JSON.parse(r.stdout) as PreviewJson;
    const { width, height } = (await sharp(CAN_OPENER).metadata()).autoOrient!;
    expect(height).toBeGreaterThan(width); // EXIF orientation 6: portrait once rotated
    for (const s of samples) {
      const p = DrawnParamsSchema.parse(s.params);
      expect(p.crop).toEqual({ x: 0, y: 0, width, height });
      expect(p.flip).toBe(false);
      expect(p.jitter!.applied).toBe(true);
      expect(Math.abs(p.jitter!.hue)).toBeLessThanOrEqual(0.3);
      const meta = await sharp(s.file).metadata();
      expect([meta.width, meta.height]).toEqual([48, 48]);
    }
  });

  it('prints a readable line per sample without --json', () => {
    const out = tempDir('ws-aug-');
    const r = cli(['--image', GOLDFINCH, '--count', '2', '--seed', '3', '--size', '32', '--out', out, '--backend', 'cpu', '--params', '{"hflip":1}']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^sample-000\.png {2}n01531178_goldfinch\.JPEG {2}crop \d+×\d+\+\d+\+\d+ {2}flipped {2}/);
    expect(r.stderr).toContain(`wrote 2 samples to ${out}`);
  });

  it('bad --params: invalid JSON, out-of-range or unknown fields → exit 2 with the field named', () => {
    const out = tempDir('ws-aug-');
    const base = ['--image', GOLDFINCH, '--out', out, '--backend', 'cpu'];
    const notJson = cli([...base, '--params', '{colorJitter:']);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/error \[INVALID_ARGUMENT\]: --params is not valid JSON/);
    const range = cli([...base, '--params', '{"colorJitter":{"hue":0.7}}']);
    expect(range.code).toBe(2);
    expect(range.stderr).toMatch(/--params: colorJitter\.hue: /);
    const unknown = cli([...base, '--params', '{"colorJiter":{"hue":0.1}}']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--params: colorJiter: unknown field/);
    const merged = cli([...base, '--params', '{"randomResizedCrop":{"scale":[0.5,0.2]}}']);
    expect(merged.code).toBe(2);
    expect(merged.stderr).toMatch(/--params: randomResizedCrop\.scale: range must be \[min, max\]/);
    expect(fs.readdirSync(out)).toEqual([]);
  });

  it('missing image, bad count and missing --out are clear errors', () => {
    const out = tempDir('ws-aug-');
    const missing = path.join(out, 'nope.JPEG');
    const r = cli(['--image', missing, '--out', out, '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error [NOT_FOUND]: image not found: ${missing}`);
    const count = cli(['--image', GOLDFINCH, '--count', '0', '--out', out, '--backend', 'cpu']);
    expect(count.code).toBe(2);
    expect(count.stderr).toMatch(/count must be an integer from 1 to 64, got 0/);
    const noOut = cli(['--image', GOLDFINCH]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/missing required flag --out/);
  });
});
