// `workstation lr-find --config <file.json> [--resume <ckpt>] [--steps 100] [--min-lr 1e-7]
//  [--max-lr 10] [--backend B] [--data-dir] [--json]`: the learning-rate range test (Smith;
// fastai's lr_find) on a run config: N steps with the lr growing geometrically from min to max,
// stopped early when the loss diverges. It never touches a run: nothing goes into the store and
// no checkpoint is written (a --resume checkpoint is only read). With --json stdout carries one
// document: {lr, loss, smoothedLoss, suggestedLr, stopReason, steps, backend}, one entry per step
// taken (a loss that was not finite is null); suggestedLr is where the smoothed loss falls
// fastest against log lr (see src-main/ml/lr-find.ts). Progress goes to stderr. On a native
// backend its self-test must have passed, as for a run (cli/backend-gate.ts).
import path from 'node:path';
import { BACKENDS, resolveRunConfig } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';
import { bool, num, str } from '../../common/args';
import { appPaths } from '../../common/paths';
import { runLrRangeTest } from '../../service/lr-range-test';
import { LR_FIND_DEFAULTS } from '../../ml/lr-find-defaults';
import type { CommandSpec } from '../command';
import { DATA_DIR_FLAG, resolveDataDir } from '../service-session';
import { gateBackendForCli } from '../backend-gate';
import { DB_FLAG } from '../db-flag';
import { readConfigFile } from './train';

function fmt(v: number | null): string {
  return v === null ? '—' : v.toPrecision(4);
}

const command: CommandSpec = {
  name: 'lr-find',
  summary: 'Learning-rate range test: N steps with the lr growing from min to max, the loss of each, a suggested max lr (no run, nothing saved)',
  flags: {
    config: { type: 'string', required: true, description: 'run config JSON (the model, data, batch size, augmentation and momentum the test uses)' },
    resume: { type: 'string', description: 'start from this checkpoint (weights and momentum buffers; the file is only read)' },
    steps: { type: 'number', default: LR_FIND_DEFAULTS.steps, description: 'steps to take at most (one entry each)' },
    'min-lr': { type: 'number', default: LR_FIND_DEFAULTS.minLr, description: 'lr of the first step' },
    'max-lr': { type: 'number', default: LR_FIND_DEFAULTS.maxLr, description: 'lr of the last step' },
    backend: { type: 'string', description: `tfjs backend: ${BACKENDS.join(' | ')} (default: the config's)` },
    json: { type: 'boolean', description: 'print one JSON document: {lr, loss, smoothedLoss, suggestedLr, stopReason, steps, backend}' },
    ...DATA_DIR_FLAG,
    // where a native backend's self-test result is read (and stored when it runs first)
    ...DB_FLAG,
  },
  async run(args, io) {
    const file = path.resolve(io.cwd, str(args, 'config')!);
    const layers: unknown[] = [readConfigFile(file)];
    const backend = str(args, 'backend');
    if (backend !== undefined) {
      if (!(BACKENDS as readonly string[]).includes(backend))
        throw new WorkstationError('INVALID_ARGUMENT', `--backend must be one of ${BACKENDS.join(', ')}, got "${backend}"`, { field: 'backend' });
      layers.push({ backend });
    }
    const config = resolveRunConfig(layers, file);
    const steps = num(args, 'steps')!;
    const minLr = num(args, 'min-lr')!;
    const maxLr = num(args, 'max-lr')!;
    if (!Number.isInteger(steps) || steps < 2)
      throw new WorkstationError('INVALID_ARGUMENT', `--steps must be an integer of at least 2, got ${steps}`, { field: 'steps' });
    if (!(minLr > 0)) throw new WorkstationError('INVALID_ARGUMENT', `--min-lr must be positive, got ${minLr}`, { field: 'min-lr' });
    if (!(maxLr > minLr)) throw new WorkstationError('INVALID_ARGUMENT', `--max-lr (${maxLr}) must be greater than --min-lr (${minLr})`, { field: 'max-lr' });
    const resume = str(args, 'resume');
    const paths = appPaths(resolveDataDir(args, io));
    const every = Math.max(1, Math.round(steps / 20));
    await gateBackendForCli(config, args, io);
    const r = await runLrRangeTest({
      config,
      paths,
      resumeFrom: resume === undefined ? undefined : path.resolve(io.cwd, resume),
      steps,
      minLr,
      maxLr,
      shouldStop: () => io.signal.aborted,
      onLog: (level, msg) => {
        if (level !== 'info') io.stderr(`[${level}] ${msg}\n`);
      },
      onStep: (p) => {
        if (p.step % every === 0 || p.step === p.steps)
          io.stderr(`step ${p.step}/${p.steps}  lr ${p.lr.toExponential(2)}  loss ${fmt(p.loss)}  smoothed ${fmt(p.smoothedLoss)}\n`);
      },
    });
    if (bool(args, 'json')) io.stdout(JSON.stringify(r) + '\n');
    else {
      io.stdout(`${r.steps} steps on ${r.backend} (${r.stopReason === 'diverged' ? 'stopped: the loss diverged' : r.stopReason})\n`);
      io.stdout(
        r.suggestedLr === null
          ? 'no suggestion: the smoothed loss never fell\n'
          : `suggested lr (steepest fall of the smoothed loss): ${r.suggestedLr.toPrecision(3)}\n`,
      );
    }
    return r.stopReason === 'stopped' ? 130 : 0;
  },
};
export default command;
