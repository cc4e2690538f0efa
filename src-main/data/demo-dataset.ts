// The embedded demo dataset: 10 classes of procedurally drawn shapes and textures in the ImageNet
// folder layout (train/<wnid>/*.JPEG, val/<wnid>/*.JPEG, LOC_synset_mapping.txt), generated on
// first use so a fresh install trains something real in minutes on a CPU. Pixels are drawn in JS
// from a seeded rng (same files on every machine) and encoded with sharp. Generation happens in a
// temp folder that is renamed into place, so a crash never leaves a half-written dataset.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createRng, RNG_PURPOSE, type Rng } from '../../src-shared/random';

export const DEMO_CLASSES = ['circle', 'square', 'triangle', 'stripes', 'checkerboard', 'gradient', 'ring', 'dots', 'cross', 'noise'] as const;
export const DEMO_TRAIN_PER_CLASS = 150;
export const DEMO_VAL_PER_CLASS = 30;
const VERSION = 1;
const MARKER = 'demo-dataset.json';
const DEMO_SEED = 20240601;

export function demoWnid(c: number): string {
  return `n${String(c + 1).padStart(8, '0')}`;
}

type Rgb = [number, number, number];

function randomColour(rng: Rng): Rgb {
  return [rng.int(256), rng.int(256), rng.int(256)];
}

/** A colour far enough from `other` that the shape stays visible. */
function contrastingColour(rng: Rng, other: Rgb): Rgb {
  for (;;) {
    const c = randomColour(rng);
    if (Math.abs(c[0] - other[0]) + Math.abs(c[1] - other[1]) + Math.abs(c[2] - other[2]) > 180) return c;
  }
}

/** Draws one sample of class `c` into an RGB buffer of w×h. */
function drawSample(c: number, w: number, h: number, rng: Rng): Buffer {
  const px = Buffer.alloc(w * h * 3);
  const bg = randomColour(rng);
  const fg = contrastingColour(rng, bg);
  const m = Math.min(w, h);
  const cx = w * rng.uniform(0.3, 0.7);
  const cy = h * rng.uniform(0.3, 0.7);
  const r = m * rng.uniform(0.18, 0.35);
  const angle = rng.uniform(0, Math.PI);
  const period = m * rng.uniform(0.08, 0.2);
  const cosA = Math.cos(angle);
  const sinA = Math.sin(angle);
  const noiseAmp = 12;
  // per-class inside test: true = foreground
  const inside = (x: number, y: number): number => {
    const dx = x - cx;
    const dy = y - cy;
    switch (DEMO_CLASSES[c]) {
      case 'circle':
        return dx * dx + dy * dy <= r * r ? 1 : 0;
      case 'square': {
        const u = dx * cosA + dy * sinA;
        const v = -dx * sinA + dy * cosA;
        return Math.abs(u) <= r * 0.85 && Math.abs(v) <= r * 0.85 ? 1 : 0;
      }
      case 'triangle': {
        // upward triangle, rotated a little
        const u = dx * Math.cos(angle / 4) + dy * Math.sin(angle / 4);
        const v = -dx * Math.sin(angle / 4) + dy * Math.cos(angle / 4);
        return v <= r * 0.6 && v >= -r + 2 * Math.abs(u) * 0.9 ? 1 : 0;
      }
      case 'stripes':
        return Math.floor((x * cosA + y * sinA) / period) % 2 === 0 ? 1 : 0;
      case 'checkerboard': {
        const u = Math.floor((x * cosA + y * sinA) / period);
        const v = Math.floor((-x * sinA + y * cosA) / period);
        return (u + v) % 2 === 0 ? 1 : 0;
      }
      case 'gradient':
        return Math.min(1, Math.max(0, 0.5 + (dx * cosA + dy * sinA) / m));
      case 'ring': {
        const d = Math.sqrt(dx * dx + dy * dy);
        return d <= r && d >= r * 0.6 ? 1 : 0;
      }
      case 'dots': {
        const u = (((x % period) + period) % period) - period / 2;
        const v = (((y % period) + period) % period) - period / 2;
        return u * u + v * v <= (period * 0.3) ** 2 ? 1 : 0;
      }
      case 'cross': {
        const u = dx * cosA + dy * sinA;
        const v = -dx * sinA + dy * cosA;
        return (Math.abs(u) <= r * 0.25 && Math.abs(v) <= r) || (Math.abs(v) <= r * 0.25 && Math.abs(u) <= r) ? 1 : 0;
      }
      default:
        return -1; // noise: per-pixel random
    }
  };
  let o = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let t = inside(x + 0.5, y + 0.5);
      if (t < 0) t = rng.next() < 0.5 ? 1 : 0;
      for (let k = 0; k < 3; k++) {
        const v = bg[k] + (fg[k] - bg[k]) * t + (rng.next() - 0.5) * 2 * noiseAmp;
        px[o++] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return px;
}

async function writeSample(file: string, c: number, rng: Rng): Promise<void> {
  const w = 64 + rng.int(65);
  const h = 64 + rng.int(65);
  const raw = drawSample(c, w, h, rng);
  await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90 })
    .toFile(file);
}

function isComplete(dir: string): boolean {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8')) as { version?: number };
    return m.version === VERSION;
  } catch {
    return false;
  }
}

const building = new Map<string, Promise<string>>();

/**
 * Returns the demo dataset root (`dir`), generating it first when it is missing or from an older
 * version. Idempotent; concurrent calls in one process share the work; another process racing for
 * the same folder loses the rename and uses the winner's copy.
 */
export function ensureDemoDataset(dir: string, onProgress?: (done: number, total: number) => void): Promise<string> {
  const root = path.resolve(dir);
  if (isComplete(root)) return Promise.resolve(root);
  const existing = building.get(root);
  if (existing) return existing;
  const p = generate(root, onProgress).finally(() => building.delete(root));
  building.set(root, p);
  return p;
}

async function generate(root: string, onProgress?: (done: number, total: number) => void): Promise<string> {
  fs.mkdirSync(path.dirname(root), { recursive: true });
  const tmp = fs.mkdtempSync(`${root}.tmp-`);
  try {
    const jobs: { file: string; c: number; key: number[] }[] = [];
    DEMO_CLASSES.forEach((_, c) => {
      const wnid = demoWnid(c);
      for (const [split, n] of [
        ['train', DEMO_TRAIN_PER_CLASS],
        ['val', DEMO_VAL_PER_CLASS],
      ] as const) {
        fs.mkdirSync(path.join(tmp, split, wnid), { recursive: true });
        for (let i = 0; i < n; i++) {
          jobs.push({ file: path.join(tmp, split, wnid, `${wnid}_${split}_${String(i).padStart(4, '0')}.JPEG`), c, key: [split === 'train' ? 0 : 1, c, i] });
        }
      }
    });
    let next = 0;
    let done = 0;
    const lane = async () => {
      while (next < jobs.length) {
        const j = jobs[next++];
        await writeSample(j.file, j.c, createRng(DEMO_SEED, RNG_PURPOSE.demo, ...j.key));
        done++;
        if (onProgress && (done % 100 === 0 || done === jobs.length)) onProgress(done, jobs.length);
      }
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
    fs.writeFileSync(path.join(tmp, 'LOC_synset_mapping.txt'), DEMO_CLASSES.map((name, c) => `${demoWnid(c)} ${name}\n`).join(''));
    fs.writeFileSync(
      path.join(tmp, MARKER),
      JSON.stringify({ version: VERSION, classes: DEMO_CLASSES.length, trainPerClass: DEMO_TRAIN_PER_CLASS, valPerClass: DEMO_VAL_PER_CLASS }, null, 2),
    );
    if (fs.existsSync(root) && !isComplete(root)) fs.rmSync(root, { recursive: true, force: true }); // an older version
    try {
      fs.renameSync(tmp, root);
    } catch (e) {
      if (!isComplete(root)) throw e; // else another process finished first: use its copy
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    return root;
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
