// The System view's GPU chart data (src-renderer/src/lib/gpu-series.ts): per GPU, utilisation (%)
// and memory in use (GiB, right axis) against minutes before the newest sample; [N/A] values are
// gaps, not zeros; the table shows each GPU's newest sample.
import { describe, expect, it } from 'vitest';
import type { GpuStatus } from '../../src-shared/api/schemas';
import { gpuSeries, latestGpuSamples } from '../../src-renderer/src/lib/gpu-series';

const sample = (at: string, index: number, utilization: number | null, memoryUsedMiB: number | null) => ({
  at,
  index,
  utilization,
  memoryUsedMiB,
  powerW: null,
  temperatureC: null,
});

const status: GpuStatus = {
  available: true,
  gpus: [
    { index: 0, name: 'NVIDIA A10G', memoryTotalMiB: 23028, driver: '535.104.05' },
    { index: 1, name: 'NVIDIA A10G', memoryTotalMiB: 23028, driver: '535.104.05' },
  ],
  samples: [
    sample('2026-12-01T10:00:00.000Z', 0, 90, 10240),
    sample('2026-12-01T10:00:00.000Z', 1, null, 2048),
    sample('2026-12-01T10:01:00.000Z', 0, 95, 20480),
    sample('2026-12-01T10:01:00.000Z', 1, 5, null),
  ],
};

describe('GPU chart series', () => {
  it('one utilisation and one memory series per GPU, x in minutes up to the newest sample', () => {
    const s = gpuSeries(status);
    expect(s.map((x) => [x.label, x.right ?? false])).toEqual([
      ['utilisation % GPU 0', false],
      ['memory GiB GPU 0', true],
      ['utilisation % GPU 1', false],
      ['memory GiB GPU 1', true],
    ]);
    expect(s[0].points).toEqual([
      { x: -1, y: 90 },
      { x: 0, y: 95 },
    ]);
    expect(s[1].points).toEqual([
      { x: -1, y: 10 },
      { x: 0, y: 20 },
    ]);
    // [N/A] is a gap
    expect(s[2].points).toEqual([{ x: 0, y: 5 }]);
    expect(s[3].points).toEqual([{ x: -1, y: 2 }]);
  });

  it('one GPU needs no index in the legend; no samples, empty series', () => {
    const one = { ...status, gpus: status.gpus.slice(0, 1), samples: status.samples.filter((x) => x.index === 0) };
    expect(gpuSeries(one).map((x) => x.label)).toEqual(['utilisation %', 'memory GiB']);
    expect(gpuSeries({ available: false, gpus: [], samples: [] })).toEqual([]);
  });

  it("the table's newest sample per GPU", () => {
    expect(latestGpuSamples(status).map((x) => [x.index, x.at])).toEqual([
      [0, '2026-12-01T10:01:00.000Z'],
      [1, '2026-12-01T10:01:00.000Z'],
    ]);
  });
});
