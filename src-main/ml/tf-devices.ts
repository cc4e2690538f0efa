// The GPUs libtensorflow itself created devices for, by name: tfjs-node-gpu's binding only says
// whether a GPU is in use (isUsingGpuDevice), so the names come from TensorFlow's own start-up log
// line, printed by the C++ runtime to the process's stderr when the binding creates its eager
// context and with it each device (at require, before any op):
//   … gpu_device.cc:1532] Created device /job:localhost/replica:0/task:0/device:GPU:0 with 22302 MB
//   memory:  -> device: 0, name: NVIDIA L4, pci bus id: 0000:00:03.0, compute capability: 8.9
// (TF < 2.5 wrote "Created TensorFlow device (/job:…/device:GPU:0 with 22302 MB memory) -> physical
// GPU (device: 0, name: …)"; both are read). A process cannot read its own stderr, so
// `tfGpuDevices` requires the package in a short child Node with TensorFlow's logging on and parses
// that line. No op runs there, so nothing is JIT-compiled (an H100's first start compiles kernels
// for minutes); loading libtensorflow takes seconds, once per process (the result is cached). Used
// for the backend's `gpu` (recorded with every run, shown by `doctor`).
import { spawnSync } from 'node:child_process';

export interface TfGpuDevice {
  /** TensorFlow's device index (GPU:N) */
  index: number;
  name: string;
  memoryMiB: number | null;
  pciBusId: string | null;
  computeCapability: string | null;
}

const CREATED = /Created (?:TensorFlow )?device \(?\S*device:GPU:(\d+) with (\d+) MB memory\)?:?\s*->\s*(?:physical GPU \()?(.*?)\)?\s*$/;

/** The GPU devices in TensorFlow's log text (one per "Created device …GPU:N" line, in index order). */
export function parseTfDeviceLog(text: string): TfGpuDevice[] {
  const byIndex = new Map<number, TfGpuDevice>();
  for (const line of text.split(/\r?\n/)) {
    const m = CREATED.exec(line);
    if (!m) continue;
    const fields = new Map<string, string>();
    // "device: 0, name: NVIDIA L4, pci bus id: 0000:00:03.0, compute capability: 8.9": names may hold commas
    for (const part of m[3].split(/, (?=(?:device|name|pci bus id|compute capability):)/)) {
      const i = part.indexOf(':');
      if (i > 0) fields.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
    }
    byIndex.set(Number(m[1]), {
      index: Number(m[1]),
      name: fields.get('name') ?? `GPU:${m[1]}`,
      memoryMiB: Number(m[2]),
      pciBusId: fields.get('pci bus id') ?? null,
      computeCapability: fields.get('compute capability') ?? null,
    });
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

/** "NVIDIA L4 (GPU:0, 22302 MiB, compute capability 8.9)" */
export function describeTfGpu(d: TfGpuDevice): string {
  const extra = [
    `GPU:${d.index}`,
    d.memoryMiB !== null ? `${d.memoryMiB} MiB` : null,
    d.computeCapability ? `compute capability ${d.computeCapability}` : null,
  ];
  return `${d.name} (${extra.filter(Boolean).join(', ')})`;
}

const cache = new Map<string, TfGpuDevice[]>();

/**
 * Asks libtensorflow, in a child process that loads `pkg` from `resolveFrom`, which GPU devices it
 * creates. Empty when it creates none, cannot load, or takes over `timeoutMs`.
 */
export function tfGpuDevices(pkg: string, resolveFrom: string, opts: { timeoutMs?: number; nodePath?: string } = {}): TfGpuDevice[] {
  const key = `${pkg}@${resolveFrom}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const script = `require(require('module').createRequire(${JSON.stringify(resolveFrom)}).resolve(${JSON.stringify(pkg)}));`;
  const r = spawnSync(opts.nodePath ?? process.execPath, ['-e', script], {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
    // TensorFlow's INFO lines (the device line is INFO); the CUDA JIT cache settings are inherited
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '0', ELECTRON_RUN_AS_NODE: '1' },
  });
  const devices = parseTfDeviceLog(`${r.stderr ?? ''}\n${r.stdout ?? ''}`);
  cache.set(key, devices);
  return devices;
}
