// The run charts' axis ranges (src-renderer/src/lib/chart-range.ts): the robust y range that fits
// a loss curve's bulk and leaves a spike off scale (marked with its value), 'full' and 'log'
// modes, round bounds, and the one x range every chart of a run shares.
import { describe, expect, it } from 'vitest';
import type { Series } from '../../src-renderer/src/lib/chart';
import { offScaleText } from '../../src-renderer/src/lib/chart-markers';
import { niceBounds, niceStep, quantile, robustUpper, runXRange, yRange } from '../../src-renderer/src/lib/chart-range';

/** A loss curve as a run logs it: steep at first (6.9), flattening towards 2. */
const lossSteps = Array.from({ length: 120 }, (_, i) => ({ x: (i + 1) / 40, y: 2 + 4.9 * Math.exp(-i / 15) }));

const lossSeries = (val: number[]): Series[] => [
  { label: 'train loss (steps)', color: '#111111', points: lossSteps },
  { label: 'val loss', color: '#222222', dots: true, points: val.map((y, i) => ({ x: i + 1, y })) },
];

describe('quantile', () => {
  it('interpolates between ranks like numpy', () => {
    expect(quantile([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75);
    expect(quantile([1, 2, 3, 4], 0.75)).toBeCloseTo(3.25);
    expect(quantile([5], 0.5)).toBe(5);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe('robustUpper', () => {
  it('keeps the steep start of a loss curve and drops a spike far above it', () => {
    const ys = [...lossSteps.map((p) => p.y), 3.1, 43, 2.6];
    expect(robustUpper(ys)).toBeCloseTo(6.9, 5);
  });

  it('is the maximum when nothing stands out', () => {
    expect(robustUpper([1, 2, 3, 4, 5, 6, 7, 8])).toBe(8);
    // a moderate bump is part of the curve, not a spike; more than twice the bulk's top is one
    expect(robustUpper([2, 2.1, 2.2, 2.3, 2.4, 3.5])).toBe(3.5);
    expect(robustUpper([2, 2.1, 2.2, 2.3, 2.4, 5])).toBe(2.4);
  });

  it('flat values with one spike: the spike goes, a small step stays', () => {
    expect(robustUpper([2, 2, 2, 2, 2, 43])).toBe(2);
    expect(robustUpper([2, 2, 2, 2, 2, 2.1])).toBe(2.1);
  });

  it('a tail that is a quarter or more of the values is not an outlier', () => {
    const diverged = [...Array.from({ length: 6 }, () => 2), ...Array.from({ length: 4 }, () => 1000)];
    expect(robustUpper(diverged)).toBe(1000);
  });

  it('ignores non-finite values; NaN with nothing finite', () => {
    expect(robustUpper([NaN, 1, Infinity, 2])).toBe(2);
    expect(robustUpper([NaN])).toBeNaN();
  });
});

describe('niceBounds', () => {
  it('rounds out to a 1/2/5 step with room above the top value, not below 0 for positive values', () => {
    expect(niceStep(0.98)).toBe(1);
    expect(niceStep(0.26)).toBeCloseTo(0.5);
    expect(niceStep(0.03)).toBeCloseTo(0.05);
    expect(niceBounds(2, 6.9)).toEqual({ min: 2, max: 7 });
    expect(niceBounds(0.2, 3.4)).toEqual({ min: 0, max: 4 });
    const b = niceBounds(-3.3, 1.2);
    expect(b.min).toBeLessThanOrEqual(-3.3);
    expect(b.max).toBeGreaterThan(1.2);
  });

  it('an empty span gets room around it', () => {
    expect(niceBounds(2, 2)).toEqual({ min: 1.8, max: 2.2 });
    expect(niceBounds(0, 0)).toEqual({ min: 0, max: 1 });
  });
});

describe('yRange', () => {
  it('robust: fits the bulk, the spike is off scale with its series and value', () => {
    const r = yRange(lossSeries([3.1, 43, 2.6]), 'robust');
    expect(r.mode).toBe('robust');
    expect(r.min).toBe(2);
    expect(r.max).toBe(7);
    expect(r.offScale).toEqual([{ label: 'val loss', color: '#222222', x: 2, y: 43 }]);
    expect(offScaleText({ ...r.offScale[0], y: 43.12 })).toBe('val loss 43.1 (off scale)');
  });

  it('robust without a spike: everything in range', () => {
    const r = yRange(lossSeries([3.1, 2.8, 2.6]), 'robust');
    expect(r.offScale).toEqual([]);
    expect(r.max).toBeGreaterThanOrEqual(6.9);
  });

  it('robust leaves the right axis out of the left axis range', () => {
    const s: Series[] = [
      {
        label: 'lr',
        color: '#1',
        points: [
          { x: 1, y: 0.1 },
          { x: 2, y: 0.05 },
        ],
      },
      { label: 'momentum', color: '#2', right: true, points: [{ x: 1, y: 900 }] },
    ];
    const r = yRange(s, 'robust');
    expect(r.max).toBeLessThan(1);
    expect(r.offScale).toEqual([]);
  });

  it('full and log leave the range to chart.js (or the fixed bounds; log only positive ones), nothing off scale', () => {
    expect(yRange(lossSeries([3.1, 43, 2.6]), 'full')).toEqual({ mode: 'full', min: undefined, max: undefined, offScale: [] });
    expect(yRange(lossSeries([43]), 'full', { min: 0, max: 100 })).toMatchObject({ min: 0, max: 100, offScale: [] });
    expect(yRange(lossSeries([43]), 'log', { min: 0, max: 100 })).toMatchObject({ mode: 'log', min: undefined, max: 100, offScale: [] });
  });

  it('no points: no bounds', () => {
    expect(yRange([{ label: 'a', color: '#1', points: [] }], 'robust')).toEqual({ mode: 'robust', min: undefined, max: undefined, offScale: [] });
  });
});

describe('runXRange', () => {
  it('a run in progress spans start..target, or further when points went past it', () => {
    expect(runXRange({ start: 0, target: 10, completed: false, xs: [0.1, 1, 2.5] })).toEqual({ min: 0, max: 10 });
    expect(runXRange({ start: 0, target: 3, completed: false, xs: [1, 4] })).toEqual({ min: 0, max: 4 });
  });

  it('a completed run ends at its last point (early stopping leaves no empty tail)', () => {
    expect(runXRange({ start: 0, target: 40, completed: true, xs: [1, 2, 12] })).toEqual({ min: 0, max: 12 });
    // completed without points: up to its target
    expect(runXRange({ start: 0, target: 5, completed: true, xs: [] })).toEqual({ min: 0, max: 5 });
  });

  it("a child starts at the lineage's start; a point before it extends it; never an empty range", () => {
    expect(runXRange({ start: 2, target: 4, completed: false, xs: [2.5, 3] })).toEqual({ min: 2, max: 4 });
    expect(runXRange({ start: 2, target: 4, completed: false, xs: [0.5, NaN] })).toEqual({ min: 0.5, max: 4 });
    expect(runXRange({ start: 3, target: 3, completed: false, xs: [] })).toEqual({ min: 3, max: 4 });
  });
});
