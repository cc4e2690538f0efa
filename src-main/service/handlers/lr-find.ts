// lr.find: the learning-rate range test (service/lr-range-test.ts) on a config from the app's
// new-run form, from fresh weights or a stored checkpoint; runs.probe: a few timed steps of such a
// config (the form's measured time per epoch). Both need the device to themselves, so they are
// refused while a run trains or waits in the queue, while an evaluation holds the slot, and while
// the other (or another of the same) runs. On a native backend its self-test must have passed
// (selftest-gate.ts), as for a run. They create no run and write nothing.
import { resolveRunConfig, type RunConfig } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';
import { runLrRangeTest, runStepProbe } from '../lr-range-test';
import type { Faults } from '../fault-injection';
import type { HandlerContext, Handlers } from './types';

export function createLrFindHandlers(ctx: HandlerContext, deps: { slotBusy(): string | null; faults?: Faults }): Handlers {
  let busy: string | null = null;
  /** refuses when the device is not free for `what` */
  const needDevice = (what: string): void => {
    const state = ctx.runs.state();
    if (state.activeRun)
      throw new WorkstationError('INVALID_STATE', `run ${state.activeRun.id} (${state.activeRun.name}) is training; run the ${what} when nothing trains`);
    if (state.queue.length) throw new WorkstationError('INVALID_STATE', `run ${state.queue[0]} is queued to train; run the ${what} when nothing trains`);
    const other = deps.slotBusy();
    if (other) throw new WorkstationError('INVALID_STATE', `${other}; run the ${what} when it has ended`);
    if (busy) throw new WorkstationError('INVALID_STATE', `a ${busy} is already running`);
  };
  const resolve = (config: unknown) => {
    try {
      return resolveRunConfig([config]);
    } catch (e) {
      if (e instanceof WorkstationError && e.field) throw new WorkstationError('INVALID_ARGUMENT', `config.${e.message}`, { field: `config.${e.field}` });
      throw e;
    }
  };
  /** a native backend must have passed its self-test (ran first when none is stored), as for a run */
  const gate = async (cfg: Readonly<RunConfig>): Promise<void> => {
    const { gateRunBackend } = await import('../selftest-gate');
    await gateRunBackend(cfg, null, { store: ctx.store, emit: ctx.emit, log: ctx.log, faults: deps.faults, note: () => undefined });
  };
  return {
    'runs.probe': async ({ config, steps }) => {
      needDevice('step-time measurement');
      const cfg = resolve(config);
      busy = 'step-time measurement';
      try {
        await gate(cfg);
        if (cfg.data.root) ctx.datasetRoots.add(cfg.data.root);
        ctx.log('info', `step-time measurement: 1 warm-up + ${steps} steps, batch ${cfg.train.batchSize}, ${cfg.data.trainSize} px`);
        const r = await runStepProbe({ config: cfg, paths: ctx.paths, steps, onLog: (level, msg) => ctx.log(level, msg) });
        ctx.log('info', `step-time measurement on ${r.backend}: ${r.secondsPerStep.toFixed(3)} s/step (warm-up ${r.warmupSeconds.toFixed(1)} s)`);
        return r;
      } finally {
        busy = null;
      }
    },
    'lr.find': async ({ config, checkpointId, steps, minLr, maxLr }) => {
      needDevice('range test');
      if (!(maxLr > minLr)) throw new WorkstationError('INVALID_ARGUMENT', `maxLr (${maxLr}) must be greater than minLr (${minLr})`, { field: 'maxLr' });
      const cfg = resolve(config);
      let resumeFrom: string | undefined;
      if (checkpointId !== null) {
        const cp = ctx.store.checkpoints.get(checkpointId);
        if (!cp) throw new WorkstationError('NOT_FOUND', `checkpoint ${checkpointId} not found`, { field: 'checkpointId' });
        if (!cp.exists)
          throw new WorkstationError('NOT_FOUND', `checkpoint ${checkpointId} file was removed (${cp.path})`, { field: 'checkpointId', path: cp.path });
        resumeFrom = cp.path;
      }
      busy = 'range test';
      try {
        await gate(cfg);
        if (cfg.data.root) ctx.datasetRoots.add(cfg.data.root);
        ctx.log('info', `learning-rate range test: ${steps} steps from ${minLr} to ${maxLr}${resumeFrom ? ` from ${resumeFrom}` : ''}`);
        const r = await runLrRangeTest({
          config: cfg,
          paths: ctx.paths,
          resumeFrom,
          steps,
          minLr,
          maxLr,
          onLog: (level, msg) => ctx.log(level, msg),
          onStep: (p) =>
            ctx.emit('lr.find.progress', {
              ...p,
              loss: Number.isFinite(p.loss) ? p.loss : null,
              smoothedLoss: Number.isFinite(p.smoothedLoss) ? p.smoothedLoss : null,
            }),
        });
        ctx.log('info', `learning-rate range test: ${r.steps} steps (${r.stopReason}), suggested lr ${r.suggestedLr ?? 'none'}`);
        return r;
      } finally {
        busy = null;
      }
    },
  };
}
