// The GPU names libtensorflow logs when it creates its devices (src-main/ml/tf-devices.ts): parsed
// from TensorFlow 2.9's log line format, and asked of a real child Node process that prints them.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeTfGpu, parseTfDeviceLog, tfGpuDevices } from '../../src-main/ml/tf-devices';
import { tempDir } from '../helpers/samples';

// what TF 2.9's gpu_device.cc prints (two GPUs, other log lines around them)
const LOG = [
  '2026-12-01 10:00:00.100000: I tensorflow/core/platform/cpu_feature_guard.cc:193] This TensorFlow binary is optimized with oneAPI Deep Neural Network Library (oneDNN) to use the following CPU instructions in performance-critical operations:  AVX2 FMA',
  '2026-12-01 10:00:01.200000: I tensorflow/core/common_runtime/gpu/gpu_device.cc:1532] Created device /job:localhost/replica:0/task:0/device:GPU:1 with 79078 MB memory:  -> device: 1, name: NVIDIA H100 80GB HBM3, pci bus id: 0000:53:00.0, compute capability: 9.0',
  '2026-12-01 10:00:01.100000: I tensorflow/core/common_runtime/gpu/gpu_device.cc:1532] Created device /job:localhost/replica:0/task:0/device:GPU:0 with 22302 MB memory:  -> device: 0, name: NVIDIA L4, pci bus id: 0000:00:03.0, compute capability: 8.9',
  '2026-12-01 10:00:02.000000: W tensorflow/core/common_runtime/bfc_allocator.cc:290] Allocator (GPU_0_bfc) ran out of memory trying to allocate 2.0GiB',
].join('\n');

describe('TensorFlow GPU devices', () => {
  it('parses the "Created device" lines in index order, a name with commas and spaces included', () => {
    const d = parseTfDeviceLog(LOG);
    expect(d).toEqual([
      { index: 0, name: 'NVIDIA L4', memoryMiB: 22302, pciBusId: '0000:00:03.0', computeCapability: '8.9' },
      { index: 1, name: 'NVIDIA H100 80GB HBM3', memoryMiB: 79078, pciBusId: '0000:53:00.0', computeCapability: '9.0' },
    ]);
    expect(describeTfGpu(d[0])).toBe('NVIDIA L4 (GPU:0, 22302 MiB, compute capability 8.9)');
    expect(
      parseTfDeviceLog('Created device /job:localhost/replica:0/task:0/device:GPU:0 with 100 MB memory:  -> device: 0, name: A, B Corp, pci bus id: x')[0].name,
    ).toBe('A, B Corp');
    // TF < 2.5's wording
    expect(
      parseTfDeviceLog(
        'I tensorflow/core/common_runtime/gpu/gpu_device.cc:1402] Created TensorFlow device (/job:localhost/replica:0/task:0/device:GPU:0 with 14125 MB memory) -> physical GPU (device: 0, name: Tesla T4, pci bus id: 0000:00:04.0, compute capability: 7.5)',
      ),
    ).toEqual([{ index: 0, name: 'Tesla T4', memoryMiB: 14125, pciBusId: '0000:00:04.0', computeCapability: '7.5' }]);
    expect(parseTfDeviceLog('2026 I gpu_device.cc] Ignoring visible gpu device (device: 0, name: Tesla K80) with Cuda compute capability 3.7')).toEqual([]);
  });

  it('asks a child process: what it logs is what is returned; nothing when the package does not load', () => {
    // a package standing for tfjs-node-gpu that logs, when required, what libtensorflow logs at device creation
    const dir = tempDir('ws-tfdev-');
    const pkg = path.join(dir, 'node_modules', 'fake-tf');
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'fake-tf', main: 'index.js' }));
    fs.writeFileSync(
      path.join(pkg, 'index.js'),
      `if (process.env.TF_CPP_MIN_LOG_LEVEL !== '0') throw new Error('logging off');
       process.stderr.write(${JSON.stringify(LOG.split('\n')[2])} + '\\n');
       module.exports = {};`,
    );
    const from = path.join(dir, 'package.json');
    fs.writeFileSync(from, '{}');
    expect(tfGpuDevices('fake-tf', from).map(describeTfGpu)).toEqual(['NVIDIA L4 (GPU:0, 22302 MiB, compute capability 8.9)']);
    expect(tfGpuDevices('no-such-tf-package', from)).toEqual([]);
  });
});
