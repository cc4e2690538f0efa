// A chart.js plugin that draws vertical markers (fork, live augmentation change, interruption,
// resume) on a chart's epoch axis, with their labels laid out in rows so that markers close
// together (an interruption and the resume right after it) do not print over each other.
import type { Chart, Plugin } from 'chart.js';
import type { ChartMarker, MarkerKind } from './run-markers';

export const MARKER_STYLE: Record<MarkerKind, { color: string; dash: number[] }> = {
  fork: { color: '#e9d66b', dash: [] },
  augment: { color: '#4fd1a5', dash: [4, 3] },
  resume: { color: '#7fd3f7', dash: [2, 3] },
  interrupted: { color: '#f0687c', dash: [6, 3] },
};

/** The text drawn beside a marker's line. */
export function markerText(m: ChartMarker): string {
  if (m.kind === 'fork') return `fork ${m.label}`;
  if (m.kind === 'augment') return 'aug';
  return m.label;
}

/**
 * Rows for labels given left to right: each goes in the first row where it starts at least `gap`
 * px after the label before it in that row ends; null when no row has room (the label is left
 * out, the line is still drawn).
 */
export function layoutLabels(items: { left: number; width: number }[], rows: number, gap = 6): (number | null)[] {
  const ends: number[] = [];
  return items.map((it) => {
    for (let r = 0; r < rows; r++) {
      if (ends[r] === undefined || it.left >= ends[r] + gap) {
        ends[r] = it.left + it.width;
        return r;
      }
    }
    return null;
  });
}

const ROW_HEIGHT = 13;
const MAX_ROWS = 6;

function draw(c: Chart<'line'>, markers: ChartMarker[]): void {
  const { ctx, chartArea, scales } = c;
  ctx.save();
  ctx.font = '11px system-ui, sans-serif';
  const placed: { m: ChartMarker; x: number; text: string; left: number; width: number }[] = [];
  for (const m of markers) {
    const x = scales.x.getPixelForValue(m.x);
    if (x < chartArea.left - 1 || x > chartArea.right + 1) continue;
    const style = MARKER_STYLE[m.kind];
    ctx.strokeStyle = style.color;
    ctx.lineWidth = 1.5;
    ctx.setLineDash(style.dash);
    ctx.beginPath();
    ctx.moveTo(x, chartArea.top);
    ctx.lineTo(x, chartArea.bottom);
    ctx.stroke();
    const text = markerText(m);
    const width = ctx.measureText(text).width;
    // right of the line, or left of it when it would run off the chart
    const left = x + 4 + width <= chartArea.right ? x + 4 : Math.max(chartArea.left, x - 4 - width);
    placed.push({ m, x, text, left, width });
  }
  ctx.setLineDash([]);
  placed.sort((a, b) => a.left - b.left);
  const rows = Math.max(1, Math.min(MAX_ROWS, Math.floor((chartArea.bottom - chartArea.top) / ROW_HEIGHT / 2)));
  layoutLabels(placed, rows).forEach((row, i) => {
    if (row === null) return;
    const p = placed[i];
    ctx.fillStyle = MARKER_STYLE[p.m.kind].color;
    ctx.fillText(p.text, p.left, chartArea.top + 12 + row * ROW_HEIGHT);
  });
  ctx.restore();
}

/** The plugin; `get` is read at draw time, so markers can change without re-creating the chart. */
export function markerPlugin(get: () => ChartMarker[]): Plugin<'line'> {
  return {
    id: 'epochMarkers',
    afterDatasetsDraw(c) {
      const markers = get();
      if (markers.length) draw(c, markers);
    },
  };
}
