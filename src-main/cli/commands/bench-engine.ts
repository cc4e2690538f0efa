// `workstation bench engine [--backend auto] [--batch 8] [--size 64] [--width 0.25] [--classes 10]
// [--steps 5] [--warmup 1] [--json]` (also `npm run bench:engine`): training steps/s, images/s and peak memory.
import { bool, num, str } from '../../common/args';
import type { CommandSpec } from '../command';
import { BACKENDS, type BackendRequest } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';
import { runBenchEngine } from '../../ml/bench-engine';

function positive(name: string, v: number | undefined, integer = true): number {
  if (v === undefined || !(v > 0) || (integer && !Number.isInteger(v)))
    throw new WorkstationError('INVALID_ARGUMENT', `--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`, { field: name });
  return v;
}

const command: CommandSpec = {
  name: 'bench engine',
  summary: 'Training step speed: steps/s, images/s and peak memory for a backend, batch and size',
  flags: {
    backend: { type: 'string', description: 'auto|gpu|node|cpu', default: 'auto' },
    batch: { type: 'number', description: 'batch size', default: 8 },
    size: { type: 'number', description: 'image size (pixels)', default: 64 },
    width: { type: 'number', description: 'width multiplier (1 = full ResNet-50)', default: 0.25 },
    classes: { type: 'number', description: 'number of classes', default: 1000 },
    steps: { type: 'number', description: 'timed steps', default: 5 },
    warmup: { type: 'number', description: 'untimed warm-up steps', default: 1 },
    json: { type: 'boolean', description: 'print JSON' },
  },
  async run(args, io) {
    const backend = (str(args, 'backend') ?? 'auto') as BackendRequest;
    if (!(BACKENDS as readonly string[]).includes(backend))
      throw new WorkstationError('INVALID_ARGUMENT', `--backend must be one of ${BACKENDS.join('|')}, got "${backend}"`, { field: 'backend' });
    const warmup = num(args, 'warmup') ?? 1;
    if (!Number.isInteger(warmup) || warmup < 0)
      throw new WorkstationError('INVALID_ARGUMENT', `--warmup must be an integer >= 0, got ${warmup}`, { field: 'warmup' });
    const size = positive('size', num(args, 'size'));
    if (size < 16) throw new WorkstationError('INVALID_ARGUMENT', `--size must be >= 16, got ${size}`, { field: 'size' });
    const classes = positive('classes', num(args, 'classes'));
    if (classes < 2) throw new WorkstationError('INVALID_ARGUMENT', `--classes must be >= 2, got ${classes}`, { field: 'classes' });
    const r = await runBenchEngine({
      backend,
      batch: positive('batch', num(args, 'batch')),
      size,
      width: positive('width', num(args, 'width'), false),
      classes,
      steps: positive('steps', num(args, 'steps')),
      warmup,
      onProgress: (m) => io.stderr(`bench engine: ${m}\n`),
    });
    if (bool(args, 'json')) {
      io.stdout(JSON.stringify(r, null, 2) + '\n');
      return 0;
    }
    io.stdout(
      [
        `backend      ${r.backend.name}${r.backend.gpu ? ` (${r.backend.gpu})` : ''} — ${r.backend.reason}`,
        `model        resnet50 width ×${r.widthMultiplier}, ${r.numClasses} classes, ${r.trainableParams.toLocaleString('en-US')} params`,
        `batch × size ${r.batch} × ${r.size}px, ${r.steps} timed steps after ${r.warmupSteps} warm-up`,
        `steps/s      ${r.stepsPerSec.toPrecision(3)}  (mean ${r.stepMs.mean.toFixed(0)} ms, best ${r.stepMs.min.toFixed(0)} ms)`,
        `images/s     ${r.imagesPerSec.toPrecision(3)}`,
        `peak memory  RSS ${r.peakRssMiB} MiB, tf ${r.peakTfMiB} MiB`,
        `machine      ${r.machine.cpus}× ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}`,
      ].join('\n') + '\n',
    );
    return 0;
  },
};
export default command;
