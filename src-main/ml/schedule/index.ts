// The learning-rate policy registry: config `schedule.policy` → factory (one policy per file).
// createSchedule validates the context once; the policies trust it.
import type { ScheduleConfig } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';
import { createConstantSchedule } from './constant';
import { createCosineSchedule } from './cosine';
import { createOneCycleSchedule } from './onecycle';
import { createStepSchedule } from './step';
import type { LrSchedule, ScheduleContext, ScheduleFactory } from './types';

export type { LrPoint, LrSchedule, ScheduleContext } from './types';
export { oneCycleAt } from './onecycle';

type Registry = { [P in ScheduleConfig['policy']]: ScheduleFactory<Extract<ScheduleConfig, { policy: P }>> };

export const SCHEDULES: Registry = {
  constant: createConstantSchedule,
  onecycle: createOneCycleSchedule,
  step: createStepSchedule,
  cosine: createCosineSchedule,
};

export const SCHEDULE_POLICIES = Object.keys(SCHEDULES) as ScheduleConfig['policy'][];

function checkContext(ctx: ScheduleContext): void {
  const intAtLeast1 = (field: 'totalSteps' | 'stepsPerEpoch'): void => {
    const v = ctx[field];
    if (!Number.isInteger(v) || v < 1) throw new WorkstationError('INVALID_ARGUMENT', `${field}: expected a positive integer, got ${v}`, { field });
  };
  intAtLeast1('totalSteps');
  intAtLeast1('stepsPerEpoch');
  if (!(Number.isFinite(ctx.baseLr) && ctx.baseLr > 0))
    throw new WorkstationError('INVALID_ARGUMENT', `optimizer.lr: expected a positive number, got ${ctx.baseLr}`, { field: 'optimizer.lr' });
  if (!(Number.isFinite(ctx.baseMomentum) && ctx.baseMomentum >= 0)) {
    throw new WorkstationError('INVALID_ARGUMENT', `optimizer.momentum: expected a number >= 0, got ${ctx.baseMomentum}`, { field: 'optimizer.momentum' });
  }
}

export function createSchedule(cfg: ScheduleConfig, ctx: ScheduleContext): LrSchedule {
  checkContext(ctx);
  const factory = SCHEDULES[cfg.policy] as ScheduleFactory | undefined;
  if (!factory)
    throw new WorkstationError('INVALID_CONFIG', `schedule.policy: unknown policy "${String(cfg.policy)}" (one of ${SCHEDULE_POLICIES.join(', ')})`, {
      field: 'schedule.policy',
    });
  return factory(cfg, Object.freeze({ ...ctx }));
}
