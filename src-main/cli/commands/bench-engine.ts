// `workstation bench engine [--backend auto] [--batch 8] [--size 64] [--width 0.25] [--classes 1000]
// [--steps 5] [--warmup 1] [--no-fused-kernels] [--json]` (also `npm run bench:engine`): training
// steps/s, images/s and peak memory. `--count-kernels` instead counts the kernels one training step
// dispatches on the native code path (defaults then: the full ResNet-50, batch 2 at 32 px).
import { bool, num, str } from '../../common/args';
import type { CommandSpec } from '../command';
import { BACKENDS, type BackendRequest } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';
import { countEngineKernels, runBenchEngine } from '../../ml/bench-engine';

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
    batch: { type: 'number', description: 'batch size (default 8; 2 with --count-kernels)' },
    size: { type: 'number', description: 'image size in pixels (default 64; 32 with --count-kernels)' },
    width: { type: 'number', description: 'width multiplier, 1 = full ResNet-50 (default 0.25; 1 with --count-kernels)' },
    classes: { type: 'number', description: 'number of classes', default: 1000 },
    steps: { type: 'number', description: 'timed steps', default: 5 },
    warmup: { type: 'number', description: 'untimed warm-up steps', default: 1 },
    'fused-kernels': { type: 'boolean', description: 'workstation kernels where the backend has them (--no-fused-kernels: the composite path)', default: true },
    'count-kernels': {
      type: 'boolean',
      description: "count the kernels of one training step on the native code path ('tensorflow'; a stand-in where tfjs-node is missing)",
    },
    json: { type: 'boolean', description: 'print JSON' },
  },
  async run(args, io) {
    const backend = (str(args, 'backend') ?? 'auto') as BackendRequest;
    if (!(BACKENDS as readonly string[]).includes(backend))
      throw new WorkstationError('INVALID_ARGUMENT', `--backend must be one of ${BACKENDS.join('|')}, got "${backend}"`, { field: 'backend' });
    const warmup = num(args, 'warmup') ?? 1;
    if (!Number.isInteger(warmup) || warmup < 0)
      throw new WorkstationError('INVALID_ARGUMENT', `--warmup must be an integer >= 0, got ${warmup}`, { field: 'warmup' });
    const counting = bool(args, 'count-kernels') === true;
    const fusedKernels = bool(args, 'fused-kernels') !== false;
    const size = positive('size', num(args, 'size') ?? (counting ? 32 : 64));
    if (size < 16) throw new WorkstationError('INVALID_ARGUMENT', `--size must be >= 16, got ${size}`, { field: 'size' });
    const classes = positive('classes', num(args, 'classes'));
    if (classes < 2) throw new WorkstationError('INVALID_ARGUMENT', `--classes must be >= 2, got ${classes}`, { field: 'classes' });
    const batch = positive('batch', num(args, 'batch') ?? (counting ? 2 : 8));
    const width = positive('width', num(args, 'width') ?? (counting ? 1 : 0.25), false);
    if (counting) {
      const c = await countEngineKernels({ batch, size, width, classes, fusedKernels, onProgress: (m) => io.stderr(`bench engine: ${m}\n`) });
      if (bool(args, 'json')) io.stdout(JSON.stringify(c, null, 2) + '\n');
      else
        io.stdout(
          [
            `kernels/step  ${c.kernelsPerStep} (${c.tfOpsPerStep} without Identity; first step ${c.firstStepKernels}; prepareBatch ${c.prepareKernels} more)`,
            `code path     native, on ${c.backend === 'stand-in' ? "the stand-in 'tensorflow' backend (cpu kernels; tfjs-node not loaded)" : "tfjs-node's 'tensorflow' backend"}, ${c.fusedKernels ? 'fused kernels' : 'composite path'}`,
            `model         resnet50 width ×${c.model.widthMultiplier}, ${c.model.numClasses} classes, batch ${c.batch} × ${c.size}px`,
            ...Object.entries(c.byKernel).map(([k, n]) => `  ${String(n).padStart(5)}  ${k}`),
          ].join('\n') + '\n',
        );
      return 0;
    }
    const r = await runBenchEngine({
      backend,
      batch,
      size,
      width,
      classes,
      fusedKernels,
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
        `model        resnet50 width ×${r.widthMultiplier}, ${r.numClasses} classes, ${r.trainableParams.toLocaleString('en-US')} params, ${r.fusedKernels ? 'fused kernels' : 'composite path'}`,
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
