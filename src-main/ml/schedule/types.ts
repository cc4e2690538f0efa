// What every learning-rate policy provides: the lr and momentum the optimizer uses at a 0-based
// optimizer step. Policies are pure functions of the step (no hidden state), so a checkpoint only
// needs {policy config, totalSteps, step}: recreating the schedule and asking at(step) restores it.
import type { ScheduleConfig } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';

export interface ScheduleContext {
  /** optimizer steps the schedule spans (epochs × stepsPerEpoch); at(step) is defined for 0 … totalSteps − 1 */
  totalSteps: number;
  /** optimizer steps per epoch: converts the epoch-based fields (stepEpochs, warmupEpochs) to steps */
  stepsPerEpoch: number;
  /** optimizer.lr: the lr of `constant`, the peak lr of `step` and `cosine` (onecycle uses maxLr) */
  baseLr: number;
  /** optimizer.momentum: used unchanged unless onecycle cycles momentum */
  baseMomentum: number;
}

export interface LrPoint {
  lr: number;
  momentum: number;
}

export interface LrSchedule {
  readonly policy: ScheduleConfig['policy'];
  readonly totalSteps: number;
  /**
   * Values for the optimizer step `step` (0-based) = PyTorch's scheduler values after `step` calls of
   * scheduler.step() (last_epoch = step). Throws SCHEDULE_EXHAUSTED for step >= totalSteps.
   */
  at(step: number): LrPoint;
}

/** A policy's factory, as held by the registry in index.ts. */
export type ScheduleFactory<C extends ScheduleConfig = ScheduleConfig> = (cfg: C, ctx: Readonly<ScheduleContext>) => LrSchedule;

/**
 * PyTorch's exhaustion message for last_epoch = step ("Tried to step {step + 1} times. The specified
 * number of total steps is {N}"). PyTorch's OneCycleLR raises it only once last_epoch > N (it still
 * computes an extrapolated value for last_epoch = N, which no optimizer step of an N-step run uses);
 * we raise from step N on, so an (N+1)-th optimizer step can never run with an unplanned lr.
 */
export function exhaustedError(step: number, totalSteps: number): WorkstationError {
  return new WorkstationError('SCHEDULE_EXHAUSTED', `Tried to step ${step + 1} times. The specified number of total steps is ${totalSteps}`, { field: 'step' });
}

/** Wraps a policy's value function with the checks every schedule shares (integer step, 0 <= step < N). */
export function boundedSchedule(policy: ScheduleConfig['policy'], totalSteps: number, value: (step: number) => LrPoint): LrSchedule {
  return {
    policy,
    totalSteps,
    at(step: number): LrPoint {
      if (!Number.isInteger(step) || step < 0)
        throw new WorkstationError('INVALID_ARGUMENT', `schedule step must be an integer >= 0, got ${step}`, { field: 'step' });
      if (step >= totalSteps) throw exhaustedError(step, totalSteps);
      return value(step);
    },
  };
}
