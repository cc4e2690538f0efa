// Geometric transforms on real JPEGs (incl. grayscale and EXIF-rotated samples): torchvision's
// RandomResizedCrop draws, flip, the validation transform, colour conversion to 3-channel sRGB,
// and the shrink-on-load path against the extract-then-resize reference. The sharp path is tested
// everywhere; the native addon (out/native, optional) whenever it loads here, and the loader,
// pointed at a missing or broken addon, falls back to sharp byte for byte.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { AugmentSchema } from '../../src-shared/config/augment';
import { createRng, type Rng } from '../../src-shared/random';
import {
  applyTrainTransform,
  applyValTransform,
  drawRandomResizedCrop,
  drawTrainTransform,
  orientedSize,
  valGeometry,
  type ImagePixels,
} from '../../src-main/data/transform';
import { loadJpegAddon, nativeAddonPath, readJpegHeader, setJpegAddonPath } from '../../src-main/data/jpeg-native';
import { SAMPLES_DIR, sampleFiles, tempDir } from '../helpers/samples';

const AIREDALE = path.join(SAMPLES_DIR, 'n02096051_Airedale.JPEG'); // grayscale
const CAN_OPENER = path.join(SAMPLES_DIR, 'n02951585_can_opener.JPEG'); // EXIF orientation 6
const TENCH = path.join(SAMPLES_DIR, 'n01440764_tench.JPEG');
const DEFAULTS = AugmentSchema.parse({});

/** An Rng that replays fixed uniforms (to check the draw arithmetic against torchvision by hand). */
function scripted(values: number[]): Rng {
  let i = 0;
  const next = () => values[i++];
  return { next, uniform: (lo, hi) => lo + (hi - lo) * next(), normal: () => 0, int: (n) => Math.floor(next() * n), state: () => [i] };
}

function mad(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

function mirror(img: ImagePixels): Uint8Array {
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) for (let c = 0; c < 3; c++) out[(y * img.width + x) * 3 + c] = img.data[(y * img.width + (img.width - 1 - x)) * 3 + c];
  return out;
}

/**
 * A fast path keeps the drawn crop box: per image close to the extract-then-resize reference,
 * on average under `limit` and well under the distance to a box shifted by 10 % of its width.
 */
async function expectKeepsCropBox(fastPath: { native: true } | { native: false; shrinkOnLoad: true }, limit: number): Promise<void> {
  const files = sampleFiles().filter((_, i) => i % 40 === 0);
  let same = 0;
  let shifted = 0;
  let n = 0;
  for (const [i, f] of files.entries()) {
    const buf = fs.readFileSync(f);
    const s = await orientedSize(buf);
    const draw = drawTrainTransform(s.width, s.height, DEFAULTS, createRng(11, i));
    const fast = await applyTrainTransform(buf, draw, 96, { ...fastPath, sourceSize: s });
    const exact = await applyTrainTransform(buf, draw, 96, { fast: false });
    const dx = Math.max(2, Math.round(draw.crop.width * 0.1));
    const moved = { ...draw.crop, x: draw.crop.x + dx <= s.width - draw.crop.width ? draw.crop.x + dx : draw.crop.x - dx };
    if (moved.x < 0) continue;
    const other = await applyTrainTransform(buf, { crop: moved, flip: draw.flip }, 96, { fast: false });
    const m = mad(fast.data, exact.data);
    expect(m).toBeLessThan(16); // per image: sub-pixel alignment and resampling details only
    same += m;
    shifted += mad(fast.data, other.data);
    n++;
  }
  expect(n).toBeGreaterThan(15);
  expect(same / n).toBeLessThan(limit);
  expect(same / n).toBeLessThan(shifted / n / 2);
}

describe('drawRandomResizedCrop (torchvision get_params)', () => {
  it('reproduces the arithmetic of an accepted attempt: area, log-uniform ratio, round half to even, top then left', () => {
    // 500x375: area 187500; scale u=0.5 → 0.54 * area = 101250; log-ratio u=0.5 → ratio 1
    // w = h = round(sqrt(101250)) = round(318.198) = 318; top = floor(0.25 * (375-318+1)) = 14; left = floor(0.75 * (500-318+1)) = 137
    const box = drawRandomResizedCrop(500, 375, [0.08, 1], [3 / 4, 4 / 3], 10, scripted([0.5, 0.5, 0.25, 0.75]));
    expect(box).toEqual({ x: 137, y: 14, width: 318, height: 318 });
  });

  it('falls back to a centre crop with the ratio clamped after the attempts fail', () => {
    // scale (1, 1) with ratio (2, 3) never fits in a 100x100 image; in_ratio 1 < 2 → w = 100, h = round(100 / 2) = 50
    const tall = drawRandomResizedCrop(100, 100, [1, 1], [2, 3], 10, createRng(1));
    expect(tall).toEqual({ x: 0, y: 25, width: 100, height: 50 });
    // in_ratio 4 > 3 → h = 50, w = round(50 * 3) = 150, centred
    expect(drawRandomResizedCrop(200, 50, [1, 1], [1, 3], 10, createRng(1))).toEqual({ x: 25, y: 0, width: 150, height: 50 });
    // ratio range containing the image's own → the whole image
    expect(drawRandomResizedCrop(120, 80, [1, 1], [0.5, 2], 10, scripted(Array(20).fill(0.999)))).toEqual({ x: 0, y: 0, width: 120, height: 80 });
  });

  it('keeps every box inside the image with area and ratio in range', () => {
    for (let i = 0; i < 2000; i++) {
      const w = 50 + (i % 400);
      const h = 60 + ((i * 7) % 350);
      const b = drawRandomResizedCrop(w, h, [0.08, 1], [3 / 4, 4 / 3], 10, createRng(3, i));
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.y).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width).toBeLessThanOrEqual(w);
      expect(b.y + b.height).toBeLessThanOrEqual(h);
      const frac = (b.width * b.height) / (w * h);
      expect(frac).toBeGreaterThan(0.05);
      expect(frac).toBeLessThanOrEqual(1);
    }
  });
});

describe('drawTrainTransform', () => {
  it('is a pure function of the rng keys; flips with probability hflip; crop off = whole image', () => {
    const a = drawTrainTransform(500, 375, DEFAULTS, createRng(7, 3, 1, 42));
    const b = drawTrainTransform(500, 375, DEFAULTS, createRng(7, 3, 1, 42));
    expect(a).toEqual(b);
    let flips = 0;
    for (let i = 0; i < 1000; i++) if (drawTrainTransform(500, 375, DEFAULTS, createRng(7, 3, 1, i)).flip) flips++;
    expect(flips).toBeGreaterThan(430);
    expect(flips).toBeLessThan(570);
    const never = { ...DEFAULTS, hflip: 0 };
    const always = { ...DEFAULTS, hflip: 1 };
    for (let i = 0; i < 50; i++) {
      expect(drawTrainTransform(500, 375, never, createRng(i)).flip).toBe(false);
      expect(drawTrainTransform(500, 375, always, createRng(i)).flip).toBe(true);
    }
    // changing the flip probability does not change the crops
    expect(drawTrainTransform(500, 375, never, createRng(5)).crop).toEqual(drawTrainTransform(500, 375, always, createRng(5)).crop);
    const off = { ...DEFAULTS, randomResizedCrop: { ...DEFAULTS.randomResizedCrop, enabled: false } };
    expect(drawTrainTransform(500, 375, off, createRng(1)).crop).toEqual({ x: 0, y: 0, width: 500, height: 375 });
  });
});

describe('applyTrainTransform', () => {
  it('gives size×size 3-channel RGB for grayscale and EXIF-rotated JPEGs (orientation applied)', async () => {
    const raw = await sharp(CAN_OPENER).metadata();
    const oriented = await orientedSize(CAN_OPENER);
    expect(raw.orientation).toBe(6);
    expect([oriented.width, oriented.height]).toEqual([raw.height, raw.width]);
    for (const file of [AIREDALE, CAN_OPENER]) {
      const s = await orientedSize(file);
      const draw = drawTrainTransform(s.width, s.height, DEFAULTS, createRng(1, 2));
      const img = await applyTrainTransform(file, draw, 64);
      expect([img.width, img.height, img.data.length]).toEqual([64, 64, 64 * 64 * 3]);
    }
    // the grayscale sample comes out with three equal channels
    const g = await applyTrainTransform(AIREDALE, { crop: { x: 0, y: 0, width: 100, height: 100 }, flip: false }, 32);
    for (let i = 0; i < g.data.length; i += 3) expect(g.data[i]).toBe(g.data[i + 1]);
    // the oriented crop of the EXIF-rotated file equals the same crop of a physically rotated copy
    const rotated = await sharp(CAN_OPENER).rotate().jpeg({ quality: 100 }).toBuffer();
    const box = { crop: { x: 20, y: 150, width: 200, height: 180 }, flip: false };
    const fromExif = await applyTrainTransform(CAN_OPENER, box, 48, { fast: false });
    const fromRotated = await applyTrainTransform(rotated, box, 48, { fast: false });
    expect(mad(fromExif.data, fromRotated.data)).toBeLessThan(3);
  });

  it('converts CMYK JPEGs and PNGs with alpha to 3-channel sRGB', async () => {
    const dir = tempDir('ws-tf-');
    const cmyk = path.join(dir, 'cmyk.jpg');
    await sharp(TENCH).toColourspace('cmyk').jpeg().toFile(cmyk);
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const rgba = path.join(dir, 'alpha.png');
    await sharp(TENCH).ensureAlpha(0.5).png().toFile(rgba);
    for (const f of [cmyk, rgba]) {
      const s = await orientedSize(f);
      const img = await applyTrainTransform(f, drawTrainTransform(s.width, s.height, DEFAULTS, createRng(2)), 40);
      expect(img.data.length).toBe(40 * 40 * 3);
    }
    // CMYK → sRGB lands near the original colours
    const whole = (f: string, w: number, h: number) => applyTrainTransform(f, { crop: { x: 0, y: 0, width: w, height: h }, flip: false }, 32);
    expect(mad((await whole(cmyk, 500, 375)).data, (await whole(TENCH, 500, 375)).data)).toBeLessThan(20);
  });

  it('flip mirrors the crop left-right; whole-image crop without flip is a plain bilinear resize', async () => {
    const box = { x: 60, y: 40, width: 300, height: 260 };
    const a = await applyTrainTransform(TENCH, { crop: box, flip: false }, 56);
    const b = await applyTrainTransform(TENCH, { crop: box, flip: true }, 56);
    expect(Buffer.from(b.data).equals(Buffer.from(mirror(a)))).toBe(true);
    const plain = await sharp(TENCH).resize(56, 56, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
    const whole = await applyTrainTransform(TENCH, { crop: { x: 0, y: 0, width: 500, height: 375 }, flip: false }, 56, { native: false, shrinkOnLoad: true });
    expect(Buffer.from(whole.data).equals(plain)).toBe(true);
    const wholeExact = await applyTrainTransform(TENCH, { crop: { x: 0, y: 0, width: 500, height: 375 }, flip: false }, 56, { fast: false });
    expect(mad(wholeExact.data, plain)).toBeLessThan(3);
  });

  it('the sharp shrink-on-load path keeps the crop box: close to extract-then-resize, far from a shifted box', async () => {
    await expectKeepsCropBox({ native: false, shrinkOnLoad: true }, 6);
  });

  it('reads JPEG size, components and EXIF orientation from the header, without decoding', async () => {
    for (const f of sampleFiles().filter((_, i) => i % 25 === 0)) {
      const h = readJpegHeader(fs.readFileSync(f))!;
      const m = await sharp(f).metadata();
      expect([h.width, h.height, h.components]).toEqual([m.width, m.height, m.channels]);
    }
    expect(readJpegHeader(fs.readFileSync(CAN_OPENER))!.orientation).toBe(6);
    expect(readJpegHeader(fs.readFileSync(TENCH))!.orientation).toBe(1);
    expect(readJpegHeader(Buffer.from('not a jpeg'))).toBeNull();
  });

  it('rejects files that are not decodable images', async () => {
    const dir = tempDir('ws-tf-');
    const empty = path.join(dir, 'empty.JPEG');
    fs.writeFileSync(empty, '');
    const text = path.join(dir, 'text.JPEG');
    fs.writeFileSync(text, 'this is not an image\n'.repeat(20));
    const draw = { crop: { x: 0, y: 0, width: 10, height: 10 }, flip: false };
    await expect(applyTrainTransform(empty, draw, 16)).rejects.toThrow();
    await expect(applyTrainTransform(text, draw, 16)).rejects.toThrow();
  });
});

describe('validation transform', () => {
  it('shorter side to resize (longer truncated), centre crop with torchvision rounding; or a plain resize', async () => {
    expect(valGeometry(500, 375, { mode: 'resize-center-crop', resize: 256, size: 224 })).toEqual({
      resizeWidth: 341,
      resizeHeight: 256,
      crop: { x: 58, y: 16, width: 224, height: 224 }, // round((341 - 224) / 2) = round(58.5) = 58
    });
    expect(valGeometry(294, 392, { mode: 'resize-center-crop', resize: 256, size: 224 }).resizeHeight).toBe(341);
    const cc = await applyValTransform(TENCH, { mode: 'resize-center-crop', resize: 80, size: 64 }, undefined, { native: false });
    expect([cc.width, cc.height, cc.data.length]).toEqual([64, 64, 64 * 64 * 3]);
    const ref = await sharp(TENCH).resize(106, 80, { fit: 'fill', kernel: 'linear' }).extract({ left: 21, top: 8, width: 64, height: 64 }).raw().toBuffer();
    expect(Buffer.from(cc.data).equals(ref)).toBe(true);
    const sharpPlain = await applyValTransform(TENCH, { mode: 'resize', resize: 256, size: 48 }, undefined, { native: false });
    expect(Buffer.from(sharpPlain.data).equals(await sharp(TENCH).resize(48, 48, { fit: 'fill', kernel: 'linear' }).raw().toBuffer())).toBe(true);
    const plain = await applyValTransform(CAN_OPENER, { mode: 'resize', resize: 256, size: 48 });
    expect([plain.width, plain.height]).toEqual([48, 48]);
  });
});

/** The default path (native first) gives exactly what the sharp path gives: what happens without the addon. */
async function expectDefaultIsSharp(): Promise<void> {
  const draws = [
    { crop: { x: 10, y: 20, width: 300, height: 200 }, flip: true },
    { crop: { x: 0, y: 0, width: 500, height: 375 }, flip: false },
  ];
  for (const draw of draws) {
    const viaDefault = await applyTrainTransform(TENCH, draw, 32);
    const viaSharp = await applyTrainTransform(TENCH, draw, 32, { native: false });
    expect(Buffer.from(viaDefault.data).equals(Buffer.from(viaSharp.data))).toBe(true);
  }
  for (const o of [
    { mode: 'resize-center-crop', resize: 80, size: 64 },
    { mode: 'resize', resize: 256, size: 48 },
  ] as const) {
    const viaDefault = await applyValTransform(TENCH, o);
    const viaSharp = await applyValTransform(TENCH, o, undefined, { native: false });
    expect(Buffer.from(viaDefault.data).equals(Buffer.from(viaSharp.data))).toBe(true);
  }
}

describe('native JPEG fast path (out/native/jpeg_crop.node: tested whenever it loads here)', () => {
  it('the loader loads the addon the build made (and finds none when none was built)', () => {
    const built = nativeAddonPath();
    if (!fs.existsSync(built)) {
      // no compiler or libjpeg headers at build time: sharp alone, by design
      expect(loadJpegAddon()).toBeNull();
      return;
    }
    // a built addon that does not load is a broken build, not a machine without the fast path
    expect(() => createRequire(path.join(__dirname, '../../package.json'))(built)).not.toThrow();
    expect(loadJpegAddon()).not.toBeNull();
  });

  it('falls back to sharp, byte for byte, when the loader is pointed at a missing or an unloadable addon', async () => {
    const dir = tempDir('ws-addon-');
    const broken = path.join(dir, 'jpeg_crop.node');
    fs.writeFileSync(broken, 'not a shared library');
    try {
      for (const file of [path.join(dir, 'missing', 'jpeg_crop.node'), broken]) {
        setJpegAddonPath(file);
        expect(nativeAddonPath()).toBe(file);
        expect(loadJpegAddon()).toBeNull();
        await expectDefaultIsSharp();
        // the general path still handles what the addon would decline
        const rotated = await applyTrainTransform(CAN_OPENER, { crop: { x: 0, y: 0, width: 100, height: 100 }, flip: false }, 32);
        expect(rotated.data.length).toBe(32 * 32 * 3);
      }
    } finally {
      setJpegAddonPath(null);
    }
    expect(nativeAddonPath()).toBe(path.join(path.resolve(__dirname, '../..'), 'out', 'native', 'jpeg_crop.node'));
  });

  it('decodes crops into a caller buffer at an offset, mirrored on request; declines EXIF-rotated files; refuses truncated ones', async () => {
    const addon = loadJpegAddon();
    if (!addon) return expectDefaultIsSharp(); // not built here: the default path is the sharp path
    const out = new Uint8Array(2 * 32 * 32 * 3);
    expect(addon.decodeCropResize(fs.readFileSync(TENCH), 10, 20, 300, 200, 32, false, out, 32 * 32 * 3)).toBe(0);
    // the transform API uses it: same pixels (mirrored by the addon when the draw flips)
    const viaApi = await applyTrainTransform(TENCH, { crop: { x: 10, y: 20, width: 300, height: 200 }, flip: true }, 32);
    expect(Buffer.from(viaApi.data).equals(Buffer.from(mirror({ data: out.subarray(32 * 32 * 3), width: 32, height: 32 })))).toBe(true);
    expect(out.subarray(0, 32 * 32 * 3).every((v) => v === 0)).toBe(true);
    // EXIF orientation 6 is not the addon's job: it declines, the sharp path answers
    expect(addon.decodeCropResize(fs.readFileSync(CAN_OPENER), 0, 0, 100, 100, 32, false, out, 0)).toBe(1);
    const box = { crop: { x: 20, y: 150, width: 200, height: 180 }, flip: false };
    const rotated = await applyTrainTransform(CAN_OPENER, box, 48);
    expect(Buffer.from(rotated.data).equals(Buffer.from((await applyTrainTransform(CAN_OPENER, box, 48, { native: false })).data))).toBe(true);
    // a truncated JPEG is refused on the native path too (libjpeg alone would pad it with grey)
    const real = fs.readFileSync(TENCH);
    await expect(applyTrainTransform(real.subarray(0, real.length >> 1), { crop: { x: 0, y: 0, width: 100, height: 100 }, flip: false }, 32)).rejects.toThrow(
      /truncated/,
    );
  });

  it('keeps the crop box: close to extract-then-resize, far from a shifted box; a whole-image crop is a bilinear resize', async () => {
    if (!loadJpegAddon()) return expectDefaultIsSharp();
    await expectKeepsCropBox({ native: true }, 4);
    const plain = await sharp(TENCH).resize(56, 56, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
    const whole = await applyTrainTransform(TENCH, { crop: { x: 0, y: 0, width: 500, height: 375 }, flip: false }, 56);
    expect(mad(whole.data, plain)).toBeLessThan(3);
    expect(Buffer.from(whole.data).equals(plain)).toBe(false); // the addon's own resampling, not sharp's
  });

  it('maps the validation resize + centre crop back to a source box, close to the sharp result', async () => {
    if (!loadJpegAddon()) return expectDefaultIsSharp();
    const cc = await applyValTransform(TENCH, { mode: 'resize-center-crop', resize: 80, size: 64 }, undefined, { native: false });
    const nat = await applyValTransform(TENCH, { mode: 'resize-center-crop', resize: 80, size: 64 });
    expect(mad(nat.data, cc.data)).toBeLessThan(4);
    const natPlain = await applyValTransform(TENCH, { mode: 'resize', resize: 256, size: 48 });
    const sharpPlain = await applyValTransform(TENCH, { mode: 'resize', resize: 256, size: 48 }, undefined, { native: false });
    expect(mad(natPlain.data, sharpPlain.data)).toBeLessThan(4);
  });
});
