// GPU samples stored with the run (gpu-metrics.ts → store/gpu-samples-repo.ts, `runs.gpuSamples`):
// the real service process with a stand-in nvidia-smi first on PATH (the documented CSV for the
// query, the header with the CUDA version otherwise; its memory in use counts up per query), sampling
// every 100 ms (WORKSTATION_TEST_GPU_SAMPLE_MS) while a short real run trains on the cpu backend.
// The samples are stored for that run only, both GPUs of each query, within the run's time, next to
// its epochs' data-wait share; after a restart on a machine without a GPU the command still returns them.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { forkService, type IpcClient } from '../../src-main/common/ipc-client';
import { GPU_SAMPLE_MS_ENV } from '../../src-main/service/fault-injection';
import { tempDir } from '../helpers/samples';
import { tinyConfig } from './tiny-config';
import { waitStatus } from './wait-event';

const HEADER = `+---------------------------------------------------------------------------------------+
| NVIDIA-SMI 535.104.05             Driver Version: 535.104.05   CUDA Version: 12.2     |
+---------------------------------------------------------------------------------------+
`;

/** nvidia-smi for `--query-gpu=… --format=csv,noheader,nounits`: two A10Gs; GPU 0's memory in use is 20000 + the query's number. */
function standInSmi(): { dir: string; queries: () => number } {
  const dir = tempDir('smi-');
  const count = path.join(dir, 'count');
  fs.writeFileSync(count, '0');
  fs.writeFileSync(path.join(dir, 'header.txt'), HEADER);
  const script = `#!/bin/sh
case "$1" in
  --query-gpu=*)
    n=$(( $(cat '${count}') + 1 )); echo $n > '${count}'
    echo "0, NVIDIA A10G, GPU-4f6b1c1e-7d2a-3b9e-8c0a-1e2f3a4b5c6d, 535.104.05, 23028, $(( 20000 + n )), 97, 183.52, 61"
    echo "1, NVIDIA A10G, GPU-9a8b7c6d-5e4f-3a2b-1c0d-efa987654321, 535.104.05, 23028, 0, 0, [N/A], [Not Supported]" ;;
  *) cat '${path.join(dir, 'header.txt')}' ;;
esac
`;
  fs.writeFileSync(path.join(dir, 'nvidia-smi'), script, { mode: 0o755 });
  return { dir, queries: () => Number(fs.readFileSync(count, 'utf8').trim()) };
}

const clients: IpcClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
});

function start(dir: string, env: NodeJS.ProcessEnv): IpcClient {
  const svc = forkService({ dbPath: path.join(dir, 'ws.db'), dataDir: path.join(dir, 'data'), env, extraArgs: ['--no-auto-resume'] });
  clients.push(svc);
  return svc;
}

describe('GPU samples stored with the run', () => {
  it('samples taken while a run trains are stored with it and returned after a restart on a machine without a GPU', async () => {
    const smi = standInSmi();
    const dir = tempDir('svc-gpu-samples-');
    let svc = start(dir, { ...process.env, PATH: `${smi.dir}${path.delimiter}${process.env.PATH}`, [GPU_SAMPLE_MS_ENV]: '100' });

    const idle = await svc.call('runs.start', { config: tinyConfig({ name: 'first', epochs: 2, steps: 3 }) });
    const done = await waitStatus(svc, idle.id, ['completed', 'failed']);
    expect(done.error).toBeNull();
    const queriesAfter = smi.queries();
    const other = await svc.call('runs.start', { config: tinyConfig({ name: 'second', epochs: 1, steps: 2 }) });
    await waitStatus(svc, other.id, ['completed', 'failed']);

    const got = await svc.call('runs.gpuSamples', { runId: idle.id });
    expect(got.runId).toBe(idle.id);
    const gpu0 = got.samples.filter((s) => s.index === 0);
    const gpu1 = got.samples.filter((s) => s.index === 1);
    expect(gpu0.length).toBeGreaterThanOrEqual(2); // at the start, then every 100 ms while it trained
    expect(gpu1.length).toBe(gpu0.length); // both GPUs of every query
    expect(gpu0.length).toBeLessThanOrEqual(queriesAfter);
    expect(gpu0[0]).toMatchObject({ utilization: 97, powerW: 183.52, temperatureC: 61 });
    expect(gpu0[0].memoryUsedMiB!).toBeGreaterThan(20000);
    expect(gpu1[0]).toMatchObject({ utilization: 0, memoryUsedMiB: 0, powerW: null, temperatureC: null });
    // distinct queries, oldest first, within the run's own time
    expect(new Set(gpu0.map((s) => s.memoryUsedMiB)).size).toBe(gpu0.length);
    const times = got.samples.map((s) => Date.parse(s.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(times[0]).toBeGreaterThanOrEqual(Date.parse(done.startedAt!) - 1000);
    expect(times.at(-1)!).toBeLessThanOrEqual(Date.parse(done.endedAt!) + 1000);
    // the data-wait share of its epochs beside them
    expect(got.dataWait.map((d) => d.epoch)).toEqual([1, 2]);
    for (const d of got.dataWait) {
      expect(d.fraction).not.toBeNull();
      expect(d.fraction!).toBeGreaterThanOrEqual(0);
      expect(d.fraction!).toBeLessThanOrEqual(1);
    }
    // the second run has its own samples, none of the first's
    const second = await svc.call('runs.gpuSamples', { runId: other.id });
    expect(second.samples.length).toBeGreaterThanOrEqual(2);
    expect(Math.min(...second.samples.map((s) => Date.parse(s.at)))).toBeGreaterThan(times.at(-1)!);
    await expect(svc.call('runs.gpuSamples', { runId: 9999 })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    svc.child.kill('SIGTERM');
    await svc.exited;
    // no GPU now (an nvidia-smi that finds none, whatever this machine has): what the command returns comes from the store
    const none = tempDir('smi-none-');
    fs.writeFileSync(path.join(none, 'nvidia-smi'), '#!/bin/sh\necho "No devices were found"\n', { mode: 0o755 });
    svc = start(dir, { ...process.env, PATH: `${none}${path.delimiter}${process.env.PATH}` });
    expect((await svc.call('system.gpu', {})).available).toBe(false);
    expect(await svc.call('runs.gpuSamples', { runId: idle.id })).toEqual(got);
    expect((await svc.call('runs.gpuSamples', { runId: other.id })).samples).toEqual(second.samples);
  });
});
