// Markers for a run's breaks on an epoch axis: where it was interrupted and where it resumed from
// (by hand or automatically after a crash). A resume from a checkpoint sits at that checkpoint
// (E − 1 + S/N for a mid-epoch one), a restart where the run started (its fork point); an
// interruption at the point the run goes back to: the next resume's, else its newest checkpoint,
// else its last finished epoch, else where it started. A resume in place (after a pause) loses
// nothing and gets no marker.
import type { CheckpointInfo, RunEvent, RunSummary } from '../../../src-shared/api/schemas';
import { checkpointX, newestCheckpoint } from './checkpoints';
import { describeEvent } from './event-text';
import { runStartX } from './series';

export type MarkerKind = 'fork' | 'augment' | 'resume' | 'interrupted';

/** A vertical line on a chart's epoch axis, with a short label. */
export interface ChartMarker {
  x: number;
  kind: MarkerKind;
  /** the text drawn beside the line */
  label: string;
  /** a resume the service made by itself after a crash */
  auto?: boolean;
}

export interface RunBreakMarker extends ChartMarker {
  kind: 'resume' | 'interrupted';
  runId: number;
  /** the event as a sentence (event-text.ts) */
  text: string;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Where a resume event continued from, on the epoch axis; null for a resume in place. */
function resumeX(e: RunEvent, start: number, stepsPerEpoch: number | null): number | null {
  if (e.data.mode === 'in-place') return null;
  const epoch = num(e.data.checkpointEpoch);
  if (epoch === null) return start; // a restart: from where the run started
  const kind = e.data.checkpointKind === 'mid-epoch' ? 'mid-epoch' : 'epoch';
  return checkpointX({ kind, epoch, stepInEpoch: num(e.data.stepInEpoch) }, stepsPerEpoch);
}

function resumeLabel(e: RunEvent): string {
  const head = e.data.auto === true ? 'auto-resumed' : 'resumed';
  const epoch = num(e.data.checkpointEpoch);
  if (epoch === null) return e.data.auto === true ? 'auto-restarted' : 'restarted';
  const step = num(e.data.stepInEpoch);
  return e.data.checkpointKind === 'mid-epoch' && step !== null ? `${head} at epoch ${epoch} step ${step}` : `${head} after epoch ${epoch}`;
}

export function runBreakMarkers(run: RunSummary, events: RunEvent[], stepsPerEpoch: number | null, checkpoints: CheckpointInfo[] = []): RunBreakMarker[] {
  const out: RunBreakMarker[] = [];
  const ordered = [...events].sort((a, b) => a.id - b.id);
  const start = runStartX(run, ordered, stepsPerEpoch);
  ordered.forEach((e, i) => {
    const text = describeEvent(e) ?? e.kind;
    if (e.kind === 'resume') {
      const x = resumeX(e, start, stepsPerEpoch);
      if (x !== null) out.push({ x, kind: 'resume', runId: run.id, label: resumeLabel(e), auto: e.data.auto === true, text });
    } else if (e.kind === 'interrupted') {
      const next = ordered.slice(i + 1).find((n) => n.kind === 'resume' && n.data.mode !== 'in-place');
      const newest = newestCheckpoint(checkpoints);
      const x = next ? resumeX(next, start, stepsPerEpoch) : newest ? checkpointX(newest, stepsPerEpoch) : null;
      out.push({ x: x ?? e.epoch ?? run.lastEpoch ?? start, kind: 'interrupted', runId: run.id, label: 'interrupted', text });
    }
  });
  return out.sort((a, b) => a.x - b.x);
}
