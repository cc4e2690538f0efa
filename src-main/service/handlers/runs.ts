// runs.* commands: list/get, start (queued when another run trains), pause/resume/stop,
// live augmentation, fork from a checkpoint, delete (files only when asked).
import fs from 'node:fs';
import path from 'node:path';
import { WorkstationError } from '../../../src-shared/errors';
import type { HandlerContext, Handlers } from './types';

export function createRunHandlers(ctx: HandlerContext): Handlers {
  const { store, runs } = ctx;
  const mustGet = (runId: number) => {
    const run = store.runs.get(runId);
    if (!run) throw new WorkstationError('NOT_FOUND', `run ${runId} not found`, { field: 'runId' });
    return run;
  };
  return {
    'runs.list': () => store.runs.list(),
    'runs.get': ({ runId }) => ({
      run: mustGet(runId),
      config: store.runs.config(runId),
      epochs: store.metrics.epochs(runId),
      steps: store.metrics.steps(runId),
      checkpoints: store.checkpoints.list(runId),
      events: store.events.list(runId),
    }),
    'runs.start': ({ config }) => runs.start({ config }),
    'runs.pause': ({ runId }) => runs.pause(runId),
    'runs.resume': ({ runId }) => runs.resume(runId),
    'runs.stop': ({ runId }) => runs.stop(runId),
    'runs.updateAugment': ({ runId, patch }) => runs.updateAugment(runId, patch),
    'runs.fork': ({ checkpointId, overrides, name }) => runs.fork(checkpointId, overrides, name),
    'runs.delete': ({ runId, deleteFiles }) => {
      mustGet(runId);
      if (runs.isBusy(runId)) throw new WorkstationError('INVALID_STATE', `run ${runId} is queued or training; stop it before deleting`, { field: 'runId' });
      // a queued or training child starts from one of this run's checkpoints: deleting would pull it from under it
      for (const cp of store.checkpoints.list(runId)) {
        const needs = store.checkpoints.dependents(cp.id);
        if (needs.length)
          throw new WorkstationError(
            'INVALID_STATE',
            `run ${runId} cannot be deleted now: its checkpoint ${path.basename(cp.path)} is needed by ${needs.map((r) => `run ${r.id} (${r.name}, ${r.status})`).join(', ')}; delete it once that run has started from it and finished, or stop it first`,
            { field: 'runId', path: cp.path },
          );
      }
      const res = store.runs.delete(runId);
      let deletedFiles = 0;
      if (deleteFiles) {
        for (const file of res.checkpointPaths) {
          try {
            fs.unlinkSync(file);
            deletedFiles++;
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOENT') ctx.log('warn', `could not delete ${file}: ${(e as Error).message}`);
          }
        }
        // Folders left empty under <dataDir>/runs (never recursive: another database on the same
        // data dir may keep files there).
        const dirs = new Set(res.checkpointPaths.map((f) => path.dirname(f)));
        for (const dir of dirs) {
          for (const d of [dir, path.dirname(dir)]) {
            if (!path.resolve(d).startsWith(path.resolve(ctx.paths.runsDir) + path.sep)) continue;
            try {
              fs.rmdirSync(d);
            } catch {
              /* not empty or absent */
            }
          }
        }
      }
      return { deletedRuns: res.runIds.length, deletedFiles };
    },
  };
}
