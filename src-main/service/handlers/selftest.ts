// system.selftest / system.runSelftest: the stored backend self-test results (one per backend +
// tfjs + libtensorflow version) and a new self-test on the backend a request selects now
// (selftest-gate.ts; refused while a run trains or waits, or an evaluation holds the device).
// runs.gpuSamples: the nvidia-smi samples stored with a run while it trained, and its epochs'
// data-wait share (a starved GPU shows both: low utilisation, a high wait).
import { WorkstationError } from '../../../src-shared/errors';
import type { Faults } from '../fault-injection';
import type { HandlerContext, Handlers } from './types';

export function createSelftestHandlers(ctx: HandlerContext, deps: { faults?: Faults; slotBusy(): string | null }): Handlers {
  return {
    'system.selftest': () => ctx.store.selftests.list(),
    'system.runSelftest': async ({ backend }) => {
      const state = ctx.runs.state();
      if (state.activeRun)
        throw new WorkstationError('INVALID_STATE', `run ${state.activeRun.id} (${state.activeRun.name}) is training; run the self-test when nothing trains`);
      if (state.queue.length) throw new WorkstationError('INVALID_STATE', `run ${state.queue[0]} is queued to train; run the self-test when nothing trains`);
      const other = deps.slotBusy();
      if (other) throw new WorkstationError('INVALID_STATE', `${other}; run the self-test when it has ended`);
      // tfjs loads here, on first use
      const gate = await import('../selftest-gate');
      if (gate.selftestRunning()) throw new WorkstationError('INVALID_STATE', 'a self-test is already running');
      return gate.runBackendSelftest(backend, { store: ctx.store, emit: ctx.emit, log: ctx.log, faults: deps.faults });
    },
    'runs.gpuSamples': ({ runId }) => {
      if (!ctx.store.runs.get(runId)) throw new WorkstationError('NOT_FOUND', `run ${runId} not found`, { field: 'runId' });
      return {
        runId,
        samples: ctx.store.gpuSamples.list(runId),
        dataWait: ctx.store.metrics.epochs(runId).map((e) => ({ epoch: e.epoch, fraction: e.dataWaitFraction ?? null })),
      };
    },
  };
}
