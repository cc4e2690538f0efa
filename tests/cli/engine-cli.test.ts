// The engine commands through the real bundle: `node bin/workstation.cjs …`.
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../../src-shared/config/run-config';
import { saveCheckpoint } from '../../src-main/ml/checkpoint';
import { createModel } from '../../src-main/ml/models/index';
import { tempDir } from '../helpers/samples';

const ROOT = path.resolve(__dirname, '../..');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/workstation.cjs'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, WORKSTATION_HOME: tempDir('ws-home-') },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('engine CLI', () => {
  it('model summary: torchvision ResNet-50 counts, tiny variants, bad flags', () => {
    const r = cli('model', 'summary', '--arch', 'resnet50', '--json');
    expect(r.code, r.stderr).toBe(0);
    const s = r.json();
    expect(s).toMatchObject({ arch: 'resnet50', numClasses: 1000, trainableParams: 25_557_032, nonTrainableParams: 53_120, convLayers: 53, bnLayers: 53 });
    expect(s.layers[0]).toEqual({ name: 'conv1', type: 'conv', outputShape: [112, 112, 64], params: 9408 });
    expect(s.layers.find((l: { name: string }) => l.name === 'maxpool').outputShape).toEqual([56, 56, 64]);
    expect(s.layers.at(-2)).toEqual({ name: 'avgpool', type: 'avgpool', outputShape: [2048], params: 0 });
    const tiny = cli('model', 'summary', '--classes', '10', '--width', '0.0625', '--size', '32', '--json').json();
    expect(tiny).toMatchObject({ numClasses: 10, widthMultiplier: 0.0625, trainableParams: 96_782 });
    expect(tiny.layers.at(-1)).toEqual({ name: 'fc', type: 'fc', outputShape: [10], params: 128 * 10 + 10 });
    const text = cli('model', 'summary');
    expect(text.stdout).toContain('trainable params:     25,557,032');
    const bad = cli('model', 'summary', '--width', '-1');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/INVALID_ARGUMENT.*widthMultiplier/);
    expect(cli('model', 'summary', '--arch', 'vgg16').stderr).toMatch(/arch/);
  });

  it('checkpoint inspect: header of a real checkpoint; corrupt files are refused', () => {
    const dir = tempDir();
    const cfg = resolveRunConfig([{ model: { numClasses: 3, widthMultiplier: 1 / 32 } }]);
    const model = createModel(cfg.model, 5);
    const file = path.join(dir, 'epoch-0007.ckpt');
    const saved = saveCheckpoint({
      file,
      model,
      optimizer: [],
      header: {
        epoch: 7,
        step: 70,
        stepsPerEpoch: 10,
        config: cfg,
        metrics: null,
        scheduler: { policy: { policy: 'constant' }, totalSteps: 390, startGlobalStep: 0, step: 70, baseLr: 0.001, baseMomentum: 0.9 },
        rng: { seed: 0, scheme: 'counter-based: hashKeys(seed, purpose, epoch, sampleId)' },
        backend: 'cpu',
      },
    });
    model.dispose();
    const r = cli('checkpoint', 'inspect', file, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      epoch: 7,
      step: 70,
      arch: 'resnet50',
      numClasses: 3,
      trainableParams: model.trainableParams,
      weightsSha256: saved.weightsSha256,
      sha256: saved.sha256,
      bytes: saved.bytes,
    });
    expect(cli('checkpoint', 'inspect', file).stdout).toContain(`weightsSha256  ${saved.weightsSha256}`);
    fs.truncateSync(file, saved.bytes - 10);
    const bad = cli('checkpoint', 'inspect', file, '--json');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('CHECKPOINT_CORRUPT');
    expect(bad.stderr).toContain(file);
    expect(cli('checkpoint', 'inspect').stderr).toContain('missing argument <path>');
  });

  it('doctor: backend and why, tfjs, native packages, node, sharp/libvips, better-sqlite3', () => {
    const r = cli('doctor', '--json');
    expect(r.code, r.stderr).toBe(0);
    const d = r.json();
    expect(['cpu', 'tensorflow', 'tensorflow-gpu']).toContain(d.backend.name);
    expect(d.backend.reason.length).toBeGreaterThan(10);
    expect(d.tfjs.version).toBe('4.22.0');
    expect(d.native.map((n: { package: string }) => n.package)).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    for (const n of d.native) if (!n.loaded) expect(n.error).toBeTruthy();
    expect(d.node.version).toBe(process.version);
    expect(d.sharp.libvips).toMatch(/^\d+\.\d+/);
    expect(d.betterSqlite3).toMatchObject({ loads: true });
    const text = cli('doctor', '--backend', 'cpu');
    expect(text.stdout).toMatch(/^backend\s+cpu/m);
    expect(cli('doctor', '--backend', 'tpu').code).toBe(2);
  });

  it('doctor: the data directory and how to get a faster backend', () => {
    const home = tempDir('ws-home-');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/workstation.cjs'), 'doctor', '--backend', 'cpu', '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, WORKSTATION_HOME: home },
    });
    expect(r.status, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.dataDir).toBe(path.resolve(home));
    expect(d.selftest).toBeUndefined();
    const hints = d.hints.join('\n');
    expect(hints).toContain('npm install @tensorflow/tfjs-node-gpu@4.22.0');
    expect(hints).toContain('npm install @tensorflow/tfjs-node@4.22.0');
    expect(hints).toMatch(/CUDA 11\.8 \+ cuDNN 8\.9/);
    const text = cli('doctor', '--backend', 'cpu').stdout;
    expect(text).toMatch(/^data dir\s+\S/m);
    expect(text).toMatch(/^faster backend\s+.*tfjs-node-gpu/m);
  });

  it('doctor --selftest: every kernel and a few training steps against the pure-JS reference', () => {
    const r = cli('doctor', '--backend', 'cpu', '--selftest', '--json');
    expect(r.code, r.stderr).toBe(0);
    const { selftest } = r.json();
    expect(selftest).toMatchObject({ ok: true, backend: 'cpu', precision: 'float32' });
    expect(selftest.checks.length).toBeGreaterThanOrEqual(12);
    for (const c of selftest.checks) {
      expect(Object.keys(c)).toEqual(expect.arrayContaining(['name', 'ok', 'maxRelError']));
      expect(c.ok, c.name).toBe(true);
    }
    expect(r.stderr).toContain('selftest: training steps');
    const text = cli('doctor', '--backend', 'cpu', '--selftest');
    expect(text.stdout).toMatch(/^selftest\s+OK on cpu/m);
    expect(text.stdout).toMatch(/^ {2}ok {3}WsFusedBatchNorm \+ residual \+ ReLU/m);
  });

  it('bench engine: steps/s, images/s and peak memory on the cpu backend', () => {
    const r = cli(
      'bench',
      'engine',
      '--backend',
      'cpu',
      '--batch',
      '2',
      '--size',
      '32',
      '--width',
      '0.03125',
      '--classes',
      '10',
      '--steps',
      '2',
      '--warmup',
      '1',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const b = r.json();
    expect(b).toMatchObject({ batch: 2, size: 32, steps: 2, warmupSteps: 1, backend: { name: 'cpu' } });
    expect(b.stepsPerSec).toBeGreaterThan(0);
    expect(b.imagesPerSec).toBeCloseTo(b.stepsPerSec * 2, 6);
    expect(b.peakRssMiB).toBeGreaterThan(10);
    expect(b.peakTfMiB).toBeGreaterThanOrEqual(0);
    expect(r.stderr).toContain('step 2/2');
    expect(cli('bench', 'engine', '--batch', '0').stderr).toMatch(/--batch must be a positive integer/);
    const composite = cli(
      'bench',
      'engine',
      '--backend',
      'cpu',
      '--batch',
      '2',
      '--size',
      '32',
      '--width',
      '0.03125',
      '--classes',
      '10',
      '--steps',
      '1',
      '--warmup',
      '0',
      '--no-fused-kernels',
      '--json',
    );
    expect(composite.code, composite.stderr).toBe(0);
    expect(composite.json()).toMatchObject({ fusedKernels: false, steps: 1 });
    expect(b.fusedKernels).toBe(true);
  });

  it('bench engine --count-kernels: kernels of one training step on the native code path (a stand-in here)', () => {
    // the count does not depend on width or size (tests/ml/kernels.test.ts checks the full ResNet-50)
    const r = cli('bench', 'engine', '--count-kernels', '--width', '0.0625', '--size', '16', '--json');
    expect(r.code, r.stderr).toBe(0);
    const c = r.json();
    expect(c).toMatchObject({ codePath: 'native', fusedKernels: true, batch: 2, size: 16 });
    expect(['stand-in', 'tensorflow']).toContain(c.backend);
    expect(c.kernelsPerStep).toBeLessThanOrEqual(1500);
    expect(Object.values(c.byKernel as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(c.kernelsPerStep);
    expect(c.byKernel['WsFusedBatchNorm:FusedBatchNormV3']).toBe(53);
    expect(r.stderr).toContain('step 2/2');
    const text = cli('bench', 'engine', '--count-kernels', '--width', '0.0625', '--size', '16');
    expect(text.stdout).toMatch(new RegExp(`^kernels/step\\s+${c.kernelsPerStep} `, 'm'));
    expect(text.stdout).toMatch(/^code path\s+native/m);
  });
});
