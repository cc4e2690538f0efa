// checkpoints.* commands: list a run's checkpoints, delete one (its file only when asked).
import fs from 'node:fs';
import { WorkstationError } from '../../../src-shared/errors';
import type { HandlerContext, Handlers } from './types';

export function createCheckpointHandlers(ctx: HandlerContext): Handlers {
  const { store } = ctx;
  return {
    'checkpoints.list': ({ runId }) => {
      if (!store.runs.get(runId)) throw new WorkstationError('NOT_FOUND', `run ${runId} not found`, { field: 'runId' });
      return store.checkpoints.list(runId);
    },
    'checkpoints.delete': ({ checkpointId, deleteFile }) => {
      const cp = store.checkpoints.get(checkpointId);
      if (!cp) throw new WorkstationError('NOT_FOUND', `checkpoint ${checkpointId} not found`, { field: 'checkpointId' });
      const needs = store.checkpoints.dependents(checkpointId);
      if (needs.length)
        throw new WorkstationError(
          'INVALID_STATE',
          `checkpoint ${checkpointId} is needed by ${needs.map((r) => `run ${r.id} (${r.name}, ${r.status})`).join(', ')}, which starts from it: delete it once that run has started and finished, or stop that run first`,
          { field: 'checkpointId', path: cp.path },
        );
      store.checkpoints.delete(checkpointId);
      if (deleteFile) {
        try {
          fs.unlinkSync(cp.path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
            throw new WorkstationError('INTERNAL', `checkpoint row deleted, but its file could not be: ${(e as Error).message}`, { path: cp.path });
        }
      }
      return { deleted: true };
    },
  };
}
