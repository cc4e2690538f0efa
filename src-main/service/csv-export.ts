// CSV export of a run's epochs, or of its lineage as one continuous series: each ancestor
// contributes its epochs up to the fork epoch of the next run in the chain, then the run's own.
// Columns are CSV_COLUMNS in order; RFC 4180 quoting (CRLF rows); numbers at full precision.
import { CSV_COLUMNS, csvRow, type EpochMetrics } from '../../src-shared/metrics';
import { differingFields, valTop1Summary } from '../../src-shared/config/compare';
import type { RunSummary } from '../../src-shared/api/schemas';
import { WorkstationError } from '../../src-shared/errors';
import type { Store } from '../store/index';

export interface CsvExport {
  /** a file name safe on every OS, e.g. "resnet50-baseline_run-3_lineage.csv" */
  filename: string;
  csv: string;
  /** data rows (without the header) */
  rows: number;
}

export interface CsvSegment {
  run: RunSummary;
  epochs: EpochMetrics[];
}

/**
 * The runs and epochs a lineage export is made of, root first. A child with no forkEpoch (not
 * expected, but possible in an old or hand-made database) continues its parent up to the epoch
 * before its own first one.
 */
export function lineageSegments(store: Store, runId: number): CsvSegment[] {
  const chain = store.runs.lineage(runId);
  const all = chain.map((run) => ({ run, epochs: store.metrics.epochs(run.id) }));
  return all.map((seg, i) => {
    const next = all[i + 1];
    if (!next) return seg;
    const limit = next.run.forkEpoch ?? (next.epochs.length > 0 ? next.epochs[0].epoch - 1 : Infinity);
    return { run: seg.run, epochs: seg.epochs.filter((e) => e.epoch <= limit) };
  });
}

/**
 * a - b rounded to the 15 significant digits of the larger operand: that drops the binary noise of
 * the subtraction (18.95 - 26.32 is -7.370000000000001 in doubles) and keeps every digit the
 * inputs carry.
 */
export function difference(a: number, b: number): number {
  const d = a - b;
  const scale = Math.max(Math.abs(a), Math.abs(b));
  if (!Number.isFinite(d) || scale === 0) return d;
  const decimals = Math.min(100, Math.max(0, 14 - Math.floor(Math.log10(scale))));
  return Number(d.toFixed(decimals));
}

/** The CSV_COLUMNS values of one epoch row (extra: values appended after them). */
function row(run: RunSummary, m: EpochMetrics, extra: unknown[] = []): string {
  // top1_gap is empty when either accuracy is missing (NaN / null): csvField writes '' for those.
  const gap = m.valTop1 === null ? null : difference(m.trainTop1, m.valTop1);
  return csvRow([
    run.id,
    run.name,
    m.epoch,
    m.trainLoss,
    m.trainTop1,
    m.trainTop5,
    m.valLoss,
    m.valTop1,
    m.valTop5,
    gap,
    m.lr,
    m.momentum,
    m.imagesPerSec,
    m.epochSeconds,
    (run.tags ?? []).join('; '),
    run.notes ?? '',
    ...extra,
  ]);
}

function mustGetRun(store: Store, runId: number): RunSummary {
  const run = store.runs.get(runId);
  if (!run) throw new WorkstationError('NOT_FOUND', `run ${runId} not found`, { field: 'runId' });
  return run;
}

function safeFileName(name: string): string {
  const s = name
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return s || 'run';
}

export function exportCsv(store: Store, runId: number, opts: { lineage: boolean }): CsvExport {
  const segments = opts.lineage ? lineageSegments(store, runId) : [{ run: mustGetRun(store, runId), epochs: store.metrics.epochs(runId) }];
  const target = segments[segments.length - 1].run;
  const lines = [csvRow([...CSV_COLUMNS])];
  let rows = 0;
  for (const seg of segments) {
    for (const m of seg.epochs) {
      lines.push(row(seg.run, m));
      rows++;
    }
  }
  return {
    filename: `${safeFileName(target.name)}_run-${target.id}${opts.lineage ? '_lineage' : ''}.csv`,
    csv: lines.join(''),
    rows,
  };
}

/** A config value as one CSV field: numbers and strings as they are, anything else as JSON. */
function configField(v: unknown): unknown {
  if (v === undefined) return '';
  return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? v : JSON.stringify(v);
}

/**
 * The comparison of several runs as one CSV: each run's epochs (in the order the runs are given)
 * with the CSV_COLUMNS, then `best_val_top1` and `last_val_top1` of the run, then one column per
 * config field that differs between the runs (named by its path, e.g. `optimizer.lr`).
 */
export function exportCompareCsv(store: Store, runIds: readonly number[]): CsvExport & { fields: string[] } {
  const ids = [...new Set(runIds)];
  const runs = ids.map((id) => ({ run: mustGetRun(store, id), epochs: store.metrics.epochs(id), config: store.runs.config(id) }));
  const diffs = differingFields(runs.map((r) => r.config));
  const lines = [csvRow([...CSV_COLUMNS, 'best_val_top1', 'last_val_top1', ...diffs.map((d) => d.field)])];
  let rows = 0;
  runs.forEach((r, i) => {
    const { best, last } = valTop1Summary(r.epochs);
    const extra = [best, last, ...diffs.map((d) => configField(d.values[i]))];
    for (const m of r.epochs) {
      lines.push(row(r.run, m, extra));
      rows++;
    }
  });
  return { filename: `compare_runs-${ids.join('-').slice(0, 60)}.csv`, csv: lines.join(''), rows, fields: diffs.map((d) => d.field) };
}
