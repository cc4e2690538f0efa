// One line of plain language per run event for the dashboard's event list: the backend note,
// the augmentation fields a live change touched, the config diff of a fork. Kinds without a
// readable form return null and are shown as their raw data.
import type { RunEvent } from '../../../src-shared/api/schemas';
import { value } from './format';
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

function forkText(data: Record<string, unknown>): string {
  const parent = typeof data.parentRunId === 'number' ? `from #${data.parentRunId}` : 'forked';
  const at = typeof data.forkEpoch === 'number' ? ` at epoch ${data.forkEpoch}` : '';
  const diff = asDiff(data.diff).filter((d) => d.field !== 'name');
  return `${parent}${at}: ${diff.length ? diffText(diff) : 'same settings'}`;
}

export function describeEvent(e: Pick<RunEvent, 'kind' | 'data'>): string | null {
  switch (e.kind) {
    case 'note':
      return noteText(e.data);
    case 'augment':
      return augmentText(e.data);
    case 'fork':
      return forkText(e.data);
    default:
      return null;
  }
}
