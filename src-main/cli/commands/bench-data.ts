// `workstation bench data [--images N] [--workers W] [--size 224] [--dir DIR] [--mode …] [--json]`
// (`npm run bench:data`): images/s of the training transform in the decode worker pool, in total
// and per worker, beside a decode-only baseline. Results go into docs/BENCHMARKS.md by hand.
import os from 'node:os';
import path from 'node:path';
import { WorkstationError } from '../../../src-shared/errors';
import { bool, list, num, str } from '../../common/args';
import type { CommandSpec } from '../command';
import { benchData, type BenchMode } from '../../data/bench-data';
import { defaultWorkerCount } from '../../data/worker-pool';
import { packageRoot } from '../../common/paths';

const MODES: BenchMode[] = ['decode', 'train', 'train-sharp', 'train-sharp-shrink'];

const command: CommandSpec = {
  name: 'bench data',
  summary: 'Data pipeline speed: images/s (total, per worker) of decode + RandomResizedCrop + flip, and decode only',
  flags: {
    images: { type: 'number', description: 'images per measurement (sample files are repeated)', default: 2000 },
    workers: { type: 'number', description: 'decode worker threads (0 = cores - 1)', default: 0 },
    size: { type: 'number', description: 'training output size (pixels)', default: 224 },
    dir: { type: 'string', description: 'folder of sample images (default: ../shared/data/imagenet-samples beside the package)' },
    mode: { type: 'string[]', description: `measurement to run, repeatable: ${MODES.join(', ')} (default: decode, train)` },
    inflight: { type: 'number', description: 'images decoded concurrently inside each worker', default: 2 },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  async run(args, io) {
    const images = num(args, 'images')!;
    const size = num(args, 'size')!;
    const inflight = num(args, 'inflight')!;
    if (!Number.isInteger(images) || images < 1)
      throw new WorkstationError('INVALID_ARGUMENT', `--images must be a positive integer, got ${images}`, { field: 'images' });
    if (!Number.isInteger(size) || size < 16 || size > 1024)
      throw new WorkstationError('INVALID_ARGUMENT', `--size must be an integer in 16..1024, got ${size}`, { field: 'size' });
    if (!Number.isInteger(inflight) || inflight < 1 || inflight > 16)
      throw new WorkstationError('INVALID_ARGUMENT', `--inflight must be an integer in 1..16, got ${inflight}`, { field: 'inflight' });
    const requested = num(args, 'workers')!;
    if (!Number.isInteger(requested) || requested < 0 || requested > 256)
      throw new WorkstationError('INVALID_ARGUMENT', `--workers must be an integer in 0..256, got ${requested}`, { field: 'workers' });
    const modes = list(args, 'mode');
    for (const m of modes)
      if (!MODES.includes(m as BenchMode))
        throw new WorkstationError('INVALID_ARGUMENT', `--mode must be one of ${MODES.join(', ')}, got "${m}"`, { field: 'mode' });
    const dir = path.resolve(io.cwd, str(args, 'dir') ?? path.join(packageRoot(), '..', 'shared', 'data', 'imagenet-samples'));
    const workers = defaultWorkerCount(requested);
    const r = await benchData({
      dir,
      images,
      workers,
      size,
      inflight,
      modes: modes.length > 0 ? (modes as BenchMode[]) : undefined,
      onProgress: (m) => io.stderr(`${m}\n`),
    });
    const machine = { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version };
    if (bool(args, 'json')) {
      io.stdout(JSON.stringify({ ...r, machine }, null, 2) + '\n');
      return 0;
    }
    const lines = [
      `images: ${r.files} files in ${r.dir}, repeated to ${images}; output ${size}x${size}; ${r.workers} worker(s); ${machine.cpus} cores (${machine.cpuModel}); node ${machine.node}; native JPEG addon: ${r.native ? 'yes' : 'no (sharp only)'}`,
      'mode                img/s total   img/s per worker   img/CPU-s   seconds   failed',
      ...r.results.map(
        (x) =>
          `${x.mode.padEnd(18)}  ${x.imagesPerSec.toFixed(0).padStart(11)}   ${x.imagesPerSecPerWorker.toFixed(0).padStart(16)}   ${x.imagesPerCpuSecond.toFixed(0).padStart(9)}   ${x.seconds.toFixed(2).padStart(7)}   ${String(x.failed).padStart(6)}`,
      ),
    ];
    io.stdout(lines.join('\n') + '\n');
    return 0;
  },
};
export default command;
