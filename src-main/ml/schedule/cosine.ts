// cosine: linear warm-up, then cosine annealing to minLr; momentum is the optimizer's.
// W = round(warmupEpochs × stepsPerEpoch) warm-up steps, C = totalSteps − W cosine steps:
//   s <  W: lr = baseLr · (s + 1) / W
//           (= torch LinearLR(start_factor = 1/W, end_factor = 1, total_iters = W − 1): the first step
//            already trains at baseLr / W, the last warm-up step at baseLr; no step is wasted at lr 0)
//   s >= W: t = s − W, lr = minLr + (baseLr − minLr) · (1 + cos(π · t / C)) / 2
//           (= torch CosineAnnealingLR(T_max = C, eta_min = minLr), closed form: baseLr at t = 0,
//            reaching minLr at t = C, one step after the last one)
import type { ScheduleConfig } from '../../../src-shared/config/run-config';
import { boundedSchedule, type LrSchedule, type ScheduleContext } from './types';

export type CosineConfig = Extract<ScheduleConfig, { policy: 'cosine' }>;

export function warmupSteps(cfg: CosineConfig, stepsPerEpoch: number): number {
  return Math.round(cfg.warmupEpochs * stepsPerEpoch);
}

export function createCosineSchedule(cfg: CosineConfig, ctx: Readonly<ScheduleContext>): LrSchedule {
  const w = warmupSteps(cfg, ctx.stepsPerEpoch);
  const c = ctx.totalSteps - w;
  const base = ctx.baseLr;
  return boundedSchedule('cosine', ctx.totalSteps, (step) => {
    if (step < w) return { lr: (base * (step + 1)) / w, momentum: ctx.baseMomentum };
    const t = step - w;
    return { lr: cfg.minLr + ((base - cfg.minLr) * (1 + Math.cos((Math.PI * t) / c))) / 2, momentum: ctx.baseMomentum };
  });
}
