// runs.setNotes / runs.setTags: the user's notes and tags on a run (the new row is announced as
// run.status, so every client's list updates); export.compareCsv: the chosen runs side by side.
import { exportCompareCsv } from '../csv-export';
import type { HandlerContext, Handlers } from './types';

export function createCompareHandlers(ctx: HandlerContext): Handlers {
  const { store, emit } = ctx;
  return {
    'runs.setNotes': ({ runId, notes }) => {
      const run = store.runs.setNotes(runId, notes);
      emit('run.status', { run });
      return run;
    },
    'runs.setTags': ({ runId, tags }) => {
      const run = store.runs.setTags(runId, tags);
      emit('run.status', { run });
      return run;
    },
    'export.compareCsv': ({ runIds }) => exportCompareCsv(store, runIds),
  };
}
