// Where the learning-rate schedule stands after resuming from a checkpoint.
//  - 'exact' (and a fork that keeps the schedule): continue the checkpoint's schedule at its step;
//    if the run got longer (train.epochs) or an epoch now has a different number of steps, the
//    schedule's total is stretched to what is left, so it never runs out mid-run.
//  - 'fork' with a changed schedule (policy or its fields, optimizer lr / momentum, or epochs): a new
//    experiment — the new schedule starts at its step 0 at the checkpoint's global step and spans
//    the remaining epochs. Momentum buffers are kept either way (the caller restores them).
import type { RunConfig } from '../../src-shared/config/run-config';
import { checkpointPosition, type CheckpointHeader, type SchedulerState } from './checkpoint';

export interface ResumePlan {
  sched: SchedulerState;
  /** the schedule restarted at step 0 (fork with a new schedule) */
  restarted: boolean;
  notes: string[];
}

export function freshSchedulerState(cfg: Readonly<RunConfig>, stepsPerEpoch: number): SchedulerState {
  return {
    policy: cfg.schedule,
    totalSteps: cfg.train.epochs * stepsPerEpoch,
    startGlobalStep: 0,
    step: 0,
    baseLr: cfg.optimizer.lr,
    baseMomentum: cfg.optimizer.momentum,
  };
}

export function planResume(h: CheckpointHeader, cfg: Readonly<RunConfig>, stepsPerEpoch: number, mode: 'exact' | 'fork'): ResumePlan {
  const prev = h.scheduler;
  const notes: string[] = [];
  // steps left from the checkpoint to the end of the run (a mid-epoch checkpoint is inside its epoch)
  const pos = checkpointPosition(h);
  const remaining = (cfg.train.epochs - pos.completedEpochs) * stepsPerEpoch - (pos.kind === 'mid-epoch' ? pos.stepInEpoch : 0);
  const changed =
    JSON.stringify(prev.policy) !== JSON.stringify(cfg.schedule) ||
    prev.baseLr !== cfg.optimizer.lr ||
    prev.baseMomentum !== cfg.optimizer.momentum ||
    h.config.train.epochs !== cfg.train.epochs;
  if (mode === 'fork' && changed) {
    const sched = { ...freshSchedulerState(cfg, stepsPerEpoch), startGlobalStep: h.step, totalSteps: remaining };
    notes.push(`fork: the schedule restarts at global step ${h.step} over ${sched.totalSteps} steps`);
    return { sched, restarted: true, notes };
  }
  const sched: SchedulerState = { ...prev, step: h.step - prev.startGlobalStep };
  if (h.config.train.epochs !== cfg.train.epochs || h.stepsPerEpoch !== stepsPerEpoch) {
    sched.totalSteps = sched.step + remaining;
    if (h.stepsPerEpoch !== stepsPerEpoch)
      notes.push(`the checkpoint was trained with ${h.stepsPerEpoch} steps per epoch, the data now gives ${stepsPerEpoch}`);
  }
  return { sched, restarted: false, notes };
}
