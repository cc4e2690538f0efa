// system.gpu samples as chart series: per GPU its utilisation (%, left axis) and memory in use
// (GiB, right axis) against minutes before the newest sample (x ≤ 0). Pure, for the System view.
import type { GpuStatus } from '../../../src-shared/api/schemas';
import { COLORS, type Series } from './chart';

export function gpuSeries(status: GpuStatus): Series[] {
  const newest = status.samples.reduce((t, s) => Math.max(t, Date.parse(s.at)), -Infinity);
  const indexes = [...new Set([...status.gpus.map((g) => g.index), ...status.samples.map((s) => s.index)])].sort((a, b) => a - b);
  const several = indexes.length > 1;
  return indexes.flatMap((index, i) => {
    const mine = status.samples.filter((s) => s.index === index);
    const x = (at: string) => (Date.parse(at) - newest) / 60_000;
    const color = COLORS.palette[i % COLORS.palette.length];
    const tag = several ? ` GPU ${index}` : '';
    return [
      { label: `utilisation %${tag}`, color, points: mine.filter((s) => s.utilization !== null).map((s) => ({ x: x(s.at), y: s.utilization as number })) },
      {
        label: `memory GiB${tag}`,
        color,
        dashed: true,
        right: true,
        points: mine.filter((s) => s.memoryUsedMiB !== null).map((s) => ({ x: x(s.at), y: (s.memoryUsedMiB as number) / 1024 })),
      },
    ];
  });
}

/** The newest sample of each GPU (for the table under the chart). */
export function latestGpuSamples(status: GpuStatus): GpuStatus['samples'] {
  const last = new Map<number, GpuStatus['samples'][number]>();
  for (const s of status.samples) last.set(s.index, s);
  return [...last.values()].sort((a, b) => a.index - b.index);
}
