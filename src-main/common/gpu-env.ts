// Environment variables that libtensorflow and the CUDA driver read once, when they load: the
// persistent CUDA JIT cache (TF 2.9's kernels stop at sm_75 + compute_80 PTX, so an H100 compiles
// them from PTX at first start, 30+ minutes; a cache on the data disk makes that a one-time cost)
// and TensorFlow's determinism switches. The service process sets them before anything loads
// tfjs-node(-gpu), and Electron main passes them to the service it spawns. A value the user set
// always wins. `gpuEnv` is pure; `applyGpuEnv` writes them into a process environment.
import { makeFolder } from './make-folder';
import path from 'node:path';

/** CUDA_CACHE_MAXSIZE default: 4 GiB, the driver's maximum (its own default, 256 MiB or 1 GiB by driver, can be too small for all of TF's kernels). */
export const CUDA_CACHE_MAXSIZE_DEFAULT = String(4 * 2 ** 30); // 4294967296

/** Where the JIT cache lives by default: on the data disk, next to the runs. */
export function cudaCachePath(dataDir: string): string {
  return path.join(dataDir, 'cuda-cache');
}

export interface GpuEnvOptions {
  /** TF_DETERMINISTIC_OPS=1 and TF_CUDNN_DETERMINISTIC=1 (the service's --deterministic) */
  deterministic?: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

const isSet = (env: Env, name: string): boolean => (env[name] ?? '') !== '';

/** The variables to add to `env`: only those the user has not set (an empty value counts as unset). */
export function gpuEnv(env: Env, dataDir: string, opts: GpuEnvOptions = {}): Record<string, string> {
  const wanted: Record<string, string> = {
    CUDA_CACHE_PATH: cudaCachePath(path.resolve(dataDir)),
    CUDA_CACHE_MAXSIZE: CUDA_CACHE_MAXSIZE_DEFAULT,
  };
  if (opts.deterministic) {
    wanted.TF_DETERMINISTIC_OPS = '1';
    wanted.TF_CUDNN_DETERMINISTIC = '1';
  }
  return Object.fromEntries(Object.entries(wanted).filter(([name]) => !isSet(env, name)));
}

/** TensorFlow's reading of a boolean variable: 1 / true (any case) is on. */
const on = (v: string | undefined): boolean => /^(1|true)$/i.test((v ?? '').trim());

/** Whether `env` makes libtensorflow deterministic (both switches on). */
export function isDeterministicEnv(env: Env): boolean {
  return on(env.TF_DETERMINISTIC_OPS) && on(env.TF_CUDNN_DETERMINISTIC);
}

/**
 * Adds gpuEnv's variables to `env` (process.env by default, which native code reads through
 * getenv) and creates the cache folder when it can (the driver silently skips a cache it cannot
 * write). Call it before tfjs-node(-gpu) loads. Returns what was added.
 */
export function applyGpuEnv(dataDir: string, opts: GpuEnvOptions = {}, env: Record<string, string | undefined> = process.env): Record<string, string> {
  const added = gpuEnv(env, dataDir, opts);
  Object.assign(env, added);
  const cache = env.CUDA_CACHE_PATH;
  if (cache) {
    try {
      // never a recursive mkdir: it spins forever under /proc (see make-folder.ts)
      makeFolder(cache, 'CUDA cache folder', 'CUDA_CACHE_PATH');
    } catch {
      // a read-only or odd path: CUDA then compiles in memory each start, which is slow but works
    }
  }
  return added;
}
