// A run's chart series on the epoch axis (src-renderer/src/lib/series.ts, chart.ts): where a run
// starts (its fork point, inside an epoch for a mid-epoch fork), a parent's curves as faint
// context up to the fork (no legend entry), and what an empty chart says instead of a bare grid.
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src-shared/api/schemas';
import { contextSeries, legendWithoutRaw, smoothSeries, toDataset } from '../../src-renderer/src/lib/chart';
import type { Series } from '../../src-renderer/src/lib/chart';
import { emptyChartText, runStartX } from '../../src-renderer/src/lib/series';

const forkEvent = (data: Record<string, unknown>): RunEvent => ({
  id: 1,
  runId: 2,
  kind: 'fork',
  epoch: null,
  globalStep: null,
  at: '2026-01-01T00:00:00.000Z',
  data,
});

describe('runStartX', () => {
  it('0 for a run that is no fork; the fork epoch for an end-of-epoch fork', () => {
    expect(runStartX({ forkEpoch: null }, [], null)).toBe(0);
    expect(runStartX({ forkEpoch: 2 }, [], null)).toBe(2);
    expect(runStartX({ forkEpoch: 2 }, [forkEvent({ forkEpoch: 2, checkpointKind: 'epoch' })], 100)).toBe(2);
  });

  it('inside the epoch for a mid-epoch fork', () => {
    expect(runStartX({ forkEpoch: 3 }, [forkEvent({ forkEpoch: 3, checkpointKind: 'mid-epoch', stepInEpoch: 25 })], 100)).toBeCloseTo(2.25);
  });
});

describe('contextSeries', () => {
  const parent: Series[] = [
    { label: 'val loss', color: '#f5a25b', dots: true, points: [1, 2, 3, 4].map((x) => ({ x, y: 5 - x })) },
    { label: 'lr', color: '#4fd1a5', points: [{ x: 3.5, y: 0.1 }] },
  ];

  it("keeps the parent's points up to the fork, faint, labelled with the run, without dots; drops emptied series", () => {
    const c = contextSeries(parent, 7, 0, 2);
    expect(c).toHaveLength(1);
    expect(c[0]).toMatchObject({ label: '#7 val loss', color: 'rgba(245,162,91,0.35)', dots: false, context: true });
    expect(c[0].points.map((p) => p.x)).toEqual([1, 2]);
  });

  it('has no legend entry, smoothed or not', () => {
    const drawn = [...contextSeries(parent, 7, 0, 4), { label: 'val loss', color: '#f5a25b', points: [{ x: 5, y: 1 }] }];
    for (const weight of [0, 0.6]) {
      const datasets = smoothSeries(drawn, weight).map(toDataset);
      const legend = datasets.filter((_, i) => legendWithoutRaw({ datasetIndex: i }, { datasets })).map((d) => d.label);
      expect(legend).toEqual(['val loss']);
    }
  });
});

describe('emptyChartText', () => {
  const facts = { status: 'running' as const, logEverySteps: 50, epoch: 0, epochRows: 0 };

  it('a training run: after how many steps the first points appear', () => {
    expect(emptyChartText('steps', facts)).toBe('No data yet — the first points appear after 50 steps (progress every 50 steps)');
    expect(emptyChartText('steps', { ...facts, status: 'queued' })).toBe(
      'No data yet — the run is queued; its first points appear 50 steps after it starts (progress every 50 steps)',
    );
    expect(emptyChartText('steps', { ...facts, logEverySteps: null })).toBe('No data yet — the first points appear as the run trains');
  });

  it('validation: at the end of the next epoch (a child: the one after its fork epoch)', () => {
    expect(emptyChartText('validation', facts)).toBe('No data yet — validation points appear at the end of epoch 1');
    expect(emptyChartText('validation', { ...facts, epoch: 2 })).toBe('No data yet — validation points appear at the end of epoch 3');
  });

  it('a run that ended without points says so', () => {
    expect(emptyChartText('steps', { ...facts, status: 'stopped' })).toBe(
      'No data — the run stopped before its first progress point (progress every 50 steps)',
    );
    expect(emptyChartText('validation', { ...facts, status: 'failed' })).toBe('No validation points — the run failed before the end of epoch 1');
    expect(emptyChartText('validation', { ...facts, status: 'completed', epochRows: 3 })).toBe(
      "No validation results: the run's 3 epochs have no validation pass",
    );
    // epoch rows without steps (imported from a log)
    expect(emptyChartText('steps', { ...facts, status: 'completed', epochRows: 1 })).toBe("No step progress recorded: the run's epoch has no per-step samples");
  });
});
