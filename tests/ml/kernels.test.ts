// The workstation kernels (src-main/ml/kernels): what the native code path dispatches per training
// step, counted on the stand-in 'tensorflow' backend (or on tfjs-node where it is installed); the
// stand-in's fidelity to tfjs-node (the padding tfjs-node's kernels reject, TF op attributes);
// tensor hygiene of the fused path. Numerics of both paths: model/sgd/color-jitter tests.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countEngineKernels } from '../../src-main/ml/bench-engine';
import { probeNative } from '../../src-main/ml/backend';
import { installNativeStandIn, uninstallNativeStandIn } from '../../src-main/ml/kernels/native-stand-in';
import { createMetricAccumulator } from '../../src-main/ml/metrics';
import { createModel } from '../../src-main/ml/models/index';
import { createOptimizer } from '../../src-main/ml/optim/sgd';
import { OptimizerSchema } from '../../src-shared/config/run-config';
import { trainStep } from '../../src-main/ml/train-step';
import { conv2dPadded, maxPoolPadded } from '../../src-main/ml/models/conv';

const native = probeNative('@tensorflow/tfjs-node-gpu').loaded || probeNative('@tensorflow/tfjs-node').loaded;

describe('kernels per training step on the native code path', () => {
  afterAll(async () => {
    await uninstallNativeStandIn();
    await tf.setBackend('cpu');
  });

  it('full ResNet-50: at most 1,500 with fused kernels (5,399 composite); the count does not depend on width, batch or size', async () => {
    const fused = await countEngineKernels({ batch: 2, size: 16, width: 1, classes: 1000 });
    expect(fused).toMatchObject({ codePath: 'native', backend: native ? 'tensorflow' : 'stand-in', fusedKernels: true });
    expect(fused.kernelsPerStep).toBeLessThanOrEqual(1500);
    expect(fused.tfOpsPerStep).toBe(fused.kernelsPerStep - (fused.byKernel.Identity ?? 0));
    // one native op per conv and per BN, forward and backward (the stem conv has no input gradient)
    expect(fused.byKernel).toMatchObject({
      'WsConv2D:Conv2D': 53,
      'WsConv2DBackpropInput:Conv2DBackpropInput': 52,
      'WsConv2DBackpropFilter:Conv2DBackpropFilter': 53,
      'WsFusedBatchNorm:FusedBatchNormV3': 53,
      'WsFusedBatchNorm:Relu': 49,
      'WsFusedBatchNorm:AddV2': 16,
      'WsBatchNormGrad:FusedBatchNormGradV3': 53,
      'WsBatchNormGrad:ReluGrad': 49,
    });
    // none of the composite's batch-norm and ReLU-gradient kernels are left
    for (const k of ['Rsqrt', 'Square', 'Tile', 'Step', 'FusedBatchNorm', 'Conv2D']) expect(fused.byKernel[k], k).toBeUndefined();
    const sum = Object.values(fused.byKernel).reduce((a, b) => a + b, 0);
    expect(sum).toBe(fused.kernelsPerStep);
    expect(fused.firstStepKernels).toBeLessThan(fused.kernelsPerStep); // no momentum buffers to read yet

    const small = await countEngineKernels({ batch: 3, size: 24, width: 1 / 16, classes: 1000 });
    expect(small.kernelsPerStep).toBe(fused.kernelsPerStep);
    expect(small.byKernel).toEqual(fused.byKernel);
    const composite = await countEngineKernels({ batch: 2, size: 16, width: 1 / 16, classes: 1000, fusedKernels: false });
    expect(composite.fusedKernels).toBe(false);
    expect(composite.kernelsPerStep).toBeGreaterThan(5000);
    expect(composite.byKernel.Multiply).toBeGreaterThan(1500);
  }, 300_000);
});

// Where tfjs-node is installed these run on it (the real thing the stand-in copies), with its own
// error wording; here they run on the stand-in.
describe("the 'tensorflow' backend (the stand-in here, tfjs-node where installed) behaves like tfjs-node where it matters", () => {
  let standIn = true;
  beforeAll(async () => {
    standIn = installNativeStandIn() === 'stand-in';
    await tf.setBackend('tensorflow');
  });
  afterAll(async () => {
    await uninstallNativeStandIn();
  });

  it("rejects the padding tfjs-node's kernels reject: numeric pooling pads, explicit pads in conv backprop", () => {
    const x = tf.randomNormal([1, 8, 8, 2]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 2, 2]) as tf.Tensor4D;
    const explicit: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ];
    // what ResNet's forward pass used to do on the native path: PyTorch's MaxPool2d(3, 2, 1)
    expect(() => tf.maxPool(x, 3, 2, 1)).toThrow(standIn ? /supports only 'valid' and 'same' padding while padding was NUMBER/ : /padding/i);
    // tfjs's own gradient of an explicitly padded conv: tfjs-node's Conv2DBackpropInput throws
    expect(tf.conv2d(x, w, 1, explicit).shape).toEqual([1, 8, 8, 2]);
    expect(() => tf.grads((a: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, w, 1, explicit)))([x])).toThrow(
      standIn ? /padding was EXPLICIT/ : /padding|EXPLICIT/i,
    );
    // what the model runs instead, fused and composite
    for (const fusedKernels of [true, false]) {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(maxPoolPadded(conv2dPadded(a as tf.Tensor4D, b as tf.Tensor4D, 2, 1, fusedKernels), 3, 2, 1)))([
        x,
        w,
      ]);
      expect(g.map((t) => t.shape)).toEqual([x.shape, w.shape]);
      tf.dispose(g);
    }
    tf.dispose([x, w]);
  });

  it('runs TensorFlow ops only with the attributes and inputs their op definitions declare', () => {
    const be = tf.backend() as unknown as {
      binding: Record<string, number>;
      executeSingleOutput(name: string, attrs: unknown[], inputs: tf.Tensor[]): tf.Tensor;
    };
    const a = tf.ones([3]);
    const T = { name: 'T', type: be.binding.TF_ATTR_TYPE, value: be.binding.TF_FLOAT };
    const y = be.executeSingleOutput('Mul', [T], [a, tf.scalar(2)]);
    expect(Array.from(y.dataSync())).toEqual([2, 2, 2]);
    // TensorFlow rejects what its op definitions do not declare; the stand-in says which rule broke
    const why = (re: RegExp) => (standIn ? re : /./);
    expect(() => be.executeSingleOutput('Mul', [], [a, a])).toThrow(why(/Mul: missing attribute "T"/));
    expect(() => be.executeSingleOutput('Mul', [{ ...T, type: be.binding.TF_ATTR_INT }], [a, a])).toThrow(why(/attribute "T" has type/));
    expect(() => be.executeSingleOutput('Mul', [T], [a])).toThrow(why(/1 inputs, the op takes 2/));
    expect(() => be.executeSingleOutput('Conv2D', [T], [a, a])).toThrow(why(/missing attribute "strides"/));
    if (standIn) {
      // the stand-in is strict where TensorFlow ignores or has defaults
      expect(() => be.executeSingleOutput('Mul', [T, { name: 'N', type: be.binding.TF_ATTR_INT, value: 2 }], [a, a])).toThrow(/unknown attribute "N"/);
      expect(() => be.executeSingleOutput('BatchMatMulV2', [T], [a, a])).toThrow(/not emulated/);
    }
    tf.dispose([a, y]);
  });
});

describe('tensor hygiene with fused kernels', () => {
  afterAll(async () => {
    await uninstallNativeStandIn();
    await tf.setBackend('cpu');
  });

  for (const backend of ['cpu', 'tensorflow']) {
    it(`${backend}${backend === 'tensorflow' && !native ? ' (stand-in)' : ''}: numTensors after step 5 equals after step 2`, async () => {
      if (backend === 'tensorflow') installNativeStandIn();
      await tf.setBackend(backend);
      const model = createModel({ arch: 'resnet50', numClasses: 5, widthMultiplier: 1 / 32 }, 1);
      const opt = createOptimizer(
        OptimizerSchema.parse({ lr: 0.01, momentum: 0.9, weightDecay: 1e-4 }),
        model.vars.filter((v) => v.trainable).map((v) => ({ name: v.name, variable: v.variable, decay: v.decay })),
      );
      const acc = createMetricAccumulator();
      const counts: number[] = [];
      for (let s = 0; s < 5; s++) {
        const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', s) as tf.Tensor4D;
        trainStep(model, opt, { x, labels: Int32Array.from([0, 1, 2, 3]), lr: 0.01, momentum: s === 3 ? 0 : 0.9, labelSmoothing: 0 }, acc);
        x.dispose();
        counts.push(tf.memory().numTensors);
      }
      expect(Number.isFinite(acc.read().loss)).toBe(true);
      expect(counts[4]).toBe(counts[1]);
      acc.dispose();
      opt.dispose();
      model.dispose();
    }, 120_000);
  }
});
