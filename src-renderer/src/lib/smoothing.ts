// Chart smoothing as TensorBoard does it: a debiased exponential moving average over a series'
// points in order (the first smoothed value equals the first raw one; weight 0 = raw, 0.99 = very
// smooth). The raw series is kept and drawn faint behind the smoothed one (chart.ts).
import type { Point } from './chart';

export const SMOOTHING_MAX = 0.99;

/** Smoothed points (same x); a non-finite y stays as is and does not enter the average. */
export function debiasedEma(points: readonly Point[], weight: number): Point[] {
  const w = Math.min(Math.max(weight, 0), SMOOTHING_MAX);
  if (w === 0) return points.map((p) => ({ x: p.x, y: p.y }));
  let last = 0;
  let n = 0;
  return points.map((p) => {
    if (!Number.isFinite(p.y)) return { x: p.x, y: p.y };
    last = last * w + (1 - w) * p.y;
    n++;
    return { x: p.x, y: last / (1 - w ** n) };
  });
}

/** A colour (#rrggbb or rgba()/rgb()) at a given opacity. */
export function fade(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{6})$/i.exec(color);
  if (hex) {
    const v = parseInt(hex[1], 16);
    return `rgba(${(v >> 16) & 255},${(v >> 8) & 255},${v & 255},${alpha})`;
  }
  const rgb = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)$/i.exec(color);
  if (rgb) return `rgba(${rgb[1]},${rgb[2]},${rgb[3]},${(rgb[4] === undefined ? 1 : Number(rgb[4])) * alpha})`;
  return color;
}
