// The Runs view's comparison and the charts' smoothing, as pure functions: TensorBoard's debiased
// EMA, the faint raw copy behind each smoothed series, the overlay of any runs (every step sample
// kept), the hyperparameter diff table (only differing fields, best and last val top-1), and the
// runs list's tag / text filter.
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src-shared/api/schemas';
import { differingFields, normalizeConfig } from '../../src-shared/config/compare';
import type { EpochMetrics, StepSample } from '../../src-shared/metrics';
import { legendWithoutRaw, smoothSeries, toDataset } from '../../src-renderer/src/lib/chart';
import { compareSeries, diffTable, runColor } from '../../src-renderer/src/lib/compare';
import { filterRuns, notesPreview, parseTags, tagCounts } from '../../src-renderer/src/lib/run-filter';
import { debiasedEma, fade } from '../../src-renderer/src/lib/smoothing';
import type { RunDetail } from '../../src-renderer/src/state/runs.svelte';

const run = (id: number, over: Partial<RunSummary> = {}): RunSummary =>
  ({ id, name: `run-${id}`, status: 'completed', parentRunId: null, forkEpoch: null, notes: '', tags: [], ...over }) as RunSummary;

function epoch(n: number, valTop1: number | null): EpochMetrics {
  return {
    epoch: n,
    trainLoss: 2,
    trainTop1: 30 + n,
    trainTop5: 60,
    valLoss: 2.2,
    valTop1,
    valTop5: 62,
    lr: 0.1,
    momentum: 0.9,
    imagesPerSec: 1,
    epochSeconds: 1,
    skippedFiles: 0,
    imageSize: 32,
  };
}

function detail(id: number, config: Record<string, unknown>, epochs: EpochMetrics[], steps: number): RunDetail {
  const s: StepSample[] = Array.from({ length: steps }, (_, i) => ({
    epoch: Math.floor(i / 10) + 1,
    step: i % 10,
    globalStep: i + 1,
    loss: 2 - i / 100,
    top1: 10,
    lr: 0.1,
    momentum: 0.9,
    imagesPerSec: 1,
  }));
  return { run: run(id), config, epochs, steps: s, checkpoints: [], events: [], stepsInEpoch: { 1: 10, 2: 10, 3: 10 } } as unknown as RunDetail;
}

describe('smoothing', () => {
  it('is TensorBoard’s debiased EMA: the first point unchanged, a constant stays constant, weight 0 is raw', () => {
    const pts = [4, 2, 6, 6].map((y, x) => ({ x, y }));
    const s = debiasedEma(pts, 0.6);
    expect(s[0].y).toBeCloseTo(4, 12);
    // last = 0.6·1.6 + 0.4·2 = 1.76; debias 1 − 0.36
    expect(s[1].y).toBeCloseTo(1.76 / 0.64, 12);
    expect(
      debiasedEma(
        [5, 5, 5].map((y, x) => ({ x, y })),
        0.9,
      ).map((p) => Number(p.y.toFixed(12))),
    ).toEqual([5, 5, 5]);
    expect(debiasedEma(pts, 0)).toEqual(pts);
    expect(
      debiasedEma(
        [
          { x: 0, y: 1 },
          { x: 1, y: NaN },
          { x: 2, y: 1 },
        ],
        0.5,
      ).map((p) => p.y),
    ).toEqual([1, NaN, 1]);
  });

  it('keeps each raw series faint behind its smoothed copy, out of the legend; nothing changes at 0', () => {
    const series = [{ label: 'loss', color: '#5b9cf5', points: [1, 3, 2].map((y, x) => ({ x, y })) }];
    expect(smoothSeries(series, 0)).toBe(series);
    const drawn = smoothSeries(series, 0.5);
    expect(drawn.map((s) => [s.label, s.raw === true, s.color])).toEqual([
      ['loss (raw)', true, 'rgba(91,156,245,0.22)'],
      ['loss', false, '#5b9cf5'],
    ]);
    expect(drawn[0].points).toEqual(series[0].points);
    const data = { datasets: drawn.map(toDataset) };
    expect([0, 1].map((i) => legendWithoutRaw({ datasetIndex: i }, data))).toEqual([false, true]);
    expect(fade('rgba(91,156,245,0.5)', 0.5)).toBe('rgba(91,156,245,0.25)');
  });
});

describe('comparison', () => {
  const a = detail(3, { name: 'a', optimizer: { lr: 0.1 }, train: { epochs: 3 } }, [epoch(1, 40), epoch(2, 45), epoch(3, 43)], 30);
  const b = detail(7, { name: 'b', optimizer: { lr: 0.02 }, train: { epochs: 3 } }, [epoch(1, 20), epoch(2, null)], 20);

  it('overlays any runs, each in its colour, every step sample at full resolution on one epoch axis', () => {
    const c = compareSeries([a, b]);
    expect(c.loss.map((s) => [s.label, s.color])).toEqual([
      ['#3 train loss (steps)', runColor(0)],
      ['#3 val loss', runColor(0)],
      ['#7 train loss (steps)', runColor(1)],
      ['#7 val loss', runColor(1)],
    ]);
    expect(c.loss[0].points).toHaveLength(30);
    expect(c.loss[0].points[9].x).toBe(1); // the last step of epoch 1 sits at epoch 1
    expect(c.lr[1].points).toHaveLength(20);
    expect(c.top1.map((s) => s.points.length)).toEqual([3, 3, 1, 2]);
    expect(c.top5).toHaveLength(4);
    expect(c.gap[0].points.map((p) => p.y)).toEqual([31 - 40, 32 - 45, 33 - 43]);
  });

  it('the diff table shows only the fields that differ (resolved with defaults, names aside), with best and last val top-1', () => {
    const t = diffTable([a, b]);
    expect(t.fields.map((f) => f.field)).toEqual(['optimizer.lr']);
    expect(t.rows.map((r) => [r.runId, r.values, r.bestValTop1, r.lastValTop1])).toEqual([
      [3, [0.1], 45, 43],
      [7, [0.02], 20, 20],
    ]);
    // a field an older build did not store is compared at its default
    expect(differingFields([{ train: { epochs: 3 } }, { train: { epochs: 3, earlyStopping: null } }])).toEqual([]);
    expect(normalizeConfig({ train: { epochs: 3 } })).toMatchObject({ train: { earlyStopping: null, batchSize: 128 } });
    expect(differingFields([{ augment: { randomResizedCrop: { scale: [0.08, 1] } } }, { augment: { randomResizedCrop: { scale: [0.35, 1] } } }])).toEqual([
      {
        field: 'augment.randomResizedCrop.scale',
        values: [
          [0.08, 1],
          [0.35, 1],
        ],
      },
    ]);
  });
});

describe('runs list filter', () => {
  const runs = [run(1, { tags: ['baseline'], notes: 'first try\nwith warm-up' }), run(2, { tags: ['baseline', 'lr-sweep'] }), run(3, { name: 'Wide' })];
  it('keeps runs with every chosen tag whose name, notes or tags hold the text', () => {
    expect(filterRuns(runs, '', ['baseline']).map((r) => r.id)).toEqual([1, 2]);
    expect(filterRuns(runs, '', ['baseline', 'lr-sweep']).map((r) => r.id)).toEqual([2]);
    expect(filterRuns(runs, 'WARM', []).map((r) => r.id)).toEqual([1]);
    expect(filterRuns(runs, 'wide', []).map((r) => r.id)).toEqual([3]);
    expect(filterRuns(runs, 'sweep', []).map((r) => r.id)).toEqual([2]);
    expect(tagCounts(runs)).toEqual([
      { tag: 'baseline', runs: 2 },
      { tag: 'lr-sweep', runs: 1 },
    ]);
    expect(parseTags(' a, b ,, a,c ')).toEqual(['a', 'b', 'c']);
    expect(notesPreview('first try\nwith warm-up')).toBe('first try');
    expect(notesPreview('x'.repeat(100), 10)).toBe('xxxxxxxxx…');
  });
});
