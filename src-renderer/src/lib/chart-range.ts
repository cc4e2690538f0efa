// Axis ranges for the run charts. x: one epoch range for every chart of a run (from where its
// lineage starts to its target epoch, or to its last point once it completed). y: 'full' leaves
// the range to chart.js, 'log' is a logarithmic axis, 'robust' fits the bulk of the values and
// leaves a spike above it off scale (drawn clipped at the top edge and marked), so one val loss
// of 43 does not flatten a curve that lives between 2 and 7. Only spikes upwards are cut: a loss
// or an lr does not blow up downwards.
import type { Series } from './chart';

export const Y_MODES = ['robust', 'full', 'log'] as const;
export type YMode = (typeof Y_MODES)[number];

/** A point above the robust range: drawn at the top edge with a marker and its value. */
export interface OffScalePoint {
  label: string;
  color: string;
  x: number;
  y: number;
}

export interface YRange {
  mode: YMode;
  /** the bounds to give the axis; undefined = chart.js picks them from the data */
  min: number | undefined;
  max: number | undefined;
  /** the plotted points above `max` (robust mode only) */
  offScale: OffScalePoint[];
}

/** The q-quantile (0..1) of ascending values, linearly interpolated (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * Math.min(Math.max(q, 0), 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * The largest value that still belongs to the bulk: everything up to Tukey's far fence
 * (Q3 + fence·IQR) belongs, and so does each next larger value that lies within `jump` times the
 * bulk's reach (its top minus the smallest value, at least a quarter of its top) above the
 * smallest value. The early steep part of a loss curve comes in small steps and stays; a spike
 * ten times the rest is left out, with everything above it. NaN for no finite value.
 */
export function robustUpper(values: readonly number[], opts: { fence?: number; jump?: number } = {}): number {
  const fence = opts.fence ?? 3;
  const jump = opts.jump ?? 3;
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const q1 = quantile(s, 0.25);
  const q3 = quantile(s, 0.75);
  const limit = q3 + fence * (q3 - q1);
  let keep = 0;
  while (keep + 1 < s.length && s[keep + 1] <= limit) keep++;
  const lo = s[0];
  while (keep + 1 < s.length) {
    const reach = Math.max(s[keep] - lo, Math.abs(s[keep]) / 4);
    if (s[keep + 1] - lo > jump * reach) break;
    keep++;
  }
  return s[keep];
}

/** 1, 2 or 5 times a power of ten, the smallest at least `raw`. */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

const tidy = (v: number): number => Number(v.toPrecision(12));

/**
 * Axis bounds around [lo, hi] on a round step (about five ticks), with a little room above the top
 * value; not below 0 when the values are not. An empty span gets ±10% (or ±1 around 0).
 */
export function niceBounds(lo: number, hi: number): { min: number; max: number } {
  let a = lo;
  let b = hi;
  if (b > a) b += (b - a) * 0.02;
  else {
    const d = Math.abs(b) / 10 || 1;
    a -= d;
    b += d;
  }
  const step = niceStep((b - a) / 5);
  // (the epsilon keeps 2.2 / 0.1 = 22.000000000000004 on its step)
  let min = Math.floor(a / step + 1e-9) * step;
  if (lo >= 0 && min < 0) min = 0;
  const max = Math.ceil(b / step - 1e-9) * step;
  return { min: tidy(min), max: tidy(max) };
}

/**
 * The y range of a chart's left axis in a mode. `fixed` bounds (a chart that knows its scale)
 * apply in 'full' mode and, when positive, in 'log' mode; 'robust' computes its own.
 */
export function yRange(series: readonly Series[], mode: YMode, fixed: { min?: number; max?: number } = {}): YRange {
  if (mode !== 'robust') {
    const ok = (v: number | undefined) => (mode === 'log' && v !== undefined && !(v > 0) ? undefined : v);
    return { mode, min: ok(fixed.min), max: ok(fixed.max), offScale: [] };
  }
  const left = series.filter((s) => !s.right);
  const ys = left.flatMap((s) => s.points.map((p) => p.y)).filter((y) => Number.isFinite(y));
  if (ys.length === 0) return { mode, min: fixed.min, max: fixed.max, offScale: [] };
  let lo = Infinity;
  for (const y of ys) lo = Math.min(lo, y);
  const { min, max } = niceBounds(lo, robustUpper(ys));
  const offScale = left.flatMap((s) => s.points.filter((p) => p.y > max).map((p) => ({ label: s.label, color: s.color, x: p.x, y: p.y })));
  return { mode, min, max, offScale };
}

/** What a run's x range is made of. */
export interface XRangeFacts {
  /** where the charts start: the lineage's start (0 for a run that is no one's child) */
  start: number;
  /** the epoch the run trains to */
  target: number;
  /** a completed run ends at its last point (early stopping leaves no empty tail) */
  completed: boolean;
  /** every x the run's charts plot (own points, a parent's before the fork, markers, live progress) */
  xs: readonly number[];
}

/** One epoch range for all charts of a run: start..max(target, last x), or ..last x once completed. */
export function runXRange(f: XRangeFacts): { min: number; max: number } {
  let first = f.start;
  let last = -Infinity;
  for (const x of f.xs) {
    if (!Number.isFinite(x)) continue;
    first = Math.min(first, x);
    last = Math.max(last, x);
  }
  const end = f.completed && last > -Infinity ? last : Math.max(f.target, last);
  return { min: first, max: end > first ? end : first + 1 };
}
