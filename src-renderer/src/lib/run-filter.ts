// The runs list's filter: free text over name, notes and tags, and tags a run must all carry.
import type { RunSummary } from '../../../src-shared/api/schemas';

export function filterRuns(runs: readonly RunSummary[], text: string, tags: readonly string[]): RunSummary[] {
  const q = text.trim().toLowerCase();
  return runs.filter(
    (r) =>
      tags.every((t) => (r.tags ?? []).includes(t)) &&
      (q === '' ||
        r.name.toLowerCase().includes(q) ||
        (r.notes ?? '').toLowerCase().includes(q) ||
        (r.tags ?? []).some((t) => t.toLowerCase().includes(q)) ||
        `#${r.id}` === q),
  );
}

/** Every tag in use, with how many runs carry it, by tag. */
export function tagCounts(runs: readonly RunSummary[]): { tag: string; runs: number }[] {
  const m = new Map<string, number>();
  for (const r of runs) for (const t of r.tags ?? []) m.set(t, (m.get(t) ?? 0) + 1);
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([tag, n]) => ({ tag, runs: n }));
}

/** Tags typed as "a, b, c" (tags cannot contain commas). */
export function parseTags(text: string): string[] {
  const out: string[] = [];
  for (const t of text.split(',').map((s) => s.trim())) if (t && !out.includes(t)) out.push(t);
  return out;
}

/** The first line of the notes, cut to `max` characters. */
export function notesPreview(notes: string, max = 90): string {
  const first = notes.trim().split('\n')[0] ?? '';
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}
