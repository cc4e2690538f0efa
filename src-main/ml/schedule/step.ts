// step: torch.optim.lr_scheduler.StepLR stepped per batch. step_size = round(stepEpochs × stepsPerEpoch)
// optimizer steps (at least 1), so `stepEpochs: 30` decays every 30 epochs whatever the batch count.
// lr(s) = baseLr · gamma^floor(s / step_size), computed as PyTorch's chainable form does it: one
// multiplication by gamma per decay, in order, so the values are PyTorch's bit for bit.
// Momentum is the optimizer's.
import type { ScheduleConfig } from '../../../src-shared/config/run-config';
import { boundedSchedule, type LrSchedule, type ScheduleContext } from './types';

export type StepConfig = Extract<ScheduleConfig, { policy: 'step' }>;

/** Optimizer steps between two decays. */
export function stepSizeInSteps(cfg: StepConfig, stepsPerEpoch: number): number {
  return Math.max(1, Math.round(cfg.stepEpochs * stepsPerEpoch));
}

export function createStepSchedule(cfg: StepConfig, ctx: Readonly<ScheduleContext>): LrSchedule {
  const size = stepSizeInSteps(cfg, ctx.stepsPerEpoch);
  // lr after k decays, filled on demand (k is small: totalSteps / size)
  const decayed: number[] = [ctx.baseLr];
  return boundedSchedule('step', ctx.totalSteps, (step) => {
    const k = Math.floor(step / size);
    while (decayed.length <= k) decayed.push(decayed[decayed.length - 1] * cfg.gamma);
    return { lr: decayed[k], momentum: ctx.baseMomentum };
  });
}
