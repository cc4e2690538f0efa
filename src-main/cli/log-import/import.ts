// Writes a parsed training log into the store through its repositories: one run per parsed run
// (children linked to their parent with a fork event), all in one transaction, and refuses a log
// whose exact text was imported before unless asked to allow the duplicate.
import path from 'node:path';
import crypto from 'node:crypto';
import { WorkstationError } from '../../../src-shared/errors';
import type { Store } from '../../store/index';
import { parseTrainingLog } from './assemble';
import type { LogLine } from './join-lines';

export interface LogImportOptions {
  /** base name of the runs; default: the source file name without extension */
  name?: string;
  /** where the log came from (file path), stored in the runs' config */
  source?: string;
  /** training batch size, to turn the bar's it/s into images/s (default 128, the seed's) */
  batchSize?: number;
  /** import a log whose exact text was imported before (otherwise refused: it would duplicate runs) */
  allowDuplicate?: boolean;
}

export interface ImportedRun {
  id: number;
  name: string;
  parentRunId: number | null;
  forkEpoch: number | null;
  /** number of epochs imported into this run */
  epochs: number;
  firstEpoch: number;
  lastEpoch: number;
  bestValTop1: number | null;
}

export interface LogImportResult {
  runs: ImportedRun[];
  unreadable: LogLine[];
  /** lines that were read but did not fit (e.g. a test line with no epoch before it) */
  warnings: (LogLine & { message: string })[];
}

function baseName(opts: LogImportOptions): string {
  if (opts.name && opts.name.trim()) return opts.name.trim();
  if (opts.source) return path.basename(opts.source).replace(/\.[^.]*$/, '') || 'imported-log';
  return 'imported-log';
}

/** Parses the log and writes its runs in one transaction (all of them or none). */
export function importLog(store: Store, text: string, opts: LogImportOptions = {}): LogImportResult {
  if (opts.batchSize !== undefined && !(Number.isInteger(opts.batchSize) && opts.batchSize > 0)) {
    throw new WorkstationError('INVALID_ARGUMENT', `batch size must be a positive integer, got ${opts.batchSize}`, { field: 'batchSize' });
  }
  // Importing the same log twice would silently double its runs in every list and chart.
  const sha256 = crypto.createHash('sha256').update(text).digest('hex');
  if (!opts.allowDuplicate) {
    const previous = store.runs.list().find((r) => {
      const c = store.runs.config(r.id) as { imported?: unknown; sha256?: unknown };
      return c.imported === true && c.sha256 === sha256;
    });
    if (previous) {
      throw new WorkstationError(
        'INVALID_STATE',
        `${opts.source ?? 'this log'} was already imported (run #${previous.id} ${previous.name}); pass --allow-duplicate to import it again`,
        { field: 'file', path: opts.source },
      );
    }
  }
  const parsed = parseTrainingLog(text, { batchSize: opts.batchSize });
  const base = baseName(opts);
  const warnings = [...parsed.warnings];
  const runs = store.transaction(() => {
    const ids: (number | null)[] = [];
    const created: ImportedRun[] = [];
    parsed.runs.forEach((r, i) => {
      const parentId = r.parent === null ? null : ids[r.parent];
      if (r.epochs.length === 0) {
        ids.push(parentId);
        if (r.resumeLine !== null)
          warnings.push({
            line: r.resumeLine,
            text: `resuming from epoch ${(r.forkEpoch ?? 0) + 1}`,
            message: 'no finished epoch after this resume; no run created',
          });
        return;
      }
      const epochs = [...r.epochs].sort((a, b) => a.epoch - b.epoch);
      const first = epochs[0].epoch;
      const last = epochs[epochs.length - 1].epoch;
      const name = parentId === null && i === 0 ? base : `${base}-resume-e${(r.forkEpoch ?? first - 1) + 1}`;
      const run = store.runs.create({
        name,
        config: { imported: true, source: opts.source ?? null, sha256 },
        seed: 0,
        targetEpochs: last,
        parentRunId: parentId,
        forkEpoch: parentId === null ? null : r.forkEpoch,
        status: 'completed',
      });
      ids.push(run.id);
      for (const m of epochs) store.metrics.addEpoch(run.id, m);
      if (parentId !== null) {
        store.events.add({
          runId: run.id,
          kind: 'fork',
          epoch: first,
          data: { parentRunId: parentId, forkEpoch: r.forkEpoch, diff: [], source: 'import', line: r.resumeLine },
        });
      }
      const vals = epochs.map((e) => e.valTop1).filter((v): v is number => v !== null && Number.isFinite(v));
      created.push({
        id: run.id,
        name,
        parentRunId: parentId,
        forkEpoch: parentId === null ? null : r.forkEpoch,
        epochs: epochs.length,
        firstEpoch: first,
        lastEpoch: last,
        bestValTop1: vals.length ? Math.max(...vals) : null,
      });
    });
    return created;
  });
  return { runs, unreadable: parsed.unreadable, warnings: warnings.sort((a, b) => a.line - b.line) };
}
