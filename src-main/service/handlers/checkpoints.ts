// checkpoints.* commands: list a run's checkpoints, the settings a fork from one starts from, delete one (its file only when asked; never one a queued or running child needs).
import fs from 'node:fs';
import { WorkstationError } from '../../../src-shared/errors';
import { configAtCheckpoint } from '../effective-config';
import type { HandlerContext, Handlers } from './types';

export function createCheckpointHandlers(ctx: HandlerContext): Handlers {
  const { store } = ctx;
  return {
    'checkpoints.list': ({ runId }) => {
      if (!store.runs.get(runId)) throw new WorkstationError('NOT_FOUND', `run ${runId} not found`, { field: 'runId' });
      return store.checkpoints.list(runId);
    },
    'checkpoints.settings': ({ checkpointId }) => {
      const cp = store.checkpoints.get(checkpointId);
      if (!cp) throw new WorkstationError('NOT_FOUND', `checkpoint ${checkpointId} not found`, { field: 'checkpointId' });
      if (!cp.exists)
        throw new WorkstationError('NOT_FOUND', `checkpoint ${checkpointId} file was removed (${cp.path})`, { field: 'checkpointId', path: cp.path });
      return { config: configAtCheckpoint(store, cp).config as unknown as Record<string, unknown>, dependents: store.checkpoints.dependents(checkpointId) };
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
