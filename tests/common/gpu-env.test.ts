// The environment libtensorflow and the CUDA driver read at load (src-main/common/gpu-env.ts): the
// persistent CUDA JIT cache under the data dir (4 GiB) and, on request, TensorFlow's determinism
// switches — never over a value the user set — and what Electron main hands the service it spawns.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyGpuEnv, CUDA_CACHE_MAXSIZE_DEFAULT, gpuEnv, isDeterministicEnv } from '../../src-main/common/gpu-env';
import { serviceLaunchEnv } from '../../src-main/electron/service-launch';
import { tempDir } from '../helpers/samples';

describe('gpuEnv', () => {
  it('defaults: the JIT cache in <dataDir>/cuda-cache, 4 GiB; no determinism switches unless asked', () => {
    expect(CUDA_CACHE_MAXSIZE_DEFAULT).toBe('4294967296');
    expect(gpuEnv({}, '/data/ws')).toEqual({ CUDA_CACHE_PATH: path.join('/data/ws', 'cuda-cache'), CUDA_CACHE_MAXSIZE: '4294967296' });
    expect(gpuEnv({}, '/data/ws', { deterministic: false })).not.toHaveProperty('TF_DETERMINISTIC_OPS');
    // a relative data dir becomes absolute: the driver must not depend on the service's cwd
    expect(path.isAbsolute(gpuEnv({}, 'rel/dir').CUDA_CACHE_PATH)).toBe(true);
  });

  it("the user's values win, each on its own; an empty value counts as unset", () => {
    expect(gpuEnv({ CUDA_CACHE_PATH: '/nvme/cache' }, '/data')).toEqual({ CUDA_CACHE_MAXSIZE: '4294967296' });
    expect(gpuEnv({ CUDA_CACHE_MAXSIZE: '1073741824' }, '/data')).toEqual({ CUDA_CACHE_PATH: path.join('/data', 'cuda-cache') });
    expect(gpuEnv({ CUDA_CACHE_PATH: '/nvme/cache', CUDA_CACHE_MAXSIZE: '1' }, '/data')).toEqual({});
    expect(gpuEnv({ CUDA_CACHE_PATH: '' }, '/data').CUDA_CACHE_PATH).toBe(path.join('/data', 'cuda-cache'));
  });

  it('deterministic: TF_DETERMINISTIC_OPS=1 and TF_CUDNN_DETERMINISTIC=1, unless the user set them', () => {
    const d = gpuEnv({}, '/data', { deterministic: true });
    expect(d).toMatchObject({ TF_DETERMINISTIC_OPS: '1', TF_CUDNN_DETERMINISTIC: '1' });
    expect(isDeterministicEnv(d)).toBe(true);
    // a user who turned one off keeps it off, and the service then does not count as deterministic
    const user = { TF_DETERMINISTIC_OPS: '0' };
    const added = gpuEnv(user, '/data', { deterministic: true });
    expect(added).not.toHaveProperty('TF_DETERMINISTIC_OPS');
    expect(added.TF_CUDNN_DETERMINISTIC).toBe('1');
    expect(isDeterministicEnv({ ...user, ...added })).toBe(false);
  });

  it("reads TensorFlow's booleans as TensorFlow does: 1 / true, both switches needed", () => {
    expect(isDeterministicEnv({})).toBe(false);
    expect(isDeterministicEnv({ TF_DETERMINISTIC_OPS: 'true', TF_CUDNN_DETERMINISTIC: 'TRUE' })).toBe(true);
    expect(isDeterministicEnv({ TF_DETERMINISTIC_OPS: '1' })).toBe(false);
    expect(isDeterministicEnv({ TF_DETERMINISTIC_OPS: '1', TF_CUDNN_DETERMINISTIC: 'no' })).toBe(false);
  });

  it('applyGpuEnv writes the variables into the environment and creates the cache folder; a second call adds nothing', () => {
    const dataDir = tempDir('gpu-env-');
    const env: Record<string, string | undefined> = { PATH: '/usr/bin' };
    const added = applyGpuEnv(dataDir, { deterministic: true }, env);
    expect(Object.keys(added).sort()).toEqual(['CUDA_CACHE_MAXSIZE', 'CUDA_CACHE_PATH', 'TF_CUDNN_DETERMINISTIC', 'TF_DETERMINISTIC_OPS']);
    expect(env).toMatchObject({ PATH: '/usr/bin', CUDA_CACHE_PATH: path.join(dataDir, 'cuda-cache'), TF_DETERMINISTIC_OPS: '1' });
    expect(fs.statSync(path.join(dataDir, 'cuda-cache')).isDirectory()).toBe(true);
    expect(applyGpuEnv(dataDir, { deterministic: true }, env)).toEqual({});
  });

  it('a cache folder that cannot be created is not an error (the driver then compiles in memory)', () => {
    const dir = tempDir('gpu-env-file-');
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, 'x');
    const env: Record<string, string | undefined> = {};
    expect(() => applyGpuEnv(path.join(file, 'data'), {}, env)).not.toThrow();
    expect(env.CUDA_CACHE_PATH).toBe(path.join(file, 'data', 'cuda-cache'));
  });
});

describe('the environment Electron main spawns the service with', () => {
  it("is the base environment plus the cache variables, the user's own kept, the base untouched", () => {
    const base = { PATH: '/usr/bin', HOME: '/home/u' };
    const env = serviceLaunchEnv(base, '/data/ws');
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/home/u', CUDA_CACHE_PATH: path.join('/data/ws', 'cuda-cache'), CUDA_CACHE_MAXSIZE: '4294967296' });
    expect(base).toEqual({ PATH: '/usr/bin', HOME: '/home/u' });
    expect(serviceLaunchEnv({ CUDA_CACHE_PATH: '/nvme/c' }, '/data/ws').CUDA_CACHE_PATH).toBe('/nvme/c');
    // determinism is the service's --deterministic, not something the app turns on behind the user's back
    expect(serviceLaunchEnv({}, '/d')).not.toHaveProperty('TF_DETERMINISTIC_OPS');
  });
});
