// settings.get / settings.set: the data dir's app settings. system.info: OS, memory, the backend of the active (or last) trainer, and data-pipeline vs
// training throughput (when the loader is slower than the trainer, the GPU starves).
import os from 'node:os';
import type { HandlerContext, Handlers } from './types';

export function createSystemHandlers(ctx: HandlerContext): Handlers {
  return {
    'settings.get': () => ctx.settings.get(),
    'settings.set': ({ patch }) => ctx.settings.set(patch),
    'system.info': () => {
      const backend = ctx.runs.backend();
      const cpus = os.cpus();
      const rates = ctx.runs.throughput();
      return {
        backend: backend?.name ?? null,
        backendReason: backend?.reason ?? null,
        gpu: backend?.gpu ?? null,
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
  };
}
