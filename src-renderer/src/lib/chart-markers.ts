// A chart.js plugin that draws vertical markers (fork, live augmentation change, interruption,
// resume) on a chart's epoch axis, with their labels laid out in rows so that markers close
// together (an interruption and the resume right after it) do not print over each other. Points
// above a robust y range get a triangle at the top edge and their value, in the same label rows.
import type { Chart, Plugin } from 'chart.js';
import type { OffScalePoint } from './chart-range';
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

/** "val loss 43.1 (off scale)": the series and its value to three significant digits. */
export function offScaleText(p: OffScalePoint): string {
  return `${p.label} ${Number(p.y.toPrecision(3))} (off scale)`;
}

interface Placed {
  color: string;
  text: string;
  left: number;
  width: number;
}

/** left of a label beside x: right of it, or left of it when it would run off the chart */
function labelLeft(x: number, width: number, gap: number, area: { left: number; right: number }): number {
  return x + gap + width <= area.right ? x + gap : Math.max(area.left, x - gap - width);
}

function draw(c: Chart<'line'>, markers: ChartMarker[], offScale: OffScalePoint[]): void {
  const { ctx, chartArea, scales } = c;
  ctx.save();
  ctx.font = '11px system-ui, sans-serif';
  const placed: Placed[] = [];
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
    placed.push({ color: style.color, text, left: labelLeft(x, width, 4, chartArea), width });
  }
  ctx.setLineDash([]);
  // a point above the y range: a triangle at the top edge, pointing up, and its value beside it
  for (const p of offScale) {
    const x = scales.x.getPixelForValue(p.x);
    if (x < chartArea.left - 1 || x > chartArea.right + 1) continue;
    ctx.fillStyle = p.color;
    ctx.beginPath();
    ctx.moveTo(x, chartArea.top);
    ctx.lineTo(x - 5, chartArea.top + 8);
    ctx.lineTo(x + 5, chartArea.top + 8);
    ctx.closePath();
    ctx.fill();
    const text = offScaleText(p);
    const width = ctx.measureText(text).width;
    placed.push({ color: p.color, text, left: labelLeft(x, width, 8, chartArea), width });
  }
  // one layout for both kinds of label, so a fork label and a spike's value do not overprint
  placed.sort((a, b) => a.left - b.left);
  const rows = Math.max(1, Math.min(MAX_ROWS, Math.floor((chartArea.bottom - chartArea.top) / ROW_HEIGHT / 2)));
  layoutLabels(placed, rows).forEach((row, i) => {
    if (row === null) return;
    const p = placed[i];
    ctx.fillStyle = p.color;
    ctx.fillText(p.text, p.left, chartArea.top + 12 + row * ROW_HEIGHT);
  });
  ctx.restore();
}

/**
 * The plugin; `get` (the markers) and `getOffScale` (points above the y range) are read at draw
 * time, so both can change without re-creating the chart.
 */
export function markerPlugin(get: () => ChartMarker[], getOffScale: () => OffScalePoint[] = () => []): Plugin<'line'> {
  return {
    id: 'epochMarkers',
    afterDatasetsDraw(c) {
      const markers = get();
      const offScale = getOffScale();
      if (markers.length || offScale.length) draw(c, markers, offScale);
    },
  };
}
