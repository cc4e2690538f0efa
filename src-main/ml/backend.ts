// tfjs backend choice: tfjs-node-gpu (libtensorflow with CUDA, only if it really sees a GPU), else
// tfjs-node (libtensorflow CPU), else pure-JS cpu. Both native packages are optionalDependencies;
// they register their 'tensorflow' backend on the same @tensorflow/tfjs engine all ml code imports.
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageRoot } from '../common/paths';
import type { BackendRequest } from '../../src-shared/config/run-config';
import { WorkstationError } from '../../src-shared/errors';
import { describeTfGpu, tfGpuDevices } from './tf-devices';

export interface BackendInfo {
  name: 'tensorflow-gpu' | 'tensorflow' | 'cpu';
  reason: string;
  gpu: string | null;
}

export interface NativeProbe {
  package: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node';
  loaded: boolean;
  /** why it could not be loaded (module missing, libtensorflow missing, ...) */
  error: string | null;
  /** GPU device names TensorFlow reports (gpu package only) */
  gpus: string[];
}

let probes: Partial<Record<NativeProbe['package'], NativeProbe>> = {};

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0];
}

/**
 * Lists GPUs libtensorflow uses. tfjs-node-gpu loads even without a usable GPU (TensorFlow falls
 * back to CPU kernels), so loading alone proves nothing: ask the initialised backend, then
 * TensorFlow's own device log for their names ("NVIDIA L4 (GPU:0, 22302 MiB, compute capability 8.9)").
 */
function visibleGpus(): string[] {
  try {
    const b = tf.findBackend('tensorflow') as { isUsingGpuDevice?: boolean; binding?: { isUsingGpuDevice?: () => boolean } } | null;
    if (b?.isUsingGpuDevice === true || b?.binding?.isUsingGpuDevice?.() === true) {
      // the names libtensorflow gives its devices (ml/tf-devices.ts), else what the binding says
      const named = tfGpuDevices('@tensorflow/tfjs-node-gpu', path.join(packageRoot(), 'package.json')).map(describeTfGpu);
      return named.length > 0 ? named : ['GPU:0 (CUDA)'];
    }
  } catch {
    // a backend that fails to initialise sees no GPU
  }
  return [];
}

/** Loads a native package once (require is synchronous; the package registers its backend). */
export function probeNative(pkg: NativeProbe['package']): NativeProbe {
  const cached = probes[pkg];
  if (cached) return cached;
  let probe: NativeProbe;
  try {
    // resolved from the package root, so it works from the bundle, vitest and Electron alike
    createRequire(path.join(packageRoot(), 'package.json'))(pkg);
    probe = { package: pkg, loaded: true, error: null, gpus: pkg === '@tensorflow/tfjs-node-gpu' ? visibleGpus() : [] };
  } catch (e) {
    const code = (e as { code?: string }).code;
    probe = { package: pkg, loaded: false, error: code === 'MODULE_NOT_FOUND' ? 'not installed' : firstLine(e), gpus: [] };
  }
  probes[pkg] = probe;
  return probe;
}

/** For tests: forget probe results (the require cache still holds loaded packages). */
export function resetBackendProbes(): void {
  probes = {};
}

/**
 * For tests only (the service's WORKSTATION_TEST_STAND_IN_BACKEND): the native packages read as the
 * stand-in says — `kind`'s package loaded (the GPU one seeing a stand-in GPU), the other not
 * installed — so selectBackend picks 'tensorflow', the native stand-in the caller registers, and no
 * real tfjs-node installed on the machine is ever required in this process.
 */
export function assumeNativeStandIn(kind: 'tensorflow' | 'tensorflow-gpu'): void {
  const gpu = kind === 'tensorflow-gpu';
  probes['@tensorflow/tfjs-node-gpu'] = gpu
    ? { package: '@tensorflow/tfjs-node-gpu', loaded: true, error: null, gpus: ['GPU:0 (native stand-in)'] }
    : { package: '@tensorflow/tfjs-node-gpu', loaded: false, error: 'not installed (test stand-in)', gpus: [] };
  probes['@tensorflow/tfjs-node'] = gpu
    ? { package: '@tensorflow/tfjs-node', loaded: false, error: 'not installed (test stand-in)', gpus: [] }
    : { package: '@tensorflow/tfjs-node', loaded: true, error: null, gpus: [] };
}

async function use(name: 'tensorflow' | 'cpu'): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new WorkstationError('BACKEND_UNAVAILABLE', `tfjs backend "${name}" failed to initialise`);
  await tf.ready();
}

export async function selectBackend(req: BackendRequest): Promise<BackendInfo> {
  if (req === 'cpu') {
    await use('cpu');
    return { name: 'cpu', reason: 'requested --backend cpu (pure-JS tfjs)', gpu: null };
  }
  if (req === 'gpu' || req === 'auto') {
    const gpu = probeNative('@tensorflow/tfjs-node-gpu');
    if (gpu.loaded && gpu.gpus.length > 0) {
      await use('tensorflow');
      return { name: 'tensorflow-gpu', reason: `${gpu.package} loaded and libtensorflow sees ${gpu.gpus.join(', ')}`, gpu: gpu.gpus[0] };
    }
    if (req === 'auto' && gpu.loaded) {
      // the GPU build runs libtensorflow's CPU kernels fine; loading tfjs-node too would clash
      await use('tensorflow');
      return { name: 'tensorflow', reason: `${gpu.package} loaded but libtensorflow sees no GPU; using its CPU kernels`, gpu: null };
    }
    if (req === 'gpu') {
      const why = gpu.loaded
        ? 'it loaded but libtensorflow sees no CUDA GPU (driver ≥ 525.60.13, and the CUDA 11.8 runtime + cuDNN 8.9 (CUDA 11 build) libraries on the library path? scripts/ec2/setup-gpu.sh checks)'
        : `it could not be loaded: ${gpu.error}`;
      throw new WorkstationError(
        'BACKEND_UNAVAILABLE',
        `--backend gpu: ${gpu.package} is not usable: ${why}. See the README's GPU section; \`workstation doctor\` shows details.`,
        { field: 'backend' },
      );
    }
  }
  // 'node' or 'auto' without a GPU
  const node = probeNative('@tensorflow/tfjs-node');
  if (node.loaded) {
    await use('tensorflow');
    return {
      name: 'tensorflow',
      reason: req === 'node' ? `requested --backend node: ${node.package} loaded` : `no usable GPU; ${node.package} loaded (libtensorflow CPU)`,
      gpu: null,
    };
  }
  if (req === 'node') {
    throw new WorkstationError(
      'BACKEND_UNAVAILABLE',
      `--backend node: ${node.package} could not be loaded: ${node.error}. Install it with \`npm install @tensorflow/tfjs-node@4.22.0\` (needs a supported Node version and prebuilt libtensorflow).`,
      { field: 'backend' },
    );
  }
  await use('cpu');
  const gpuProbe = probes['@tensorflow/tfjs-node-gpu'];
  return {
    name: 'cpu',
    reason: `auto: neither native backend is usable (tfjs-node-gpu: ${gpuProbe?.loaded ? 'no GPU visible' : gpuProbe?.error}; tfjs-node: ${node.error}); using pure-JS cpu, which is slow`,
    gpu: null,
  };
}
