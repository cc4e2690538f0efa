// eval.* commands: start an evaluation of a stored checkpoint (queued behind training, see
// eval-manager.ts), cancel it, list the jobs, and read stored evaluations.
import { WorkstationError } from '../../../src-shared/errors';
import type { EvalManager } from '../eval-manager';
import type { HandlerContext, Handlers } from './types';

export function createEvalHandlers(ctx: HandlerContext, evals: EvalManager): Handlers {
  const { store } = ctx;
  return {
    'eval.start': (p) => evals.start(p),
    'eval.cancel': ({ evalId }) => evals.cancel(evalId),
    'eval.jobs': () => evals.jobs(),
    'eval.list': ({ checkpointId, runId }) => store.evaluations.list({ checkpointId, runId }),
    'eval.get': ({ evaluationId }) => {
      const e = store.evaluations.get(evaluationId);
      if (!e) throw new WorkstationError('NOT_FOUND', `evaluation ${evaluationId} not found`, { field: 'evaluationId' });
      return e;
    },
  };
}
