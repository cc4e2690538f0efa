// One line of plain language per run event for the dashboard's event list: the backend note,
// the augmentation fields a live change touched, the config diff of a fork, an interruption and
// how the run was resumed (by hand or automatically after a crash, from which checkpoint), a
// failed checkpoint write and what to do about it. Kinds without a readable form return null and
// are shown as their raw data.
import type { RunEvent } from '../../../src-shared/api/schemas';
import { clock, value } from './format';
import { asDiff, patchAsDiff, type DiffEntry } from './lineage';

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v : null);

function diffText(diff: DiffEntry[], prefix = ''): string {
  // the same "field: from → to" the lineage chart's markers use
  return diff
    .map((d) => `${d.field.startsWith(prefix) ? d.field.slice(prefix.length) : d.field}: ${d.from === undefined ? '' : `${value(d.from)} → `}${value(d.to)}`)
    .join(', ');
}

function noteText(data: Record<string, unknown>): string | null {
  const backend = str(data.backend);
  if (backend) {
    const reason = str(data.reason);
    const gpu = str(data.gpu);
    return `backend ${backend}${reason ? ` — ${reason}` : ''}${gpu ? ` (GPU: ${gpu})` : ''}`;
  }
  return str(data.message);
}

function augmentText(data: Record<string, unknown>): string | null {
  const recorded = asDiff(data.diff);
  const diff = recorded.length ? recorded : data.patch === undefined ? [] : patchAsDiff(data.patch);
  return diff.length ? diffText(diff, 'augment.') : null;
}

const int = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** "epoch 3 step 120" for a mid-epoch checkpoint, "epoch 3" for an epoch one. */
function atStep(epoch: number, kind: unknown, step: unknown): string {
  return kind === 'mid-epoch' && int(step) !== null ? `epoch ${epoch} step ${int(step)}` : `epoch ${epoch}`;
}

function forkText(data: Record<string, unknown>): string {
  const parent = typeof data.parentRunId === 'number' ? `from #${data.parentRunId}` : 'forked';
  const at = typeof data.forkEpoch === 'number' ? ` at ${atStep(data.forkEpoch, data.checkpointKind, data.stepInEpoch)}` : '';
  const diff = asDiff(data.diff).filter((d) => d.field !== 'name');
  return `${parent}${at}: ${diff.length ? diffText(diff) : 'same settings'}`;
}

/** The checkpoint a resume continued from, as its event recorded it. */
function checkpointPhrase(data: Record<string, unknown>): string | null {
  const epoch = int(data.checkpointEpoch);
  if (epoch === null) return null;
  return data.checkpointKind === 'mid-epoch'
    ? `the mid-epoch checkpoint at ${atStep(epoch, 'mid-epoch', data.stepInEpoch)}`
    : `the checkpoint at the end of epoch ${epoch}`;
}

function resumeText(data: Record<string, unknown>): string {
  const auto = data.auto === true;
  const was = !auto && str(data.fromStatus) ? ` (it was ${str(data.fromStatus)})` : '';
  if (data.mode === 'in-place') return 'Resumed where it was paused';
  if (data.mode === 'restart')
    return `${auto ? 'Restarted automatically after a crash' : 'Restarted'} from where it started: it had no checkpoint of its own yet${was}`;
  const from = checkpointPhrase(data);
  const head = auto ? 'Resumed automatically after a crash' : 'Resumed';
  if (data.mode === 'checkpoint' || from) return `${head} from ${from ?? 'its newest checkpoint'}${was}`;
  return head;
}

function interruptedText(data: Record<string, unknown>, at: string | undefined): string {
  const reason = str(data.reason) ?? 'the process training this run stopped';
  const pid = int(data.pid);
  const heard = str(data.lastHeartbeatAt);
  const facts = [pid !== null ? `pid ${pid}` : null, heard ? `last heard of ${clock(heard, at)}` : null].filter((f) => f !== null).join(', ');
  if (!facts) return `Interrupted: ${reason}`;
  // the service's reason may end in its own parenthesis: add the facts inside it
  return reason.endsWith(')') ? `Interrupted: ${reason.slice(0, -1)}; ${facts})` : `Interrupted: ${reason} (${facts})`;
}

function errorText(data: Record<string, unknown>): string | null {
  const message = str(data.message);
  const code = str(data.code);
  if (code === 'CHECKPOINT_WRITE_FAILED') {
    // the first sentence says what failed; the advice is ours (the run waits, paused, for Resume)
    const what = message ? message.split(/\.\s+(?=[A-Z])/)[0].replace(/\.$/, '') : 'the checkpoint could not be written';
    const fix = !message || /ENOSPC|no space/i.test(message) ? 'Free disk space' : 'Fix the disk';
    return `Checkpoint write failed: ${what}. ${fix}, then Resume to write it again`;
  }
  if (!message) return null;
  return `Error${code && code !== 'INTERNAL' ? ` (${code})` : ''}: ${message}`;
}

function statusText(data: Record<string, unknown>): string | null {
  const reason = str(data.reason);
  const head = data.action === 'stop-requested' ? 'Stop requested' : data.action === 'stopped-before-start' ? 'Stopped before it started' : null;
  return head && reason ? `${head}: ${reason}` : head;
}

/** `at` (the event's time) lets an interruption say "last heard of 10:04:12" without the date on the same day. */
export function describeEvent(e: Pick<RunEvent, 'kind' | 'data'> & { at?: string }): string | null {
  switch (e.kind) {
    case 'note':
      return noteText(e.data);
    case 'augment':
      return augmentText(e.data);
    case 'fork':
      return forkText(e.data);
    case 'pause':
      return 'Paused';
    case 'resume':
      return resumeText(e.data);
    case 'interrupted':
      return interruptedText(e.data, e.at);
    case 'error':
      return errorText(e.data);
    case 'status':
      return statusText(e.data);
    default:
      return null;
  }
}
