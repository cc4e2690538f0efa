// The embedded demo dataset: 10 classes of procedurally drawn coloured shapes in the ImageNet
// folder layout (train/<wnid>/*.JPEG, val/<wnid>/*.JPEG, LOC_synset_mapping.txt), generated on
// first use so a fresh install trains something real in minutes on a CPU (docs/BENCHMARKS.md,
// "Demo preset": ≥ 80 % val top-1 in about 3 minutes on 2 cores with the pure-JS backend).
//
// Each class is a coarse shape (circle, square, …) in a bright, saturated colour on a dark, nearly
// grey, softly shaded background with a little noise: cues a 4-channel ResNet-50 picks up at 32 px
// and that survive the training augmentations (crops of ≥ 35 % keep most of the shape, a flip maps
// every shape to one of its own class, the colour jitter stays within a class's hue family, see
// CLASS_HUE). Fine textures (stripes a few pixels wide, noise) are avoided on purpose: at 32 px
// they alias into each other, which is what made the first version of this dataset slow to learn.
//
// Pixels are drawn in JS from a seeded rng (same files on every machine) and encoded with sharp.
// Generation happens in a temp folder that is renamed into place, so a crash never leaves a
// half-written dataset; the marker's `version` makes an older cached copy regenerate.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createRng, RNG_PURPOSE, type Rng } from '../../src-shared/random';

export const DEMO_CLASSES = ['circle', 'square', 'triangle', 'ring', 'cross', 'frame', 'diamond', 'bars', 'crescent', 'dots'] as const;
export const DEMO_TRAIN_PER_CLASS = 300;
export const DEMO_VAL_PER_CLASS = 60;
/** Image sides are drawn from [DEMO_MIN_SIDE, DEMO_MAX_SIDE] pixels (aspect ratio within 4:5 … 5:4). */
export const DEMO_MIN_SIDE = 48;
export const DEMO_MAX_SIDE = 96;
/** Bump when the drawn images change: a cached dataset of another version is regenerated. */
export const DEMO_DATASET_VERSION = 2;
const MARKER = 'demo-dataset.json';
const DEMO_SEED = 20240601;

export function demoWnid(c: number): string {
  return `n${String(c + 1).padStart(8, '0')}`;
}

type Rgb = [number, number, number];

/** HSV (h in degrees, s and v in [0, 1]) → RGB in [0, 255]. */
function hsv(h: number, s: number, v: number): Rgb {
  const hh = (((h % 360) + 360) % 360) / 60;
  const i = Math.floor(hh);
  const f = hh - i;
  const p = v * (1 - s);
  const q = v * (1 - s * f);
  const t = v * (1 - s * (1 - f));
  const [r, g, b] = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ][i % 6];
  return [r * 255, g * 255, b * 255];
}

/**
 * The class's hue. Five hues 72° apart, each shared by a filled shape and a hollow or sparse one:
 * the seed's hue jitter (±0.05 = ±18°) plus the sample's own ±6° never cross the 36° half-way
 * mark to the next hue, so colour alone is a reliable 5-way cue and shape settles the pair. (Ten
 * hues 36° apart were not: jittered samples read as the neighbouring class by colour, and the
 * tiny model's training swung back and forth between the two cues.)
 */
const CLASS_HUE: Record<(typeof DEMO_CLASSES)[number], number> = {
  circle: 0,
  frame: 0,
  triangle: 72,
  dots: 72,
  square: 144,
  ring: 144,
  diamond: 216,
  bars: 216,
  crescent: 288,
  cross: 288,
};

function classHue(c: number): number {
  return CLASS_HUE[DEMO_CLASSES[c]];
}

/**
 * Inside test of class `c`'s shape in shape coordinates: (u, v) is the pixel's offset from the
 * shape centre, rotated by the sample's angle and divided by its radius (the shape fits the unit
 * disk). `a` is a per-sample shape parameter in [0, 1).
 */
function insideShape(c: number, u: number, v: number, a: number): boolean {
  const au = Math.abs(u);
  const av = Math.abs(v);
  switch (DEMO_CLASSES[c]) {
    case 'circle':
      return u * u + v * v <= 0.8;
    case 'square':
      return au <= 0.72 && av <= 0.72;
    case 'triangle': // pointing up: apex at v = -0.95, base at v = 0.7
      return v <= 0.7 && v >= -0.95 + 1.65 * (au / 0.9);
    case 'ring': {
      const d = u * u + v * v;
      return d <= 0.9 && d >= 0.3;
    }
    case 'cross':
      return (au <= 0.27 && av <= 0.95) || (av <= 0.27 && au <= 0.95);
    case 'frame':
      return au <= 0.8 && av <= 0.8 && (au >= 0.45 || av >= 0.45);
    case 'diamond':
      return au + av <= 0.95;
    case 'bars': // three horizontal bars
      return au <= 0.85 && av <= 0.85 && Math.floor((v + 0.85) / (1.7 / 5)) % 2 === 0;
    case 'crescent': {
      // a disk with a disk cut out to its right (a flip makes it face left)
      const off = 0.45 + 0.15 * a;
      return u * u + v * v <= 0.85 && (u - off) * (u - off) + v * v > 0.55;
    }
    case 'dots': {
      // four disks on a 2 × 2 grid
      const du = au - 0.5;
      const dv = av - 0.5;
      return du * du + dv * dv <= 0.11;
    }
    default:
      return false;
  }
}

/** Largest rotation (radians) per class: enough variety, never turning one class into another. */
function maxRotation(c: number): number {
  switch (DEMO_CLASSES[c]) {
    case 'square':
    case 'frame':
    case 'diamond':
    case 'cross':
      return Math.PI / 14; // ±13°: a square never reads as a diamond
    case 'crescent':
      return Math.PI; // any direction
    default:
      return Math.PI / 9; // ±20°
  }
}

/** Draws one sample of class `c` into an RGB buffer of w×h. */
export function drawDemoSample(c: number, w: number, h: number, rng: Rng): Buffer {
  const px = Buffer.alloc(w * h * 3);
  const m = Math.min(w, h);
  // background: dark and nearly grey, softly shaded: the shape is always the brightest thing in the image
  const bgHue = rng.uniform(0, 360);
  const bgSat = rng.uniform(0, 0.15);
  const bgVal = rng.uniform(0.08, 0.4);
  const shade = rng.uniform(-0.1, 0.1);
  const shadeAngle = rng.uniform(0, 2 * Math.PI);
  // foreground: the class hue, saturated and bright
  const fg = hsv(classHue(c) + rng.uniform(-6, 6), rng.uniform(0.75, 1), rng.uniform(0.8, 1));
  const cx = w * rng.uniform(0.42, 0.58);
  const cy = h * rng.uniform(0.42, 0.58);
  const r = m * rng.uniform(0.3, 0.4);
  const rot = rng.uniform(-1, 1) * maxRotation(c);
  const a = rng.next();
  const noiseAmp = rng.uniform(3, 10);
  const cosR = Math.cos(rot);
  const sinR = Math.sin(rot);
  const sx = Math.cos(shadeAngle) / m;
  const sy = Math.sin(shadeAngle) / m;
  let o = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const u = (dx * cosR + dy * sinR) / r;
      const v = (-dx * sinR + dy * cosR) / r;
      const col = insideShape(c, u, v, a) ? fg : hsv(bgHue, bgSat, Math.min(1, Math.max(0, bgVal + shade * (dx * sx + dy * sy) * 2)));
      for (let k = 0; k < 3; k++) {
        const val = col[k] + (rng.next() - 0.5) * 2 * noiseAmp;
        px[o++] = val < 0 ? 0 : val > 255 ? 255 : Math.round(val);
      }
    }
  }
  return px;
}

async function writeSample(file: string, c: number, rng: Rng): Promise<void> {
  const span = DEMO_MAX_SIDE - DEMO_MIN_SIDE + 1;
  const w = DEMO_MIN_SIDE + rng.int(span);
  const h = Math.min(DEMO_MAX_SIDE, Math.max(DEMO_MIN_SIDE, Math.round(w * rng.uniform(0.8, 1.25))));
  const raw = drawDemoSample(c, w, h, rng);
  await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90 })
    .toFile(file);
}

function isComplete(dir: string): boolean {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8')) as { version?: number };
    return m.version === DEMO_DATASET_VERSION;
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
          // the version is part of the key: a new version draws new images, not the old ones reshaped
          const key = [DEMO_DATASET_VERSION, split === 'train' ? 0 : 1, c, i];
          jobs.push({ file: path.join(tmp, split, wnid, `${wnid}_${split}_${String(i).padStart(4, '0')}.JPEG`), c, key });
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
      JSON.stringify(
        { version: DEMO_DATASET_VERSION, classes: DEMO_CLASSES.length, trainPerClass: DEMO_TRAIN_PER_CLASS, valPerClass: DEMO_VAL_PER_CLASS },
        null,
        2,
      ),
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
