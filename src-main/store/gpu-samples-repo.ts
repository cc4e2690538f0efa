// GPU samples stored with the run they were taken for (table `gpu_samples`, migration 0005): what
// nvidia-smi reported (utilisation, memory, power, temperature per GPU) while the run trained, so
// the System view can chart a finished run's GPU use after a restart. Bounded per run: when a run
// holds more than `maxTimesPerRun` sample times, every second one is dropped (all GPUs of a query
// together), so a long run keeps its whole history at a coarser resolution.
import type { GpuSample } from '../../src-shared/api/schemas';
import type { Db } from './db';

/** sample times kept per run: 2000 × 5 s ≈ 2.8 h at full resolution, then thinned */
export const GPU_SAMPLE_TIMES_PER_RUN = 2000;

export interface GpuSamplesRepo {
  /** adds one query's samples (one per GPU) to the run, thinning its older ones past the bound */
  add(runId: number, samples: readonly GpuSample[]): void;
  /** the run's samples, oldest first */
  list(runId: number): GpuSample[];
  /** distinct sample times stored for the run */
  times(runId: number): number;
}

interface Row {
  at: string;
  gpu_index: number;
  utilization: number | null;
  memory_used_mib: number | null;
  power_w: number | null;
  temperature_c: number | null;
}

export function createGpuSamplesRepo(db: Db, opts: { maxTimesPerRun?: number } = {}): GpuSamplesRepo {
  const max = Math.max(2, opts.maxTimesPerRun ?? GPU_SAMPLE_TIMES_PER_RUN);
  const insert = db.prepare(`
    INSERT INTO gpu_samples (run_id, at, gpu_index, utilization, memory_used_mib, power_w, temperature_c)
    VALUES (@runId, @at, @index, @utilization, @memoryUsedMiB, @powerW, @temperatureC)`);
  const countTimes = db.prepare(`SELECT COUNT(DISTINCT at) AS n FROM gpu_samples WHERE run_id = ?`);
  // every second sample time (the 2nd, 4th, …), oldest first: the newest always stays
  const thin = db.prepare(`
    DELETE FROM gpu_samples WHERE run_id = @runId AND at IN (
      SELECT at FROM (
        SELECT at, ROW_NUMBER() OVER (ORDER BY at DESC) AS k FROM (SELECT DISTINCT at FROM gpu_samples WHERE run_id = @runId)
      ) WHERE k % 2 = 0
    )`);
  const select = db.prepare(`
    SELECT at, gpu_index, utilization, memory_used_mib, power_w, temperature_c FROM gpu_samples
    WHERE run_id = ? ORDER BY at, gpu_index, id`);
  const add = db.transaction((runId: number, samples: readonly GpuSample[]) => {
    for (const s of samples) insert.run({ runId, ...s });
    if ((countTimes.get(runId) as { n: number }).n > max) thin.run({ runId });
  });
  return {
    add(runId, samples) {
      if (samples.length) add.immediate(runId, samples);
    },
    list(runId) {
      return (select.all(runId) as Row[]).map((r) => ({
        at: r.at,
        index: r.gpu_index,
        utilization: r.utilization,
        memoryUsedMiB: r.memory_used_mib,
        powerW: r.power_w,
        temperatureC: r.temperature_c,
      }));
    },
    times: (runId) => (countTimes.get(runId) as { n: number }).n,
  };
}
