// NVIDIA GPU metrics (src-main/service/gpu-metrics.ts): nvidia-smi's CSV as documented (several GPUs,
// [N/A] / [Not Supported] fields), the CUDA version in its header, and the sampler against a stand-in
// nvidia-smi placed first on PATH (fixed CSV): samples while tracked, none after, a bounded buffer;
// without nvidia-smi (or with one that fails) no GPUs, no samples and no errors. Then the real service
// process with the stand-in: a run's backend note names the GPU, system.gpu returns the GPUs and the
// samples taken while it trained, system.info's GPU text carries the driver and CUDA version.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createGpuMonitor,
  describeGpus,
  findOnPath,
  gpuNoteFields,
  NVIDIA_SMI_QUERY_ARGS,
  parseCudaVersion,
  parseNvidiaSmiCsv,
} from '../../src-main/service/gpu-metrics';
import { forkService, type IpcClient } from '../../src-main/common/ipc-client';
import { tempDir } from '../helpers/samples';
import { tinyConfig } from './tiny-config';
import { waitStatus } from './wait-event';

// `nvidia-smi --query-gpu=index,name,uuid,driver_version,memory.total,memory.used,utilization.gpu,power.draw,temperature.gpu --format=csv,noheader,nounits`
const CSV = [
  '0, NVIDIA A10G, GPU-4f6b1c1e-7d2a-3b9e-8c0a-1e2f3a4b5c6d, 535.104.05, 23028, 21987, 97, 183.52, 61',
  '1, NVIDIA A10G, GPU-9a8b7c6d-5e4f-3a2b-1c0d-efa987654321, 535.104.05, 23028, 0, 0, [N/A], [Not Supported]',
  '',
].join('\n');

const HEADER = `Mon Dec  1 11:00:00 2026
+---------------------------------------------------------------------------------------+
| NVIDIA-SMI 535.104.05             Driver Version: 535.104.05   CUDA Version: 12.2     |
|-----------------------------------------+----------------------+----------------------+
`;

/** A stand-in nvidia-smi in its own folder: fixed CSV for the query, the header otherwise; logs each call. */
function standInSmi(opts: { csv?: string; exitCode?: number } = {}): { dir: string; calls: () => string[] } {
  const dir = tempDir('smi-');
  const log = path.join(dir, 'calls.log');
  fs.writeFileSync(path.join(dir, 'query.csv'), opts.csv ?? CSV);
  fs.writeFileSync(path.join(dir, 'header.txt'), HEADER);
  const script = `#!/bin/sh
echo "[$*]" >> '${log}'
${opts.exitCode ? `echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." >&2; exit ${opts.exitCode}` : ''}
case "$1" in
  --query-gpu=*) cat '${path.join(dir, 'query.csv')}' ;;
  *) cat '${path.join(dir, 'header.txt')}' ;;
esac
`;
  fs.writeFileSync(path.join(dir, 'nvidia-smi'), script, { mode: 0o755 });
  return { dir, calls: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('nvidia-smi output', () => {
  it('parses the documented CSV: one row per GPU, numbers in MiB / % / W / °C, [N/A] and [Not Supported] as null', () => {
    const rows = parseNvidiaSmiCsv(CSV);
    expect(rows).toEqual([
      {
        index: 0,
        name: 'NVIDIA A10G',
        uuid: 'GPU-4f6b1c1e-7d2a-3b9e-8c0a-1e2f3a4b5c6d',
        driver: '535.104.05',
        memoryTotalMiB: 23028,
        memoryUsedMiB: 21987,
        utilization: 97,
        powerW: 183.52,
        temperatureC: 61,
      },
      {
        index: 1,
        name: 'NVIDIA A10G',
        uuid: 'GPU-9a8b7c6d-5e4f-3a2b-1c0d-efa987654321',
        driver: '535.104.05',
        memoryTotalMiB: 23028,
        memoryUsedMiB: 0,
        utilization: 0,
        powerW: null,
        temperatureC: null,
      },
    ]);
  });

  it('keeps a comma in a name, takes CRLF, skips what is not a GPU row', () => {
    const text =
      'No devices were found\r\n' +
      '0, NVIDIA H100 80GB HBM3, GPU-aaaa, 550.54.15, 81559, 1, 0, 69.31, 33\r\n' +
      '1, Tesla, Custom, GPU-bbbb, [N/A], N/A, [Unknown Error], , [N/A], 30\r\n' +
      'x, broken, row\r\n';
    const rows = parseNvidiaSmiCsv(text);
    expect(rows.map((r) => [r.index, r.name, r.driver, r.memoryTotalMiB, r.utilization, r.powerW, r.temperatureC])).toEqual([
      [0, 'NVIDIA H100 80GB HBM3', '550.54.15', 81559, 0, 69.31, 33],
      [1, 'Tesla, Custom', '', null, null, null, 30],
    ]);
    expect(parseNvidiaSmiCsv('')).toEqual([]);
  });

  it("asks for exactly the documented query, and reads the CUDA version from nvidia-smi's header", () => {
    expect(NVIDIA_SMI_QUERY_ARGS).toEqual([
      '--query-gpu=index,name,uuid,driver_version,memory.total,memory.used,utilization.gpu,power.draw,temperature.gpu',
      '--format=csv,noheader,nounits',
    ]);
    expect(parseCudaVersion(HEADER)).toBe('12.2');
    expect(parseCudaVersion('CUDA Version                              : 12.4')).toBe('12.4');
    expect(parseCudaVersion('no header')).toBeNull();
  });

  it('says what the machine has in one line, and what the run note records', () => {
    const info = { gpus: parseNvidiaSmiCsv(CSV), driver: '535.104.05', cuda: '12.2' };
    expect(describeGpus(info)).toBe('2× NVIDIA A10G (23028 MiB); driver 535.104.05, CUDA ≤ 12.2');
    expect(describeGpus({ ...info, gpus: info.gpus.slice(0, 1), cuda: null })).toBe('NVIDIA A10G (23028 MiB); driver 535.104.05');
    expect(gpuNoteFields(info)).toEqual({ gpuName: 'NVIDIA A10G', gpuCount: 2, gpuDriver: '535.104.05', gpuCuda: '12.2' });
    expect(gpuNoteFields(null)).toEqual({});
  });
});

describe('GPU sampler', () => {
  it('finds nvidia-smi on PATH without running it: present, absent, not executable', () => {
    const smi = standInSmi();
    expect(findOnPath('nvidia-smi', { PATH: `${tempDir('empty-')}${path.delimiter}${smi.dir}` })).toBe(path.join(smi.dir, 'nvidia-smi'));
    expect(findOnPath('nvidia-smi', { PATH: tempDir('empty-') })).toBeNull();
    expect(findOnPath('nvidia-smi', {})).toBeNull();
    const plain = tempDir('noexec-');
    fs.writeFileSync(path.join(plain, 'nvidia-smi'), '#!/bin/sh\n', { mode: 0o644 });
    expect(findOnPath('nvidia-smi', { PATH: plain })).toBeNull();
    expect(smi.calls()).toEqual([]);
  });

  it('samples every GPU at once and every interval while tracked, stops with the last handle, keeps at most maxSamples', async () => {
    const smi = standInSmi();
    let t = Date.parse('2026-12-01T10:00:00Z');
    const monitor = createGpuMonitor({
      env: () => ({ PATH: `${smi.dir}${path.delimiter}${process.env.PATH}` }),
      intervalMs: 40,
      maxSamples: 7,
      now: () => new Date((t += 5000)),
    });
    const a = monitor.track();
    const b = monitor.track(); // a second run tracking at the same time shares the one timer
    await sleep(400);
    a.stop();
    a.stop(); // idempotent: does not stop b's tracking
    await sleep(150);
    const mid = (await monitor.status()).samples.length;
    expect(mid).toBe(7); // bounded: many more ticks than 7 samples happened
    b.stop();
    await sleep(100); // an in-flight query may still land
    const queries = smi.calls().filter((c) => c.startsWith('[--query-gpu')).length;
    await sleep(300);
    expect(smi.calls().filter((c) => c.startsWith('[--query-gpu')).length).toBe(queries); // no timer left

    const status = await monitor.status();
    expect(status.available).toBe(true);
    expect(status.gpus).toEqual([
      { index: 0, name: 'NVIDIA A10G', memoryTotalMiB: 23028, driver: '535.104.05' },
      { index: 1, name: 'NVIDIA A10G', memoryTotalMiB: 23028, driver: '535.104.05' },
    ]);
    expect(status.samples).toHaveLength(7);
    const last = status.samples.at(-1)!;
    expect(Object.keys(last).sort()).toEqual(['at', 'index', 'memoryUsedMiB', 'powerW', 'temperatureC', 'utilization']);
    const gpu0 = status.samples.find((s) => s.index === 0)!;
    expect(gpu0).toMatchObject({ utilization: 97, memoryUsedMiB: 21987, powerW: 183.52, temperatureC: 61 });
    expect(status.samples.find((s) => s.index === 1)).toMatchObject({ utilization: 0, powerW: null, temperatureC: null });
    // oldest first, and both GPUs of one query share its time
    const times = status.samples.map((s) => Date.parse(s.at));
    expect([...times].sort((x, y) => x - y)).toEqual(times);
    expect((await monitor.status(2)).samples).toEqual(status.samples.slice(-2));
    expect((await monitor.status(0)).samples).toEqual([]);

    const info = await monitor.info();
    expect(info).toMatchObject({ driver: '535.104.05', cuda: '12.2' });
    // the header (CUDA version) is asked once; info() answers from its cache in between
    expect(smi.calls().filter((c) => c === '[]').length).toBe(1);
    const before = smi.calls().length;
    await monitor.info();
    expect(smi.calls().length).toBe(before);
  });

  it('without nvidia-smi on PATH: no GPUs, no samples, no errors', async () => {
    const monitor = createGpuMonitor({ env: () => ({ PATH: tempDir('no-smi-') }), intervalMs: 20 });
    const t = monitor.track();
    await sleep(100);
    t.stop();
    expect(await monitor.sample()).toBe(false);
    expect(await monitor.info()).toBeNull();
    expect(await monitor.status()).toEqual({ available: false, gpus: [], samples: [] });
  });

  it('an nvidia-smi that fails (no driver) or prints no GPU counts as none', async () => {
    for (const smi of [standInSmi({ exitCode: 9 }), standInSmi({ csv: 'No devices were found\n' })]) {
      const monitor = createGpuMonitor({ env: () => ({ PATH: smi.dir }), intervalMs: 20 });
      expect(await monitor.sample()).toBe(false);
      expect(await monitor.status()).toEqual({ available: false, gpus: [], samples: [] });
      expect(smi.calls().length).toBeGreaterThan(0);
    }
  });

  it('an nvidia-smi that hangs is killed after timeoutMs and counts as none', async () => {
    const dir = tempDir('smi-hang-');
    fs.writeFileSync(path.join(dir, 'nvidia-smi'), '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    const monitor = createGpuMonitor({ env: () => ({ PATH: `${dir}${path.delimiter}${process.env.PATH}` }), timeoutMs: 200 });
    const started = Date.now();
    expect(await monitor.sample()).toBe(false);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('the service process with nvidia-smi on PATH', () => {
  const clients: IpcClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  });

  it("records the GPU with the run, samples while it trains, and answers system.gpu and system.info's GPU text", async () => {
    const smi = standInSmi();
    const dir = tempDir('svc-gpu-');
    const env = { ...process.env, PATH: `${smi.dir}${path.delimiter}${process.env.PATH}` };
    const svc = forkService({ dbPath: path.join(dir, 'ws.db'), dataDir: path.join(dir, 'data'), env, extraArgs: ['--no-auto-resume'] });
    clients.push(svc);

    const run = await svc.call('runs.start', { config: tinyConfig({ name: 'gpu-note', epochs: 1, steps: 2 }) });
    const done = await waitStatus(svc, run.id, ['completed', 'failed']);
    expect(done.error).toBeNull();

    const got = await svc.call('runs.get', { runId: run.id });
    const note = got.events.find((e) => e.kind === 'note' && e.data.backend === 'cpu');
    expect(note?.data).toMatchObject({ backend: 'cpu', gpuName: 'NVIDIA A10G', gpuCount: 2, gpuDriver: '535.104.05', gpuCuda: '12.2' });

    const gpu = await svc.call('system.gpu', {});
    expect(gpu.available).toBe(true);
    expect(gpu.gpus.map((g) => [g.index, g.name, g.memoryTotalMiB, g.driver])).toEqual([
      [0, 'NVIDIA A10G', 23028, '535.104.05'],
      [1, 'NVIDIA A10G', 23028, '535.104.05'],
    ]);
    // sampled when the run started (then every 5 s): at least one sample of each GPU
    expect(gpu.samples.filter((s) => s.index === 0).length).toBeGreaterThanOrEqual(1);
    expect(gpu.samples.filter((s) => s.index === 1).length).toBeGreaterThanOrEqual(1);
    expect(gpu.samples[0]).toMatchObject({ index: 0, utilization: 97, memoryUsedMiB: 21987 });
    // no run trains now: no new samples
    const queries = smi.calls().filter((c) => c.startsWith('[--query-gpu')).length;
    await sleep(5500);
    expect((await svc.call('system.gpu', {})).samples.length).toBe(gpu.samples.length);
    expect(smi.calls().filter((c) => c.startsWith('[--query-gpu')).length).toBeLessThanOrEqual(queries + 1); // at most an info refresh

    const info = await svc.call('system.info', {});
    expect(info.gpu).toContain('2× NVIDIA A10G');
    expect(info.gpu).toContain('driver 535.104.05, CUDA ≤ 12.2');
  });
});
