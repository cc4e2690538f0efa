// Backend choice. The native packages are optionalDependencies: where they are not installed
// (as on the CI runners) auto falls back to pure-JS cpu and explicit gpu/node requests are clear
// errors; where they are, the native backend must be chosen.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { probeNative, selectBackend } from '../../src-main/ml/backend';

describe('selectBackend', () => {
  it('cpu: pure-JS tfjs, on the shared engine', async () => {
    const info = await selectBackend('cpu');
    expect(info).toMatchObject({ name: 'cpu', gpu: null });
    expect(info.reason).toMatch(/cpu/);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('auto: the best available backend, with the reason', async () => {
    const gpu = probeNative('@tensorflow/tfjs-node-gpu');
    const node = probeNative('@tensorflow/tfjs-node');
    const info = await selectBackend('auto');
    if (gpu.loaded && gpu.gpus.length) expect(info.name).toBe('tensorflow-gpu');
    else if (gpu.loaded || node.loaded) expect(info.name).toBe('tensorflow');
    else {
      expect(info.name).toBe('cpu');
      expect(info.reason).toContain('neither native backend is usable');
      expect(info.reason).toContain(node.error!);
      expect(tf.getBackend()).toBe('cpu');
    }
  });

  it('gpu / node where unavailable: BACKEND_UNAVAILABLE naming the package and why', async () => {
    const gpu = probeNative('@tensorflow/tfjs-node-gpu');
    if (gpu.loaded && gpu.gpus.length) {
      expect((await selectBackend('gpu')).name).toBe('tensorflow-gpu');
    } else {
      await expect(selectBackend('gpu')).rejects.toMatchObject({
        code: 'BACKEND_UNAVAILABLE',
        field: 'backend',
        message: expect.stringContaining('@tensorflow/tfjs-node-gpu is not usable'),
      });
    }
    const node = probeNative('@tensorflow/tfjs-node');
    if (node.loaded) expect((await selectBackend('node')).name).toBe('tensorflow');
    else
      await expect(selectBackend('node')).rejects.toMatchObject({
        code: 'BACKEND_UNAVAILABLE',
        message: expect.stringContaining(`@tensorflow/tfjs-node could not be loaded: ${node.error}`),
      });
    await selectBackend('cpu');
  });
});
