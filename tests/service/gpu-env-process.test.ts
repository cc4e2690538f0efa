// The service process applies gpu-env at start, before libtensorflow can load: the CUDA JIT cache
// folder under its data dir (or the user's CUDA_CACHE_PATH instead), and --deterministic, without
// which a run asking for train.deterministic is refused at once (INVALID_CONFIG naming the field and
// the flag). The same check in a service created in this process (CLI train/serve), with the
// environment made here rather than assumed.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { forkService, type IpcClient } from '../../src-main/common/ipc-client';
import { createService } from '../../src-main/service/service';
import { tempDir } from '../helpers/samples';
import { tinyConfig } from './tiny-config';
import { waitStatus } from './wait-event';

const clients: IpcClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
});

/** process.env without anything that would make this test depend on the machine's own settings */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['CUDA_CACHE_PATH', 'CUDA_CACHE_MAXSIZE', 'TF_DETERMINISTIC_OPS', 'TF_CUDNN_DETERMINISTIC']) delete env[k];
  return { ...env, ...extra };
}

function start(dir: string, env: NodeJS.ProcessEnv, extraArgs: string[] = []): IpcClient {
  const c = forkService({ dbPath: path.join(dir, 'ws.db'), dataDir: path.join(dir, 'data'), env, extraArgs: ['--no-auto-resume', ...extraArgs] });
  clients.push(c);
  return c;
}

const deterministicConfig = () => {
  const c = tinyConfig({ name: 'det', epochs: 1, steps: 1 });
  return { ...c, train: { ...(c.train as object), deterministic: true } };
};

describe('gpu env in the service process', () => {
  it('creates <data dir>/cuda-cache, or uses the cache folder the user set', async () => {
    const a = tempDir('svc-env-');
    await start(a, cleanEnv()).call('state.get', {});
    expect(fs.statSync(path.join(a, 'data', 'cuda-cache')).isDirectory()).toBe(true);

    const b = tempDir('svc-env-user-');
    const mine = path.join(b, 'my-cache');
    await start(b, cleanEnv({ CUDA_CACHE_PATH: mine })).call('state.get', {});
    expect(fs.existsSync(mine)).toBe(true);
    expect(fs.existsSync(path.join(b, 'data', 'cuda-cache'))).toBe(false);
  });

  it('refuses a train.deterministic run without --deterministic, and trains it with the flag', async () => {
    const plain = start(tempDir('svc-det-'), cleanEnv());
    const err = await plain.call('runs.start', { config: deterministicConfig() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_CONFIG', field: 'train.deterministic' });
    expect((err as Error).message).toMatch(/^train\.deterministic: this service was not started with --deterministic/);
    expect((err as Error).message).toContain('TF_DETERMINISTIC_OPS=1');
    expect(await plain.call('runs.list', {})).toEqual([]); // refused before a run existed

    const det = start(tempDir('svc-det-on-'), cleanEnv(), ['--deterministic']);
    const run = await det.call('runs.start', { config: deterministicConfig() });
    const done = await waitStatus(det, run.id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    // recorded with the run: its stored config
    const got = await det.call('runs.get', { runId: run.id });
    expect((got.config.train as { deterministic: boolean }).deterministic).toBe(true);
  });

  it('a service in this process checks the environment it has', async () => {
    const saved = { ops: process.env.TF_DETERMINISTIC_OPS, cudnn: process.env.TF_CUDNN_DETERMINISTIC };
    delete process.env.TF_DETERMINISTIC_OPS;
    delete process.env.TF_CUDNN_DETERMINISTIC;
    const dir = tempDir('svc-det-inproc-');
    const service = await createService({ dbPath: path.join(dir, 'ws.db'), dataDir: dir, autoResume: false });
    try {
      expect(() => service.runs.start({ config: deterministicConfig() })).toThrow(/train\.deterministic: .*--deterministic/);
      // a non-deterministic run is unaffected
      const run = service.runs.start({ config: { ...tinyConfig({ epochs: 1, steps: 1 }) } });
      expect((await service.runs.whenFinished(run.id)).run.status).toBe('completed');
    } finally {
      await service.close();
      if (saved.ops === undefined) delete process.env.TF_DETERMINISTIC_OPS;
      else process.env.TF_DETERMINISTIC_OPS = saved.ops;
      if (saved.cudnn === undefined) delete process.env.TF_CUDNN_DETERMINISTIC;
      else process.env.TF_CUDNN_DETERMINISTIC = saved.cudnn;
    }
  });
});
