// Import of a past training log (tqdm progress bars + print lines, the seed project's format)
// into the store: one run per experiment, each `Checkpoint loaded, resuming from epoch N` line
// that follows training starting a child run that forks its parent at epoch N-1.
//
// What is read: the training bar `Epoch N | Loss: … | Top-1 Acc: … | Top-5 Acc: …: 100%|…| n/N
// [mm:ss<mm:ss, X it/s]` (epoch seconds = the elapsed part; images/s = it/s × batch size, the
// seed used 128), `Test Loss: …, Top-1 Accuracy: …, Top-5 Accuracy: …` (validation of that epoch),
// the per-epoch summary line (cross-checked), and resume lines. Understood and ignored: blank
// lines, `Checkpoint saved at epoch N`, progress bars without an `Epoch N |` prefix (evaluation).
// Carriage-return progress updates keep the last segment; a line a terminal wrapped is joined
// with the line(s) before it when only the joined text reads. Every other line is reported as
// unreadable with its line number; nothing is dropped silently. The log carries no lr, momentum
// or image size: those are stored as unknown (NULL, empty in CSV).
import path from 'node:path';
import type { EpochMetrics } from '../../src-shared/metrics';
import crypto from 'node:crypto';
import { WorkstationError } from '../../src-shared/errors';
import type { Store } from '../store/index';

export const DEFAULT_LOG_BATCH_SIZE = 128;

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

export interface LogLine {
  /** 1-based line number in the file (the first physical line of a wrapped line) */
  line: number;
  text: string;
}

export interface LogImportResult {
  runs: ImportedRun[];
  unreadable: LogLine[];
  /** lines that were read but did not fit (e.g. a test line with no epoch before it) */
  warnings: (LogLine & { message: string })[];
}

// ---- line grammar --------------------------------------------------------------------------

const NUM = String.raw`([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|nan|inf|-inf)`;
const TIME = String.raw`((?:\d+:)?\d+:\d\d)`;
const BAR_TAIL = String.raw`\s*(\d+)%\|[^|]*\|\s*(\d+)\/(\d+)\s*\[${TIME}<(?:\?|[\d:]+),\s*(\?|[\d.]+)(it\/s|s\/it)(?:,[^\]]*)?\]`;
const RE = {
  resume: /^Checkpoint loaded,?\s+resuming from epoch (\d+)\.?$/i,
  saved: /^Checkpoint saved at epoch \d+\.?$/i,
  trainBar: new RegExp(String.raw`^Epoch (\d+) \| Loss: ${NUM} \| Top-1 Acc: ${NUM} \| Top-5 Acc: ${NUM}:${BAR_TAIL}$`, 'i'),
  otherBar: new RegExp(String.raw`^(?:[^|]*:)?\s*\d+%\|[^|]*\|\s*\d+\/\d+\s*\[[^\]]*\]$`),
  test: new RegExp(String.raw`^Test Loss: ${NUM}, Top-1 Accuracy: ${NUM}, Top-5 Accuracy: ${NUM}$`, 'i'),
  summary: new RegExp(String.raw`^Epoch (\d+) \| Train Top-1 Acc: ${NUM} \| Test Top-1 Acc: ${NUM}$`, 'i'),
};

type Parsed =
  | { kind: 'blank' | 'harmless' }
  | { kind: 'resume'; epoch: number }
  | { kind: 'bar'; epoch: number; loss: number; top1: number; top5: number; done: boolean; n: number; total: number; seconds: number; itPerSec: number }
  | { kind: 'test'; loss: number; top1: number; top5: number }
  | { kind: 'summary'; epoch: number; trainTop1: number; valTop1: number }
  | { kind: 'unreadable' };

function num(s: string): number {
  const l = s.toLowerCase();
  if (l === 'nan') return NaN;
  if (l === 'inf') return Infinity;
  if (l === '-inf') return -Infinity;
  return Number(s);
}

function seconds(t: string): number {
  return t.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

function parseLine(text: string): Parsed {
  const t = text.trim();
  if (t === '') return { kind: 'blank' };
  let m: RegExpMatchArray | null;
  if ((m = t.match(RE.resume))) return { kind: 'resume', epoch: Number(m[1]) };
  if ((m = t.match(RE.trainBar))) {
    const [n, total] = [Number(m[6]), Number(m[7])];
    const rate = m[9] === '?' ? NaN : Number(m[9]);
    return {
      kind: 'bar',
      epoch: Number(m[1]),
      loss: num(m[2]),
      top1: num(m[3]),
      top5: num(m[4]),
      done: n >= total && total > 0,
      n,
      total,
      seconds: seconds(m[8]),
      itPerSec: m[10] === 's/it' ? 1 / rate : rate,
    };
  }
  if ((m = t.match(RE.test))) return { kind: 'test', loss: num(m[1]), top1: num(m[2]), top5: num(m[3]) };
  if ((m = t.match(RE.summary))) return { kind: 'summary', epoch: Number(m[1]), trainTop1: num(m[2]), valTop1: num(m[3]) };
  if (RE.saved.test(t) || RE.otherBar.test(t)) return { kind: 'harmless' };
  return { kind: 'unreadable' };
}

// ---- physical lines → logical lines --------------------------------------------------------

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** What a terminal showed last on a physical line: the segment after the last carriage return. */
function lastSegment(raw: string): string {
  const segments = raw.replace(ANSI, '').split('\r');
  for (let i = segments.length - 1; i >= 0; i--) if (segments[i].trim() !== '') return segments[i].trimEnd();
  return '';
}

interface Logical extends LogLine {
  parsed: Parsed;
}

/** How many earlier lines a wrapped line may continue (a bar wrapped on a narrow terminal). */
const MAX_WRAP_PIECES = 4;

export function readLogLines(text: string): Logical[] {
  const out: Logical[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = lastSegment(raw);
    const parsed = parseLine(line);
    if (parsed.kind !== 'unreadable') {
      out.push({ line: i + 1, text: line, parsed });
      return;
    }
    // A wrapped continuation: join with the previous piece(s) (all but the first unreadable on
    // their own) and keep the join if it reads. Terminals break mid-word; copies may have
    // trimmed a space at the break, so try both.
    for (let k = 1; k <= MAX_WRAP_PIECES - 1 && k <= out.length; k++) {
      const pieces = out.slice(out.length - k);
      if (pieces.some((p) => p.parsed.kind === 'blank')) break;
      if (pieces.slice(1).some((p) => p.parsed.kind !== 'unreadable')) break;
      const head = pieces.map((p) => p.text).join('');
      for (const joined of [head + line, `${head} ${line}`]) {
        const p = parseLine(joined);
        if (p.kind !== 'unreadable') {
          out.splice(out.length - k, k, { line: pieces[0].line, text: joined, parsed: p });
          return;
        }
      }
    }
    out.push({ line: i + 1, text: line, parsed });
  });
  return out;
}

// ---- logical lines → runs ------------------------------------------------------------------

export interface ParsedRun {
  /** index into the returned runs of the parent, null for a root */
  parent: number | null;
  forkEpoch: number | null;
  /** line of the resume that started this run, null for the first */
  resumeLine: number | null;
  epochs: EpochMetrics[];
}

export interface ParsedLog {
  runs: ParsedRun[];
  unreadable: LogLine[];
  warnings: (LogLine & { message: string })[];
}

export function parseTrainingLog(text: string, opts: { batchSize?: number } = {}): ParsedLog {
  const batchSize = opts.batchSize ?? DEFAULT_LOG_BATCH_SIZE;
  const runs: ParsedRun[] = [];
  const unreadable: LogLine[] = [];
  const warnings: (LogLine & { message: string })[] = [];
  let current: ParsedRun | null = null;
  let pending: { metrics: EpochMetrics; line: number } | null = null;

  const startRun = (parent: number | null, forkEpoch: number | null, resumeLine: number | null): ParsedRun => {
    const run: ParsedRun = { parent, forkEpoch, resumeLine, epochs: [] };
    runs.push(run);
    return run;
  };
  const finish = () => {
    if (!pending || !current) return;
    const m = pending.metrics;
    const dup = current.epochs.findIndex((e) => e.epoch === m.epoch);
    if (dup >= 0) {
      warnings.push({ line: pending.line, text: `Epoch ${m.epoch}`, message: `epoch ${m.epoch} appears twice in one run; the later one is kept` });
      current.epochs.splice(dup, 1);
    }
    current.epochs.push(m);
    pending = null;
  };

  for (const l of readLogLines(text)) {
    const p = l.parsed;
    switch (p.kind) {
      case 'blank':
      case 'harmless':
        break;
      case 'unreadable':
        unreadable.push({ line: l.line, text: l.text });
        break;
      case 'resume':
        finish();
        if (current && current.epochs.length > 0) {
          if (!current.epochs.some((e) => e.epoch === p.epoch - 1)) {
            warnings.push({ line: l.line, text: l.text, message: `resumes from epoch ${p.epoch}, but the run before it has no epoch ${p.epoch - 1}` });
          }
          current = startRun(runs.indexOf(current), p.epoch - 1, l.line);
        } else if (current) {
          // A second resume before any training: the later one says where training starts.
          if (current.parent !== null) current.forkEpoch = p.epoch - 1;
          current.resumeLine = l.line;
        } else {
          // Before any training it only says where the first run starts.
          current = startRun(null, null, null);
        }
        break;
      case 'bar': {
        if (!p.done) {
          warnings.push({ line: l.line, text: l.text, message: `epoch ${p.epoch} stopped at ${p.n}/${p.total} steps; not imported` });
          break;
        }
        finish();
        if (!current) current = startRun(null, null, null);
        const last = current.epochs[current.epochs.length - 1];
        if (last && p.epoch <= last.epoch) {
          warnings.push({
            line: l.line,
            text: l.text,
            message: `epoch went back from ${last.epoch} to ${p.epoch} without a "Checkpoint loaded" line; treated as a resume from epoch ${p.epoch}`,
          });
          current = startRun(runs.indexOf(current), p.epoch - 1, l.line);
        }
        pending = {
          line: l.line,
          metrics: {
            epoch: p.epoch,
            trainLoss: p.loss,
            trainTop1: p.top1,
            trainTop5: p.top5,
            valLoss: null,
            valTop1: null,
            valTop5: null,
            lr: NaN,
            momentum: NaN,
            imagesPerSec: p.itPerSec * batchSize,
            epochSeconds: p.seconds,
            skippedFiles: 0,
            imageSize: NaN,
          },
        };
        break;
      }
      case 'test':
        if (!pending || pending.metrics.valTop1 !== null) {
          warnings.push({ line: l.line, text: l.text, message: 'test results without a finished training epoch before them; not imported' });
          break;
        }
        Object.assign(pending.metrics, { valLoss: p.loss, valTop1: p.top1, valTop5: p.top5 });
        break;
      case 'summary':
        if (!pending || pending.metrics.epoch !== p.epoch) {
          warnings.push({ line: l.line, text: l.text, message: `summary of epoch ${p.epoch} without its progress bar; not imported` });
          break;
        }
        if (pending.metrics.valTop1 === null) pending.metrics.valTop1 = p.valTop1;
        if (Math.abs(pending.metrics.trainTop1 - p.trainTop1) > 0.01 || Math.abs((pending.metrics.valTop1 ?? NaN) - p.valTop1) > 0.01) {
          warnings.push({ line: l.line, text: l.text, message: `summary of epoch ${p.epoch} disagrees with the progress bar / test line; those are kept` });
        }
        break;
    }
  }
  finish();
  return { runs, unreadable, warnings };
}

// ---- into the store ------------------------------------------------------------------------

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
