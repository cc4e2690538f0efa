// What `workstation runs` does with notes and tags: `--run R` with `--tag T` (repeatable),
// `--untag T` and `--note TEXT` changes that run's labels in the store (then lists it), and
// `--filter-tag T` (repeatable) lists only the runs carrying every given tag. Written to the
// store directly (WAL: safe beside a live service); an open app shows the change when it next
// reloads its runs list.
import type { RunSummary } from '../../src-shared/api/schemas';
import { WorkstationError } from '../../src-shared/errors';
import { list, str, type FlagSpec, type ParsedArgs } from '../common/args';
import type { Store } from '../store/index';

export const LABEL_FLAGS: Record<'run' | 'tag' | 'untag' | 'note' | 'filter-tag', FlagSpec> = {
  run: { type: 'string', description: 'the run (id or name) --tag / --untag / --note change' },
  tag: { type: 'string[]', description: 'add a tag to --run (repeatable; 1-64 characters, no commas or semicolons)' },
  untag: { type: 'string[]', description: 'remove a tag from --run (repeatable)' },
  note: { type: 'string', description: "set --run's notes (free text; '' clears them)" },
  'filter-tag': { type: 'string[]', description: 'list only runs that carry this tag (repeatable: every one given)' },
};

/** Applies --tag / --untag / --note to --run; returns the changed run, or null when none was asked. */
export function applyRunLabels(store: Store, args: ParsedArgs): RunSummary | null {
  const add = list(args, 'tag');
  const remove = list(args, 'untag');
  const note = str(args, 'note');
  const target = str(args, 'run');
  if (add.length === 0 && remove.length === 0 && note === undefined) {
    if (target !== undefined)
      throw new WorkstationError('INVALID_ARGUMENT', '--run names the run that --tag, --untag or --note change; give one of them (or drop --run)', {
        field: 'run',
      });
    return null;
  }
  const flag = add.length ? 'tag' : remove.length ? 'untag' : 'note';
  if (target === undefined) throw new WorkstationError('INVALID_ARGUMENT', `--${flag} needs --run <id|name>: the run to change`, { field: 'run' });
  const run = store.runs.resolve(target);
  return store.transaction(() => {
    if (remove.length) store.runs.removeTags(run.id, remove);
    if (add.length) {
      try {
        store.runs.addTags(run.id, add);
      } catch (e) {
        // name the flag, not the repository's field
        if (e instanceof WorkstationError && e.field?.startsWith('tags'))
          throw new WorkstationError('INVALID_ARGUMENT', `--tag: ${e.message}`, { field: 'tag' });
        throw e;
      }
    }
    if (note !== undefined) {
      try {
        store.runs.setNotes(run.id, note);
      } catch (e) {
        if (e instanceof WorkstationError) throw new WorkstationError('INVALID_ARGUMENT', `--note: ${e.message}`, { field: 'note' });
        throw e;
      }
    }
    return store.runs.get(run.id)!;
  });
}

/** The runs carrying every tag given with --filter-tag (all runs when none). */
export function filterByTags(runs: RunSummary[], args: ParsedArgs): RunSummary[] {
  const want = list(args, 'filter-tag').map((t) => t.trim());
  return want.length === 0 ? runs : runs.filter((r) => want.every((t) => (r.tags ?? []).includes(t)));
}
