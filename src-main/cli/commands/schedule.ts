// `workstation schedule --policy onecycle --max-lr 0.01 --total-steps N [...] [--json]`: the lr and
// momentum the optimizer uses at each step 0 … N−1 under a policy, computed by the trainer's own
// schedule code. Flags are validated by the run-config schema (errors name the config field).
import type { z } from 'zod';
import type { ParsedArgs } from '../../common/args';
import { num } from '../../common/args';
import type { CommandSpec } from '../command';
import { OptimizerSchema, ScheduleSchema, zodIssueToError } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';
import { createSchedule } from '../../ml/schedule/index';

/** flag → schedule config field; only flags the user gave go into the config (others: schema defaults) */
const SCHEDULE_FLAGS: Record<string, string> = {
  policy: 'policy',
  'max-lr': 'maxLr',
  'pct-start': 'pctStart',
  anneal: 'anneal',
  'div-factor': 'divFactor',
  'final-div-factor': 'finalDivFactor',
  'three-phase': 'threePhase',
  'cycle-momentum': 'cycleMomentum',
  'base-momentum': 'baseMomentum',
  'max-momentum': 'maxMomentum',
  'step-epochs': 'stepEpochs',
  gamma: 'gamma',
  'warmup-epochs': 'warmupEpochs',
  'min-lr': 'minLr',
};

function flagFor(field: string | undefined, table: Record<string, string>): string | undefined {
  const key = field?.split('.').at(-1);
  const flag = Object.entries(table).find(([, f]) => f === key)?.[0];
  return flag ? `--${flag}` : undefined;
}

/** Schema errors as INVALID_ARGUMENT naming both the flag and the config field. */
function parseWith<T>(schema: z.ZodType<T>, value: unknown, prefix: string, table: Record<string, string>): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const e = zodIssueToError(r.error, 'INVALID_ARGUMENT');
  const field = e.field ? `${prefix}.${e.field}` : prefix;
  const flag = flagFor(e.field, table);
  const msg = e.field && e.message.startsWith(`${e.field}: `) ? e.message.slice(e.field.length + 2) : e.message;
  const policy = (value as { policy?: unknown }).policy;
  const why = msg === 'unknown field' && prefix === 'schedule' ? `not a setting of policy "${String(policy)}"` : msg;
  throw new WorkstationError('INVALID_ARGUMENT', `${flag ? `${flag} (${field})` : field}: ${why}`, { field });
}

function given(args: ParsedArgs, table: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [flag, field] of Object.entries(table)) if (args.flags[flag] !== undefined) out[field] = args.flags[flag];
  return out;
}

function positiveInt(args: ParsedArgs, flag: string): number | undefined {
  const v = num(args, flag);
  if (v !== undefined && (!Number.isInteger(v) || v < 1))
    throw new WorkstationError('INVALID_ARGUMENT', `--${flag} must be a positive integer, got ${v}`, { field: flag });
  return v;
}

const command: CommandSpec = {
  name: 'schedule',
  summary: 'Learning rate and momentum per optimizer step under a schedule policy (PyTorch OneCycleLR / StepLR semantics)',
  flags: {
    policy: { type: 'string', description: 'constant | onecycle | step | cosine', default: 'onecycle' },
    'total-steps': { type: 'number', description: 'optimizer steps N (epochs × steps per epoch); prints steps 0 … N−1', required: true },
    'steps-per-epoch': {
      type: 'number',
      description: 'optimizer steps per epoch, for --step-epochs / --warmup-epochs (default 1: epochs are steps)',
      default: 1,
    },
    lr: { type: 'number', description: 'optimizer lr (constant, step, cosine; default: optimizer.lr default 0.001)' },
    momentum: { type: 'number', description: 'optimizer momentum (used unless onecycle cycles momentum; default 0.9)' },
    'max-lr': { type: 'number', description: 'onecycle: peak lr (required for onecycle)' },
    'pct-start': { type: 'number', description: 'onecycle: fraction of steps spent increasing the lr (default 0.3)' },
    anneal: { type: 'string', description: 'onecycle: cos | linear (default cos)' },
    'div-factor': { type: 'number', description: 'onecycle: initial lr = max lr / div factor (default 25)' },
    'final-div-factor': { type: 'number', description: 'onecycle: min lr = initial lr / final div factor (default 1e4)' },
    'three-phase': { type: 'boolean', description: 'onecycle: third phase annealing to min lr (default off)' },
    'cycle-momentum': { type: 'boolean', description: 'onecycle: cycle momentum max → base → max (default on; --no-cycle-momentum)' },
    'base-momentum': { type: 'number', description: 'onecycle: lowest momentum (default 0.85)' },
    'max-momentum': { type: 'number', description: 'onecycle: highest momentum (default 0.95)' },
    'step-epochs': { type: 'number', description: 'step: decay every this many epochs' },
    gamma: { type: 'number', description: 'step: decay factor (default 0.1)' },
    'warmup-epochs': { type: 'number', description: 'cosine: linear warm-up epochs (default 0)' },
    'min-lr': { type: 'number', description: 'cosine: final lr (default 0)' },
    json: { type: 'boolean', description: 'print {"lr": [...], "momentum": [...]} (one entry per step)' },
  },
  async run(args, io) {
    const cfg = parseWith(ScheduleSchema, given(args, SCHEDULE_FLAGS), 'schedule', SCHEDULE_FLAGS);
    const optTable = { lr: 'lr', momentum: 'momentum' };
    const opt = parseWith(OptimizerSchema, given(args, optTable), 'optimizer', optTable);
    const totalSteps = positiveInt(args, 'total-steps') as number;
    const stepsPerEpoch = positiveInt(args, 'steps-per-epoch') ?? 1;
    const schedule = createSchedule(cfg, { totalSteps, stepsPerEpoch, baseLr: opt.lr, baseMomentum: opt.momentum });
    const lr = new Array<number>(totalSteps);
    const momentum = new Array<number>(totalSteps);
    for (let s = 0; s < totalSteps; s++) ({ lr: lr[s], momentum: momentum[s] } = schedule.at(s));
    if (args.flags.json === true) {
      // JSON.stringify writes the shortest decimal that round-trips: full double precision
      io.stdout(JSON.stringify({ lr, momentum }) + '\n');
      return 0;
    }
    const lines = [`schedule ${JSON.stringify(cfg)}  total steps ${totalSteps}`, 'step\tlr\tmomentum'];
    for (let s = 0; s < totalSteps; s++) lines.push(`${s}\t${lr[s]}\t${momentum[s]}`);
    io.stdout(lines.join('\n') + '\n');
    return 0;
  },
};
export default command;
