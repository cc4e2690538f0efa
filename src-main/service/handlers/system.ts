// settings.get / settings.set: the data dir's app settings. system.info: OS, memory, the backend of the active (or last) trainer
// (with the GPU's name, driver and CUDA version from nvidia-smi when it is there), and data-pipeline vs training throughput
// (when the loader is slower than the trainer, the GPU starves). system.gpu: nvidia-smi's GPUs and the samples taken while
// runs train (gpu-metrics.ts).
import os from 'node:os';
import { describeGpus, gpuMonitor, type GpuMonitor } from '../gpu-metrics';
import type { HandlerContext, Handlers } from './types';

export function createSystemHandlers(ctx: HandlerContext, gpus: GpuMonitor = gpuMonitor()): Handlers {
  return {
    'settings.get': () => ctx.settings.get(),
    'settings.set': ({ patch }) => ctx.settings.set(patch),
    'system.info': async () => {
      const backend = ctx.runs.backend();
      const cpus = os.cpus();
      const rates = ctx.runs.throughput();
      const smi = await gpus.info();
      const gpu = [backend?.gpu ?? null, smi ? describeGpus(smi) : null].filter(Boolean).join(' — ') || null;
      return {
        backend: backend?.name ?? null,
        backendReason: backend?.reason ?? null,
        gpu,
        cpus: cpus.length,
        cpuModel: cpus[0]?.model ?? 'unknown',
        totalMemoryBytes: os.totalmem(),
        freeMemoryBytes: os.freemem(),
        rssBytes: process.memoryUsage().rss,
        node: process.version,
        platform: `${os.platform()} ${os.release()} ${os.arch()}`,
        dataImagesPerSec: rates.dataImagesPerSec,
        trainImagesPerSec: rates.trainImagesPerSec,
        dbPath: ctx.paths.dbPath,
        dataDir: ctx.paths.dataDir,
      };
    },
    'system.gpu': ({ limit }) => gpus.status(limit),
  };
}
