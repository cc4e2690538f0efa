// The optional native fast path (out/native/jpeg_crop.node, built from native/jpeg-crop.c by
// scripts/build-native.mjs) and a JPEG header reader in plain JS. sharp costs ~4 ms per ImageNet
// image on one core, about half of it per-image overhead; the addon decodes only the crop, at the
// smallest DCT scale that keeps it >= the output size, on the calling worker thread. When the addon
// is missing (no compiler / libjpeg headers at install) everything goes through sharp.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageRoot } from '../common/paths';

export interface JpegCropAddon {
  /** 0 = written; 1 = needs the sharp path (EXIF orientation ≠ 1, CMYK); throws on corrupt data */
  decodeCropResize(jpeg: Uint8Array, x: number, y: number, w: number, h: number, size: number, flip: boolean, out: Uint8Array, offset: number): number;
}

let addon: JpegCropAddon | null | undefined;
let addonFile: string | null = null;

/** The addon file loadJpegAddon loads: out/native/jpeg_crop.node unless setJpegAddonPath chose another. */
export function nativeAddonPath(): string {
  return addonFile ?? path.join(packageRoot(), 'out', 'native', 'jpeg_crop.node');
}

/**
 * Points the loader at another addon file (null: back to the built one) and forgets what it had
 * loaded, so a missing or unloadable addon, and the sharp fallback, can be had on purpose.
 */
export function setJpegAddonPath(file: string | null): void {
  addonFile = file;
  addon = undefined;
}

/** The addon, or null when it was not built or cannot load here. */
export function loadJpegAddon(): JpegCropAddon | null {
  if (addon !== undefined) return addon;
  const file = nativeAddonPath();
  try {
    addon = fs.existsSync(file) ? (createRequire(path.join(packageRoot(), 'package.json'))(file) as JpegCropAddon) : null;
  } catch {
    addon = null; // e.g. libjpeg missing at run time
  }
  return addon;
}

export interface JpegHeader {
  /** stored size (before EXIF orientation) */
  width: number;
  height: number;
  components: number;
  /** EXIF orientation tag, 1 when absent */
  orientation: number;
}

function exifOrientation(b: Buffer, start: number, len: number): number {
  if (len < 14 || b.toString('latin1', start, start + 4) !== 'Exif') return 1;
  const t = start + 6;
  const le = b[t] === 0x49;
  const u16 = (p: number) => (le ? b.readUInt16LE(p) : b.readUInt16BE(p));
  const u32 = (p: number) => (le ? b.readUInt32LE(p) : b.readUInt32BE(p));
  const end = start + len;
  const ifd = t + u32(t + 4);
  if (ifd + 2 > end) return 1;
  const n = u16(ifd);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > end) break;
    if (u16(e) === 0x0112) return u16(e + 8);
  }
  return 1;
}

/** Size, components and EXIF orientation of a JPEG from its segments (no decode), or null if not a JPEG. */
export function readJpegHeader(buf: Uint8Array): JpegHeader | null {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  let pos = 2;
  let orientation = 1;
  let frame: Omit<JpegHeader, 'orientation'> | null = null;
  // read every segment up to the first scan: the EXIF block may in principle follow the frame header
  while (pos + 4 <= b.length) {
    if (b[pos] !== 0xff) return null;
    const marker = b[pos + 1];
    if (marker === 0xff) {
      pos++;
      continue;
    }
    if (marker === 0xda) break;
    if (marker === 0xd9) return null;
    const len = b.readUInt16BE(pos + 2);
    if (marker === 0xe1 && orientation === 1) orientation = exifOrientation(b, pos + 4, Math.min(len - 2, b.length - pos - 4));
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc && !frame) {
      if (pos + 10 > b.length) return null;
      frame = { height: b.readUInt16BE(pos + 5), width: b.readUInt16BE(pos + 7), components: b[pos + 9] };
    }
    pos += 2 + len;
  }
  return frame && frame.width > 0 && frame.height > 0 ? { ...frame, orientation } : null;
}
