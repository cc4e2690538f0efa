// `workstation checkpoint inspect <path> [--json]`: reads a checkpoint's header after verifying the
// whole file's SHA-256 (a truncated or modified file is an error, exit 2).
import path from 'node:path';
import { bool } from '../../common/args';
import type { CommandSpec } from '../command';
import { inspectCheckpoint } from '../../ml/checkpoint';

const command: CommandSpec = {
  name: 'checkpoint inspect',
  summary: 'Epoch, step, architecture, metrics and weightsSha256 of a checkpoint file (verifies its checksum)',
  positionals: [{ name: 'path', description: 'checkpoint file (epoch-NNNN.ckpt, or epoch-NNNN.step-NNNNNN.ckpt for a mid-epoch one)', required: true }],
  flags: { json: { type: 'boolean', description: 'print JSON' } },
  async run(args, io) {
    const info = await inspectCheckpoint(path.resolve(io.cwd, args.positionals[0]));
    if (bool(args, 'json')) {
      const { checkpointKind, ...rest } = info;
      io.stdout(JSON.stringify({ ...rest, kind: checkpointKind }, null, 2) + '\n');
      return 0;
    }
    const m = info.metrics;
    const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${x.toFixed(2)}%`);
    io.stdout(
      [
        `checkpoint     ${info.path}`,
        info.checkpointKind === 'mid-epoch'
          ? `mid-epoch      epoch ${info.epoch}, ${info.stepInEpoch} of its steps done (global step ${info.step})`
          : `epoch / step   ${info.epoch} / ${info.step}`,
        `model          ${info.arch}, ${info.numClasses} classes, width ×${info.widthMultiplier}, ${info.trainableParams.toLocaleString('en-US')} trainable params`,
        `metrics        train top-1 ${pct(m?.trainTop1)}, val top-1 ${pct(m?.valTop1)}, val loss ${m?.valLoss ?? '—'}`,
        `schedule       ${info.scheduler.policy.policy}, step ${info.scheduler.step}/${info.scheduler.totalSteps}`,
        `weightsSha256  ${info.weightsSha256}`,
        `file           ${info.bytes} bytes, sha256 ${info.sha256}`,
      ].join('\n') + '\n',
    );
    return 0;
  },
};
export default command;
