// Geometric transforms of one image, shared by the decode workers and the augmentation preview:
// RandomResizedCrop (torchvision's get_params, draw for draw), horizontal flip, and the validation
// resize + centre crop. Pixels come out as uint8 RGB HWC (3 channels, sRGB, EXIF orientation applied).
//
// Three paths give the same crop box semantics:
//  - native (default for JPEGs when out/native/jpeg_crop.node is built, see jpeg-native.ts): the
//    addon decodes only the crop box at the smallest M/8 DCT scale that keeps it >= size and
//    resizes it with a triangle filter (PIL's bilinear), several times faster than sharp;
//  - sharp extract-then-resize (what torchvision does; the fallback for other files and the
//    reference the others are tested against);
//  - sharp shrink-on-load (opt-in): resize the whole image by the crop's scale, then extract the
//    crop, so libvips can decode large JPEGs at 1/2, 1/4, 1/8 scale (sharp disables that for a
//    pre-resize extract). Measured no faster at 224 px on ImageNet-sized images, hence opt-in.
// They differ only by sub-pixel rounding of the box, filter taps at the crop edges and resampling
// details (tests bound the difference). Embedded ICC profiles are ignored on every path, as PIL
// (torchvision's loader) does.
import fs from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';
import type { AugmentParams } from '../../src-shared/config/augment';
import { WorkstationError } from '../../src-shared/errors';
import type { Rng } from '../../src-shared/random';
import { loadJpegAddon, readJpegHeader } from './jpeg-native';

export interface CropBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface TrainDraw {
  /** crop box in source pixels, after EXIF orientation */
  crop: CropBox;
  flip: boolean;
}

export interface ImagePixels {
  /** uint8 RGB, HWC */
  data: Uint8Array;
  width: number;
  height: number;
}

export type ImageInput = Buffer | Uint8Array | string;

export interface ValTransformOptions {
  /** 'resize-center-crop': shorter side to `resize`, then centre crop `size`; 'resize': plain resize to size×size */
  mode: 'resize-center-crop' | 'resize';
  resize: number;
  size: number;
}

export interface ApplyOptions {
  /** false = the reference path: sharp extract-then-resize (no native addon, no shrink-on-load) */
  fast?: boolean;
  /** false = never use the native addon (default: use it for JPEGs when built) */
  native?: boolean;
  /** sharp path: whole-image resize + extract, for JPEG shrink-on-load (default false) */
  shrinkOnLoad?: boolean;
}

/** Python's round(): half to even (torchvision's get_params uses int(round(x))). */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * torchvision.transforms.RandomResizedCrop.get_params: area fraction uniform in `scale`, aspect
 * ratio log-uniform in `ratio`, up to `attempts` tries, then the centre-crop fallback with the
 * ratio clamped to its range.
 */
export function drawRandomResizedCrop(
  width: number,
  height: number,
  scale: readonly [number, number],
  ratio: readonly [number, number],
  attempts: number,
  rng: Rng,
): CropBox {
  const area = width * height;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let i = 0; i < attempts; i++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logLo, logHi));
    const w = pyRound(Math.sqrt(targetArea * aspect));
    const h = pyRound(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const y = rng.int(height - h + 1);
      const x = rng.int(width - w + 1);
      return { x, y, width: w, height: h };
    }
  }
  const inRatio = width / height;
  let w: number;
  let h: number;
  if (inRatio < Math.min(ratio[0], ratio[1])) {
    w = width;
    h = pyRound(w / Math.min(ratio[0], ratio[1]));
  } else if (inRatio > Math.max(ratio[0], ratio[1])) {
    h = height;
    w = pyRound(h * Math.max(ratio[0], ratio[1]));
  } else {
    w = width;
    h = height;
  }
  return { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), width: w, height: h };
}

/**
 * Draws the geometric augmentation of one sample of a (width × height) image (after EXIF
 * orientation). The flip is drawn first, always consuming one number, so changing the crop
 * parameters does not change which samples are flipped and changing the flip probability does not
 * change the crops. With RandomResizedCrop disabled the crop is the whole image.
 */
export function drawTrainTransform(width: number, height: number, params: AugmentParams, rng: Rng): TrainDraw {
  const flip = rng.next() < params.hflip;
  const rrc = params.randomResizedCrop;
  const crop = rrc.enabled ? drawRandomResizedCrop(width, height, rrc.scale, rrc.ratio, rrc.attempts, rng) : { x: 0, y: 0, width, height };
  return { crop, flip };
}

/** Source pipeline: EXIF orientation applied, any decode problem is an error (not a grey image). */
function open(input: ImageInput): Sharp {
  return sharp(input as Buffer | string, { failOn: 'truncated', ignoreIcc: true }).rotate();
}

/** 3-channel sRGB uint8 raw output of a pipeline. */
async function toRgb(pipeline: Sharp): Promise<ImagePixels> {
  const { data, info } = await pipeline.toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new WorkstationError('DECODE_ERROR', `expected 3 channels after sRGB conversion, got ${info.channels}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

/**
 * Throws DECODE_ERROR when a JPEG or PNG file is cut short. libvips decodes lazily and stops once
 * the rows a crop needs are read, so a truncated file would be rejected or not depending on where
 * the crop falls; checking the end marker makes it a property of the file.
 */
export function assertCompleteImage(buf: Uint8Array): void {
  if (buf.length === 0) throw new WorkstationError('DECODE_ERROR', 'empty file (0 bytes)');
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b[0] === 0xff && b[1] === 0xd8) {
    // walk the top-level segments to the first scan (skipping EXIF thumbnails, which have their own EOI)
    let pos = 2;
    while (pos + 4 <= b.length) {
      if (b[pos] !== 0xff) throw new WorkstationError('DECODE_ERROR', `corrupt JPEG: no marker at byte ${pos}`);
      const marker = b[pos + 1];
      if (marker === 0xff) {
        pos++; // fill byte
        continue;
      }
      if (marker === 0xda) break; // start of scan
      if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
        pos += 2;
        continue;
      }
      pos += 2 + b.readUInt16BE(pos + 2);
    }
    if (pos + 4 > b.length || b.lastIndexOf(Buffer.from([0xff, 0xd9])) < pos)
      throw new WorkstationError('DECODE_ERROR', 'truncated JPEG (no end-of-image marker)');
  } else if (b[0] === 0x89 && b.toString('latin1', 1, 4) === 'PNG') {
    if (b.lastIndexOf('IEND', undefined, 'latin1') < 0) throw new WorkstationError('DECODE_ERROR', 'truncated PNG (no IEND chunk)');
  }
}

/** Width and height after EXIF orientation (a header read, no decode). */
export async function orientedSize(input: ImageInput): Promise<{ width: number; height: number; format: string }> {
  if (typeof input !== 'string') {
    const h = readJpegHeader(input);
    if (h) return h.orientation >= 5 ? { width: h.height, height: h.width, format: 'jpeg' } : { width: h.width, height: h.height, format: 'jpeg' };
  }
  const meta = await sharp(input as Buffer | string).metadata();
  if (!meta.width || !meta.height) throw new WorkstationError('DECODE_ERROR', 'image has no dimensions');
  const o = meta.autoOrient ?? { width: meta.width, height: meta.height };
  return { width: o.width, height: o.height, format: meta.format ?? 'unknown' };
}

/** Mirrors an RGB HWC image left-right in place. */
export function flipHorizontal(img: ImagePixels): void {
  const { data, width, height } = img;
  const row = width * 3;
  for (let y = 0; y < height; y++) {
    let a = y * row;
    let b = a + row - 3;
    while (a < b) {
      for (let c = 0; c < 3; c++) {
        const t = data[a + c];
        data[a + c] = data[b + c];
        data[b + c] = t;
      }
      a += 3;
      b -= 3;
    }
  }
}

/**
 * Crops `box` out of the (oriented) image, resizes it to size×size (bilinear) and flips it if drawn.
 * `sourceSize` (the oriented size) saves a header read when the caller already has it.
 */
export async function applyTrainTransform(
  input: ImageInput,
  draw: TrainDraw,
  size: number,
  opts: ApplyOptions & { sourceSize?: { width: number; height: number } } = {},
): Promise<ImagePixels> {
  const { crop } = draw;
  if (opts.fast !== false && opts.native !== false) {
    const data = await nativeCropResize(input, crop, size, draw.flip);
    if (data) return { data, width: size, height: size };
  }
  let img: ImagePixels;
  if (opts.fast === false || !opts.shrinkOnLoad) {
    img = await toRgb(
      open(input).extract({ left: crop.x, top: crop.y, width: crop.width, height: crop.height }).resize(size, size, { fit: 'fill', kernel: 'linear' }),
    );
  } else {
    const src = opts.sourceSize ?? (await orientedSize(input));
    const sx = size / crop.width;
    const sy = size / crop.height;
    const rw = Math.max(size, Math.round(src.width * sx));
    const rh = Math.max(size, Math.round(src.height * sy));
    const left = Math.min(Math.max(0, Math.round(crop.x * sx)), rw - size);
    const top = Math.min(Math.max(0, Math.round(crop.y * sy)), rh - size);
    img = await toRgb(open(input).resize(rw, rh, { fit: 'fill', kernel: 'linear' }).extract({ left, top, width: size, height: size }));
  }
  if (draw.flip) flipHorizontal(img);
  return img;
}

/**
 * The crop box (fractional source pixels) resized to size×size by the native addon, or null when
 * the addon is not available or the file needs the general path (not a JPEG, EXIF-rotated, CMYK).
 */
async function nativeCropResize(input: ImageInput, box: CropBox, size: number, flip: boolean): Promise<Uint8Array | null> {
  const addon = loadJpegAddon();
  if (!addon) return null;
  const buf = typeof input === 'string' ? await fs.readFile(input) : input;
  const h = readJpegHeader(buf);
  if (!h || h.orientation !== 1 || (h.components !== 1 && h.components !== 3)) return null;
  assertCompleteImage(buf); // libjpeg pads a truncated scan with grey and only warns
  const out = new Uint8Array(size * size * 3);
  try {
    return addon.decodeCropResize(buf, box.x, box.y, box.width, box.height, size, flip, out, 0) === 0 ? out : null;
  } catch {
    return null; // what libjpeg refuses (e.g. 12-bit data) goes to sharp, which decides
  }
}

/** Output size and box of the validation transform for an oriented (width × height) image. */
export function valGeometry(width: number, height: number, o: ValTransformOptions): { resizeWidth: number; resizeHeight: number; crop: CropBox } {
  if (o.mode === 'resize') return { resizeWidth: o.size, resizeHeight: o.size, crop: { x: 0, y: 0, width: o.size, height: o.size } };
  if (o.resize < o.size)
    throw new WorkstationError('INVALID_CONFIG', `data.valResize (${o.resize}) must be at least data.valSize (${o.size})`, { field: 'data.valResize' });
  // torchvision Resize(int): the shorter side becomes `resize`, the longer one is truncated
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const newLong = Math.floor((o.resize * long) / short);
  const resizeWidth = width <= height ? o.resize : newLong;
  const resizeHeight = width <= height ? newLong : o.resize;
  // torchvision CenterCrop: int(round((h - size) / 2))
  const x = pyRound((resizeWidth - o.size) / 2);
  const y = pyRound((resizeHeight - o.size) / 2);
  return { resizeWidth, resizeHeight, crop: { x, y, width: o.size, height: o.size } };
}

/** Validation transform: shorter side to `resize` + centre crop `size`, or a plain resize to size×size. */
export async function applyValTransform(
  input: ImageInput,
  o: ValTransformOptions,
  sourceSize?: { width: number; height: number },
  opts: ApplyOptions = {},
): Promise<ImagePixels> {
  const src = sourceSize ?? (await orientedSize(input));
  const g = valGeometry(src.width, src.height, o);
  if (opts.native !== false && opts.fast !== false) {
    // resize then crop = the crop box mapped back to source pixels, resized
    const fx = src.width / g.resizeWidth;
    const fy = src.height / g.resizeHeight;
    const box = { x: g.crop.x * fx, y: g.crop.y * fy, width: Math.min(o.size * fx, src.width), height: Math.min(o.size * fy, src.height) };
    const data = await nativeCropResize(input, box, o.size, false);
    if (data) return { data, width: o.size, height: o.size };
  }
  if (o.mode === 'resize') return toRgb(open(input).resize(o.size, o.size, { fit: 'fill', kernel: 'linear' }));
  return toRgb(
    open(input)
      .resize(g.resizeWidth, g.resizeHeight, { fit: 'fill', kernel: 'linear' })
      .extract({ left: g.crop.x, top: g.crop.y, width: o.size, height: o.size }),
  );
}

/** Decode only (benchmark baseline, tests): the whole oriented image as RGB. */
export async function decodeRgb(input: ImageInput): Promise<ImagePixels> {
  return toRgb(open(input));
}
