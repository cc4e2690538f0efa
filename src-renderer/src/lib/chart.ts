// chart.js with only the pieces the app uses (tree-shaken), themed for the dark UI.
import { debiasedEma, fade } from './smoothing';
import { Chart, Filler, Legend, LineController, LineElement, LinearScale, LogarithmicScale, PointElement, Tooltip } from 'chart.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip, Filler);
Chart.defaults.color = '#aab1bd';
Chart.defaults.borderColor = 'rgba(255,255,255,0.08)';
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", sans-serif';
Chart.defaults.font.size = 11;

export { Chart };

export interface Point {
  x: number;
  y: number;
}

export interface Series {
  label: string;
  color: string;
  points: Point[];
  dashed?: boolean;
  /** draw point dots (epoch series) or not (dense step series) */
  dots?: boolean;
  /** plot against the right-hand axis */
  right?: boolean;
  /** the faint raw copy drawn behind a smoothed series (left out of the legend) */
  raw?: boolean;
  /** another run's curve drawn faint for context (a child's parent up to the fork; left out of the legend) */
  context?: boolean;
}

export const COLORS = {
  train: '#5b9cf5',
  val: '#f5a25b',
  trainLight: 'rgba(91,156,245,0.35)',
  gap: '#c77dff',
  lr: '#4fd1a5',
  momentum: '#f56b8d',
  palette: ['#5b9cf5', '#f5a25b', '#4fd1a5', '#c77dff', '#f56b8d', '#e9d66b', '#7fd3f7'],
};

/**
 * The options every line chart of the app shares: drawn at once (no animation), sized by its
 * wrapper, data already in {x, y} form, the nearest point's tooltip. Charts add scales and plugins.
 */
export const BASE_LINE_OPTIONS = {
  animation: false,
  responsive: true,
  maintainAspectRatio: false,
  parsing: false,
  interaction: { mode: 'nearest', intersect: false },
} as const;

/** The legend every chart has: at the bottom, short line swatches; `filter` e.g. legendWithoutRaw. */
export function bottomLegend(filter?: (item: { datasetIndex?: number }, data: { datasets: unknown[] }) => boolean) {
  return { position: 'bottom' as const, labels: { boxWidth: 12, boxHeight: 2, ...(filter ? { filter } : {}) } };
}

/** Turns a Series into a chart.js dataset (plain objects: chart.js must not see Svelte proxies). */
export function toDataset(s: Series) {
  return {
    label: s.label,
    data: s.points.map((p) => ({ x: p.x, y: p.y })),
    borderColor: s.color,
    backgroundColor: s.color,
    borderWidth: s.dots ? 2 : 1.25,
    borderDash: s.dashed ? [5, 4] : [],
    pointRadius: s.dots ? 2.5 : 0,
    pointHoverRadius: 4,
    tension: 0,
    spanGaps: true,
    yAxisID: s.right ? 'y1' : 'y',
    /** read by the legend filter: raw copies behind smoothed lines and context curves have no legend entry */
    isRaw: s.raw === true || s.context === true,
  };
}

/**
 * The series as drawn at a smoothing weight: unchanged at 0; else each becomes its raw points,
 * faint and thin, followed by the smoothed line in its own colour (TensorBoard's look).
 */
export function smoothSeries(series: Series[], weight: number): Series[] {
  if (!(weight > 0)) return series;
  return series.flatMap((s) => [
    { ...s, label: `${s.label} (raw)`, color: fade(s.color, 0.22), dots: false, raw: true },
    { ...s, points: debiasedEma(s.points, weight) },
  ]);
}

/**
 * Another run's series as faint context on this run's chart: labelled with that run, faded, without
 * dots, only the points in [from, until] (a parent up to the fork); series left empty are dropped.
 */
export function contextSeries(series: Series[], runId: number, from: number, until: number): Series[] {
  const eps = 1e-9;
  return series
    .map((s) => ({
      ...s,
      label: `#${runId} ${s.label}`,
      color: fade(s.color, 0.35),
      dots: false,
      context: true,
      points: s.points.filter((p) => p.x >= from - eps && p.x <= until + eps),
    }))
    .filter((s) => s.points.length > 0);
}

/** chart.js legend filter that hides the raw copies. */
export const legendWithoutRaw = (item: { datasetIndex?: number }, data: { datasets: unknown[] }): boolean =>
  !(data.datasets[item.datasetIndex ?? -1] as { isRaw?: boolean } | undefined)?.isRaw;

/** True when the positive values span more than `ratio` (a loss that blew up): the chart reads better on a log axis. */
export function spansDecades(series: Series[], ratio = 100): boolean {
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter((y) => y > 0 && Number.isFinite(y));
  return ys.length > 1 && Math.max(...ys) / Math.min(...ys) > ratio;
}
