// What the Evaluation view derives from a stored evaluation: class labels, the per-class table's
// sort orders, the mistakes of a class or a confusion pair (most confident first), and labels for
// protocols and progress. Pure, so the view stays small.
import type { EvalClass, EvalJob, EvalMistake, EvalProtocol, Evaluation } from '../../../src-shared/api/schemas';

export type ClassSortKey = 'classIndex' | 'name' | 'images' | 'top1' | 'top5';
export type SortDir = 'asc' | 'desc';

/** a class's display name: its synset name, else its wnid, else "class N" */
export function className(perClass: readonly EvalClass[], index: number): string {
  const c = perClass[index];
  return c?.name || c?.wnid || `class ${index}`;
}

/** the per-class rows sorted by a column; classes without images always last, ties by class index */
export function sortClasses(rows: readonly EvalClass[], key: ClassSortKey, dir: SortDir, filter = ''): EvalClass[] {
  const f = filter.trim().toLowerCase();
  const sign = dir === 'asc' ? 1 : -1;
  const value = (c: EvalClass): number | string | null => (key === 'name' ? (c.name ?? c.wnid ?? '').toLowerCase() : c[key]);
  return rows
    .filter((c) => !f || `${c.classIndex} ${c.wnid ?? ''} ${c.name ?? ''}`.toLowerCase().includes(f))
    .sort((a, b) => {
      if ((a.images === 0) !== (b.images === 0)) return a.images === 0 ? 1 : -1;
      const va = value(a);
      const vb = value(b);
      if (va === null || vb === null) return va === vb ? a.classIndex - b.classIndex : va === null ? 1 : -1;
      const cmp = typeof va === 'string' ? va.localeCompare(String(vb)) : va - (vb as number);
      return sign * cmp || a.classIndex - b.classIndex;
    });
}

export type MistakeSelection = { kind: 'all' } | { kind: 'class'; classIndex: number } | { kind: 'pair'; true: number; predicted: number };

/** the stored mistakes the selection covers, highest confidence first (ties: the earlier image) */
export function mistakesFor(e: Pick<Evaluation, 'mistakes'>, sel: MistakeSelection): EvalMistake[] {
  return e.mistakes
    .filter((m) => sel.kind === 'all' || (sel.kind === 'class' ? m.classIndex === sel.classIndex : m.classIndex === sel.true && m.predicted === sel.predicted))
    .sort((a, b) => b.confidence - a.confidence || a.sampleId - b.sampleId);
}

/** how many images the selection has in total (the gallery may hold only the most confident of them) */
export function mistakeCount(e: Pick<Evaluation, 'confusions' | 'perClass'>, sel: MistakeSelection): number {
  if (sel.kind === 'pair') return e.confusions.find((c) => c.true === sel.true && c.predicted === sel.predicted)?.count ?? 0;
  if (sel.kind === 'class') {
    const c = e.perClass[sel.classIndex];
    return c ? c.images - Math.round(((c.top1 ?? 0) * c.images) / 100) : 0;
  }
  return e.confusions.reduce((s, c) => s + c.count, 0);
}

export function selectionTitle(e: Pick<Evaluation, 'perClass'>, sel: MistakeSelection): string {
  if (sel.kind === 'all') return 'All classes';
  if (sel.kind === 'class') return className(e.perClass, sel.classIndex);
  return `${className(e.perClass, sel.true)} → ${className(e.perClass, sel.predicted)}`;
}

export const PROTOCOL_LABELS: Record<EvalProtocol, string> = {
  run: "the run's validation transform",
  resize: "plain resize to the run's size",
  'center-crop': 'resize 256, centre crop 224',
};

/** 0..1 of a job's images done */
export function jobFraction(j: Pick<EvalJob, 'images' | 'totalImages' | 'state'>): number {
  if (j.state === 'completed') return 1;
  return j.totalImages ? Math.min(1, j.images / j.totalImages) : 0;
}
