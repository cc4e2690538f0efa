// constant: the optimizer's own lr and momentum at every step (the seed's first 20 epochs: lr 0.001).
import type { ScheduleConfig } from '../../../src-shared/config/run-config';
import { boundedSchedule, type LrSchedule, type ScheduleContext } from './types';

export type ConstantConfig = Extract<ScheduleConfig, { policy: 'constant' }>;

export function createConstantSchedule(_cfg: ConstantConfig, ctx: Readonly<ScheduleContext>): LrSchedule {
  const point = { lr: ctx.baseLr, momentum: ctx.baseMomentum };
  return boundedSchedule('constant', ctx.totalSteps, () => ({ ...point }));
}
