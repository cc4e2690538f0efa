// The Runs view's comparison: the chosen runs' curves overlaid on one epoch axis, each run in its
// own colour (train per step at full resolution, val per epoch), and the rows of the
// hyperparameter diff table (only the config fields that differ, with best and last val top-1).
import { differingFields, valTop1Summary, type FieldDiff } from '../../../src-shared/config/compare';
import type { RunDetail } from '../state/runs.svelte';
import { COLORS, type Series } from './chart';
import { epochPoints, stepPoints } from './series';

export interface CompareCharts {
  loss: Series[];
  top1: Series[];
  top5: Series[];
  gap: Series[];
  lr: Series[];
}

/** The colour of the i-th chosen run. */
export function runColor(i: number): string {
  return COLORS.palette[i % COLORS.palette.length];
}

export function compareSeries(details: readonly RunDetail[]): CompareCharts {
  const out: CompareCharts = { loss: [], top1: [], top5: [], gap: [], lr: [] };
  details.forEach((d, i) => {
    const color = runColor(i);
    const id = `#${d.run.id}`;
    out.loss.push({ label: `${id} train loss (steps)`, color, points: stepPoints(d.steps, d.stepsInEpoch, (s) => s.loss) });
    out.loss.push({ label: `${id} val loss`, color, dots: true, dashed: true, points: epochPoints(d.epochs, (m) => m.valLoss) });
    out.top1.push({ label: `${id} val top-1`, color, dots: true, points: epochPoints(d.epochs, (m) => m.valTop1) });
    out.top1.push({ label: `${id} train top-1`, color, dots: true, dashed: true, points: epochPoints(d.epochs, (m) => m.trainTop1) });
    out.top5.push({ label: `${id} val top-5`, color, dots: true, points: epochPoints(d.epochs, (m) => m.valTop5) });
    out.top5.push({ label: `${id} train top-5`, color, dots: true, dashed: true, points: epochPoints(d.epochs, (m) => m.trainTop5) });
    out.gap.push({
      label: `${id} train − val top-1`,
      color,
      dots: true,
      points: epochPoints(d.epochs, (m) => (m.valTop1 === null ? null : m.trainTop1 - m.valTop1)),
    });
    out.lr.push({ label: `${id} lr`, color, points: stepPoints(d.steps, d.stepsInEpoch, (s) => s.lr) });
  });
  return out;
}

export interface DiffTable {
  fields: FieldDiff[];
  rows: { runId: number; name: string; color: string; values: unknown[]; bestValTop1: number | null; lastValTop1: number | null }[];
}

export function diffTable(details: readonly RunDetail[]): DiffTable {
  const fields = differingFields(details.map((d) => d.config));
  return {
    fields,
    rows: details.map((d, i) => {
      const { best, last } = valTop1Summary(d.epochs);
      return { runId: d.run.id, name: d.run.name, color: runColor(i), values: fields.map((f) => f.values[i]), bestValTop1: best, lastValTop1: last };
    }),
  };
}
