// OneCycle: a line-by-line port of torch.optim.lr_scheduler.OneCycleLR (PyTorch 1.13 … 2.x),
// same phase boundaries, same floating-point operation order, so values agree with PyTorch to a
// few ulps (the only difference is Math.cos vs the C library's cos).
//
// Phases (N = totalSteps, p = pctStart, initial = maxLr / divFactor, min = initial / finalDivFactor):
//   two-phase:   end 0: p·N − 1  initial → maxLr, momentum max → base
//                end 1: N − 1    maxLr → min,     momentum base → max
//   three-phase: end 0: p·N − 1  initial → maxLr, momentum max → base
//                end 1: 2p·N − 2 maxLr → initial, momentum base → max
//                end 2: N − 1    initial → min,   momentum max → max
// At step s the first phase with s <= end (or the last) is used, pct = (s − start) / (end − start),
// start = the previous phase's end (0 for the first); anneal cos: end + (start − end) / 2 · (cos(π·pct) + 1),
// linear: (end − start) · pct + start.
import type { ScheduleConfig } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';
import { boundedSchedule, exhaustedError, type LrPoint, type LrSchedule, type ScheduleContext } from './types';

export type OneCycleConfig = Extract<ScheduleConfig, { policy: 'onecycle' }>;

type Level = 'initial' | 'max' | 'min';
type MomLevel = 'max' | 'base';
interface Phase {
  endStep: number;
  startLr: Level;
  endLr: Level;
  startMomentum: MomLevel;
  endMomentum: MomLevel;
}

function phases(cfg: OneCycleConfig, n: number): Phase[] {
  const p = cfg.pctStart;
  if (cfg.threePhase) {
    return [
      { endStep: p * n - 1, startLr: 'initial', endLr: 'max', startMomentum: 'max', endMomentum: 'base' },
      { endStep: 2 * p * n - 2, startLr: 'max', endLr: 'initial', startMomentum: 'base', endMomentum: 'max' },
      { endStep: n - 1, startLr: 'initial', endLr: 'min', startMomentum: 'max', endMomentum: 'max' },
    ];
  }
  return [
    { endStep: p * n - 1, startLr: 'initial', endLr: 'max', startMomentum: 'max', endMomentum: 'base' },
    { endStep: n - 1, startLr: 'max', endLr: 'min', startMomentum: 'base', endMomentum: 'max' },
  ];
}

function annealCos(start: number, end: number, pct: number): number {
  const cosOut = Math.cos(Math.PI * pct) + 1;
  return end + ((start - end) / 2.0) * cosOut;
}

function annealLinear(start: number, end: number, pct: number): number {
  return (end - start) * pct + start;
}

/**
 * Exactly OneCycleLR.get_lr() at last_epoch = `stepNum`, including PyTorch's own limits: it raises
 * only for stepNum > totalSteps (stepNum = totalSteps gives the extrapolated value PyTorch computes
 * after the last scheduler.step()), and a zero-length phase is a division by zero as in Python.
 * `momentum` is null when cycleMomentum is off (the optimizer keeps its own).
 */
export function oneCycleAt(cfg: OneCycleConfig, totalSteps: number, stepNum: number): { lr: number; momentum: number | null } {
  if (stepNum > totalSteps) throw exhaustedError(stepNum, totalSteps);
  const initial = cfg.maxLr / cfg.divFactor;
  const lrs: Record<Level, number> = { initial, max: cfg.maxLr, min: initial / cfg.finalDivFactor };
  const moms: Record<MomLevel, number> = { max: cfg.maxMomentum, base: cfg.baseMomentum };
  const anneal = cfg.anneal === 'cos' ? annealCos : annealLinear;
  const ph = phases(cfg, totalSteps);
  let startStep = 0;
  for (let i = 0; i < ph.length; i++) {
    const phase = ph[i];
    if (stepNum <= phase.endStep || i === ph.length - 1) {
      const span = phase.endStep - startStep;
      if (span === 0) {
        throw new WorkstationError(
          'INVALID_CONFIG',
          `schedule.pctStart: onecycle phase ${i} has zero length at totalSteps ${totalSteps} (PyTorch raises ZeroDivisionError)`,
          { field: 'schedule.pctStart' },
        );
      }
      const pct = (stepNum - startStep) / span;
      const lr = anneal(lrs[phase.startLr], lrs[phase.endLr], pct);
      const momentum = cfg.cycleMomentum ? anneal(moms[phase.startMomentum], moms[phase.endMomentum], pct) : null;
      return { lr, momentum };
    }
    startStep = phase.endStep;
  }
  /* c8 ignore next */
  throw new Error('unreachable: the last phase always matches');
}

export function createOneCycleSchedule(cfg: OneCycleConfig, ctx: Readonly<ScheduleContext>): LrSchedule {
  const n = ctx.totalSteps;
  // pctStart·N = 1 makes the warm-up phase zero steps long: PyTorch divides 0/0 at step 0. Refuse it
  // when the schedule is made, not at the first step. (Other zero-length phases are only reached past N.)
  if (cfg.pctStart * n - 1 === 0) {
    throw new WorkstationError(
      'INVALID_CONFIG',
      `schedule.pctStart: pctStart × totalSteps = 1 (${cfg.pctStart} × ${n}) leaves OneCycle a zero-length warm-up phase (PyTorch raises ZeroDivisionError); change pctStart or the step count`,
      { field: 'schedule.pctStart' },
    );
  }
  return boundedSchedule('onecycle', n, (step): LrPoint => {
    const v = oneCycleAt(cfg, n, step);
    return { lr: v.lr, momentum: v.momentum ?? ctx.baseMomentum };
  });
}
