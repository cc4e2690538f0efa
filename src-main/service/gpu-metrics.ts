// NVIDIA GPU metrics from `nvidia-smi`: the GPUs, their driver and the CUDA version the driver
// supports (for `system.info` and the run's backend note), and samples of utilisation, memory,
// power and temperature taken every 5 s while a run trains, kept in a bounded in-memory buffer
// (`system.gpu`, the System view's chart) and handed to the tracking run, which stores them with
// itself (`runs.gpuSamples`, store/gpu-samples-repo.ts). Without nvidia-smi on PATH there are no GPUs and no
// samples, and nothing is logged: a CPU machine is not an error. One monitor per process
// (`gpuMonitor()`): the GPUs are the machine's, whichever service instance asks.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { GpuSample, GpuStatus } from '../../src-shared/api/schemas';

/** The query: one CSV line per GPU, no header, no units (MiB, %, W, °C). */
export const NVIDIA_SMI_FIELDS = [
  'index',
  'name',
  'uuid',
  'driver_version',
  'memory.total',
  'memory.used',
  'utilization.gpu',
  'power.draw',
  'temperature.gpu',
] as const;
export const NVIDIA_SMI_QUERY_ARGS = [`--query-gpu=${NVIDIA_SMI_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];

export const GPU_SAMPLE_INTERVAL_MS = 5000;
/** samples kept (all GPUs together): 4 h of one GPU at 5 s, 30 min of eight */
export const GPU_MAX_SAMPLES = 2880;

export interface NvidiaSmiRow {
  index: number;
  name: string;
  uuid: string;
  driver: string;
  memoryTotalMiB: number | null;
  memoryUsedMiB: number | null;
  /** percent */
  utilization: number | null;
  powerW: number | null;
  temperatureC: number | null;
}

export interface GpuInfo {
  gpus: NvidiaSmiRow[];
  /** the driver's version (the first GPU's; one driver serves them all) */
  driver: string | null;
  /** the newest CUDA runtime the driver supports, from nvidia-smi's header ("CUDA Version: 12.2") */
  cuda: string | null;
}

/** `[N/A]`, `[Not Supported]`, `[Unknown Error]`, `N/A`, empty: the GPU does not report it. */
function missing(v: string): boolean {
  return v === '' || /^\[.*\]$/.test(v) || /^n\/?a$/i.test(v);
}

function number(v: string): number | null {
  if (missing(v)) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/**
 * Parses `nvidia-smi --query-gpu=<NVIDIA_SMI_FIELDS> --format=csv,noheader,nounits`. Lines that are
 * not a GPU row (too few fields, no index) are skipped. A comma inside the name is kept: the fields
 * after the name are counted from the end.
 */
export function parseNvidiaSmiCsv(text: string): NvidiaSmiRow[] {
  const rows: NvidiaSmiRow[] = [];
  const n = NVIDIA_SMI_FIELDS.length;
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const parts = line.split(',').map((p) => p.trim());
    if (parts.length < n) continue;
    const tail = parts.slice(parts.length - (n - 2)); // uuid … temperature
    const name = parts.slice(1, parts.length - (n - 2)).join(', ');
    const index = number(parts[0]);
    if (index === null || !Number.isInteger(index)) continue;
    const [uuid, driver, total, used, util, power, temp] = tail;
    rows.push({
      index,
      name: missing(name) ? 'unknown GPU' : name,
      uuid: missing(uuid) ? '' : uuid,
      driver: missing(driver) ? '' : driver,
      memoryTotalMiB: number(total),
      memoryUsedMiB: number(used),
      utilization: number(util),
      powerW: number(power),
      temperatureC: number(temp),
    });
  }
  return rows;
}

/** The CUDA version in plain `nvidia-smi` output's header, or null. */
export function parseCudaVersion(text: string): string | null {
  return /CUDA Version\s*:\s*(\d+(?:\.\d+)*)/.exec(text)?.[1] ?? null;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The executable `name` on env.PATH, or null (nothing is spawned to find out). */
export function findOnPath(name: string, env: Env): string | null {
  const dirs = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter(Boolean);
  const exts = process.platform === 'win32' ? ['.exe', ''] : [''];
  for (const dir of dirs) {
    for (const ext of exts) {
      const p = path.join(dir, name + ext);
      try {
        if (fs.statSync(p).isFile()) {
          fs.accessSync(p, fs.constants.X_OK);
          return p;
        }
      } catch {
        // not here
      }
    }
  }
  return null;
}

/** One line for people: "NVIDIA A10G (23028 MiB); driver 535.104.05, CUDA ≤ 12.2". */
export function describeGpus(info: GpuInfo): string {
  const names = new Map<string, number>();
  for (const g of info.gpus) names.set(g.name, (names.get(g.name) ?? 0) + 1);
  const mem = info.gpus[0]?.memoryTotalMiB;
  const list = [...names].map(([name, count]) => (count > 1 ? `${count}× ${name}` : name)).join(', ');
  const driver = info.driver ? `driver ${info.driver}${info.cuda ? `, CUDA ≤ ${info.cuda}` : ''}` : '';
  return [`${list}${names.size === 1 && mem !== null && mem !== undefined ? ` (${mem} MiB)` : ''}`, driver].filter(Boolean).join('; ');
}

export interface GpuMonitorOptions {
  /** the environment whose PATH is searched for nvidia-smi, read at each query (default process.env) */
  env?: () => Env;
  intervalMs?: number;
  maxSamples?: number;
  /** a query taking longer is killed and counts as no answer */
  timeoutMs?: number;
  /** how long info() answers from the last query */
  infoTtlMs?: number;
  now?: () => Date;
}

export interface GpuTracking {
  stop(): void;
}

export interface GpuTrackOptions {
  /** the samples of each query taken while this handle tracks (one per GPU, same time) */
  onSamples?(samples: GpuSample[]): void;
  /** sampling interval when this handle starts the timer (tests); default the monitor's */
  intervalMs?: number;
}

export interface GpuMonitor {
  /** the GPUs, driver and CUDA version (cached for a while), or null without a working nvidia-smi */
  info(): Promise<GpuInfo | null>;
  /** what `system.gpu` returns: the newest `limit` samples */
  status(limit?: number): Promise<GpuStatus>;
  /** sample now and every interval until every tracking handle is stopped (one per training run) */
  track(opts?: GpuTrackOptions): GpuTracking;
  /** one sample of every GPU now; false when nvidia-smi is absent or failed */
  sample(): Promise<boolean>;
  /** for tests: forget samples and cached info */
  reset(): void;
}

export function createGpuMonitor(opts: GpuMonitorOptions = {}): GpuMonitor {
  const env = opts.env ?? (() => process.env);
  const intervalMs = opts.intervalMs ?? GPU_SAMPLE_INTERVAL_MS;
  const maxSamples = opts.maxSamples ?? GPU_MAX_SAMPLES;
  const timeoutMs = opts.timeoutMs ?? 4000;
  const infoTtlMs = opts.infoTtlMs ?? 30_000;
  const now = opts.now ?? (() => new Date());

  let samples: GpuStatus['samples'] = [];
  let cached: { info: GpuInfo | null; at: number } | null = null;
  let cuda: string | null | undefined; // asked once per process: the driver does not change under us
  let inFlight: Promise<GpuInfo | null> | null = null;
  let inFlightRecords = false;
  let timer: NodeJS.Timeout | null = null;
  let tracking = 0;
  const listeners = new Set<(samples: GpuSample[]) => void>();

  const run = (bin: string, args: string[]): Promise<string | null> =>
    new Promise((resolve) => {
      execFile(bin, args, { encoding: 'utf8', timeout: timeoutMs, windowsHide: true, maxBuffer: 1 << 20 }, (err, stdout) => resolve(err ? null : stdout));
    });

  /** one query of all GPUs; also records a sample of each when `record` */
  function query(record: boolean): Promise<GpuInfo | null> {
    if (inFlight) {
      // a sample already on its way answers a sample too (a slow nvidia-smi never queues up ticks)
      if (!record || inFlightRecords) return inFlight;
      return inFlight.then(() => query(true));
    }
    inFlightRecords = record;
    inFlight = (async () => {
      const bin = findOnPath('nvidia-smi', env());
      if (!bin) return null;
      const out = await run(bin, NVIDIA_SMI_QUERY_ARGS);
      const rows = out === null ? [] : parseNvidiaSmiCsv(out);
      if (rows.length === 0) return null;
      if (cuda === undefined) cuda = parseCudaVersion((await run(bin, [])) ?? '');
      if (record) {
        const at = now().toISOString();
        const taken = rows.map((r) => ({
          at,
          index: r.index,
          utilization: r.utilization,
          memoryUsedMiB: r.memoryUsedMiB,
          powerW: r.powerW,
          temperatureC: r.temperatureC,
        }));
        samples.push(...taken);
        if (samples.length > maxSamples) samples.splice(0, samples.length - maxSamples);
        for (const l of listeners) {
          try {
            l(taken);
          } catch {
            // a listener's failure (a closed store) must not stop the sampler
          }
        }
      }
      return { gpus: rows, driver: rows.find((r) => r.driver)?.driver ?? null, cuda: cuda ?? null };
    })().then((info) => {
      cached = { info, at: Date.now() };
      inFlight = null;
      return info;
    });
    return inFlight;
  }

  const tick = (): void => void query(true);

  const monitor: GpuMonitor = {
    info() {
      if (cached && Date.now() - cached.at < infoTtlMs) return Promise.resolve(cached.info);
      return query(false);
    },
    async status(limit = 720) {
      const info = await monitor.info();
      return {
        available: info !== null,
        gpus: (info?.gpus ?? []).map((g) => ({ index: g.index, name: g.name, memoryTotalMiB: g.memoryTotalMiB, driver: g.driver })),
        samples: limit > 0 ? samples.slice(-limit) : [],
      };
    },
    track(o = {}) {
      tracking++;
      const listener = o.onSamples;
      if (listener) listeners.add(listener);
      if (!timer) {
        tick();
        timer = setInterval(tick, o.intervalMs ?? intervalMs);
        timer.unref();
      }
      let stopped = false;
      return {
        stop() {
          if (stopped) return;
          stopped = true;
          if (listener) listeners.delete(listener);
          tracking--;
          if (tracking === 0 && timer) {
            clearInterval(timer);
            timer = null;
          }
        },
      };
    },
    async sample() {
      return (await query(true)) !== null;
    },
    reset() {
      samples = [];
      cached = null;
      cuda = undefined;
    },
  };
  return monitor;
}

let shared: GpuMonitor | null = null;

/** The process's monitor (PATH is read at each query). */
export function gpuMonitor(): GpuMonitor {
  return (shared ??= createGpuMonitor());
}

/** What the run's backend note records about the machine's GPUs (nothing without nvidia-smi). */
export function gpuNoteFields(info: GpuInfo | null): Record<string, unknown> {
  if (!info || info.gpus.length === 0) return {};
  return { gpuName: info.gpus[0].name, gpuCount: info.gpus.length, gpuDriver: info.driver, gpuCuda: info.cuda };
}
