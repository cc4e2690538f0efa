// Logical lines → runs of epochs: one run per experiment, each `Checkpoint loaded, resuming from
// epoch N` line that follows training starting a child run that forks its parent at epoch N-1.
// Bars give the training values (images/s = it/s × batch size, the seed used 128), test lines the
// validation of that epoch, the summary line is cross-checked; what does not fit is a warning.
// The log carries no lr, momentum or image size: those are NaN here (stored as unknown: NULL,
// empty in CSV).
import type { EpochMetrics } from '../../../src-shared/metrics';
import { readLogLines, type LogLine } from './join-lines';

export const DEFAULT_LOG_BATCH_SIZE = 128;

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
