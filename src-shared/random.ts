// Seeded, counter-based randomness. Every random draw in training (init, shuffles, crops,
// flips, jitter) is a pure function of integer keys such as (run seed, epoch, sample index, purpose),
// so results do not depend on worker count, batch boundaries or where a run was resumed.

/** 32-bit mix (murmur3 finaliser). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes a list of integer keys into a 32-bit seed. Keys may be any safe integers. */
export function hashKeys(...keys: number[]): number {
  let h = 0x9e3779b9;
  for (const k of keys) {
    const lo = k >>> 0;
    const hi = Math.floor(k / 4294967296) >>> 0;
    h = fmix32(h ^ fmix32(lo + 0x632be5ab));
    h = fmix32(h ^ fmix32(hi + 0x85157af5));
  }
  return h;
}

/** Purposes keep independent streams apart: hashKeys(seed, PURPOSE, ...). */
export const RNG_PURPOSE = {
  init: 1,
  shuffle: 2,
  crop: 3,
  flip: 4,
  jitter: 5,
  preview: 6,
  demo: 7,
} as const;

export interface Rng {
  /** uniform in [0, 1) with 32 bits of resolution */
  next(): number;
  /** uniform in [lo, hi) */
  uniform(lo: number, hi: number): number;
  /** standard normal (Box-Muller) */
  normal(): number;
  /** integer in [0, n) */
  int(n: number): number;
  /** current internal state, to save and restore */
  state(): number[];
}

/** sfc32 generator seeded from integer keys. */
export function createRng(...keys: number[]): Rng {
  let a = hashKeys(...keys, 1);
  let b = hashKeys(...keys, 2);
  let c = hashKeys(...keys, 3);
  let d = 1;
  const raw = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) raw();
  let spare: number | null = null;
  const rng: Rng = {
    next: () => raw() / 4294967296,
    uniform: (lo, hi) => lo + (hi - lo) * (raw() / 4294967296),
    normal: () => {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      let u = 0;
      while (u === 0) u = raw() / 4294967296;
      const v = raw() / 4294967296;
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    int: (n) => Math.floor((raw() / 4294967296) * n),
    state: () => [a, b, c, d],
  };
  return rng;
}

/** Fisher-Yates permutation of 0..n-1 from a seeded stream. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
