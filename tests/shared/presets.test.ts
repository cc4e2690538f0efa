// The shipped run configs (resources/configs/*.json) load through resolveRunConfig, and fast-16ep is
// FFCV's ResNet-50 16-epoch recipe in this trainer's fields: 160→192 px at 75 % of the epochs, label
// smoothing 0.1, flip TTA, BN without weight decay, and an lr per step that follows FFCV's cyclic
// (triangular) schedule scaled to batch 128.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveRunConfig, trainSizeForEpoch } from '../../src-shared/config/run-config';
import { oneCycleAt, type OneCycleConfig } from '../../src-main/ml/schedule/onecycle';

const DIR = path.resolve(__dirname, '../../resources/configs');
const load = (name: string) => resolveRunConfig([JSON.parse(fs.readFileSync(path.join(DIR, name), 'utf8'))], name);

describe('shipped run configs', () => {
  it('every preset resolves (the schema is strict: no unknown field slips in)', () => {
    const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json'));
    expect(files).toContain('fast-16ep.json');
    for (const f of files) expect(() => load(f), f).not.toThrow();
  });

  it('fast-16ep: FFCV rn50_16_epochs, labelled in its name', () => {
    const c = load('fast-16ep.json');
    expect(c.name).toMatch(/^fast-16ep: FFCV ResNet-50 16-epoch recipe/);
    expect(c.name).toContain('71-74% top-1 on 8xA100');
    expect(c.name).toContain('not yet measured with this trainer');
    expect(c.name).not.toContain(','); // the name goes into CSV exports unquoted-friendly
    expect(c.train).toMatchObject({ epochs: 16, batchSize: 128, labelSmoothing: 0.1, deterministic: false });
    expect(c.model).toEqual({ arch: 'resnet50', numClasses: 1000, widthMultiplier: 1 });
    // progressive resizing: FFCV's start_ramp 11 / end_ramp 13 (0-based) rounded to 32 px
    expect(Array.from({ length: 16 }, (_, i) => trainSizeForEpoch(c.data, i + 1))).toEqual([...Array(12).fill(160), ...Array(4).fill(192)]);
    // validation: 256 px centre crop at FFCV's 224/256 ratio, left/right flip TTA
    expect(c.data).toMatchObject({ valTransform: 'resize-center-crop', valResize: 292, valSize: 256, valTta: 'flip' });
    expect(c.augment.colorJitter.p).toBe(0);
    expect(c.augment.randomResizedCrop).toMatchObject({ enabled: true, scale: [0.08, 1] });
    expect(c.optimizer).toMatchObject({ name: 'sgd', momentum: 0.9, weightDecay: 1e-4, nesterov: false, excludeBnAndBias: true });
    expect(c.optimizer.lr).toBeCloseTo((1.7 * 128) / 4096, 12);
  });

  it("fast-16ep's lr per step is FFCV's cyclic schedule (1e-4·lr → lr at epoch 2 → 0 at epoch 16) to 1e-4 of the peak", () => {
    const c = load('fast-16ep.json');
    expect(c.schedule.policy).toBe('onecycle');
    const s = c.schedule as OneCycleConfig;
    expect(s.cycleMomentum).toBe(false); // FFCV keeps momentum at 0.9
    const peak = s.maxLr;
    const stepsPerEpoch = Math.floor(1_281_167 / 128); // ImageNet-1k train at batch 128, drop_last
    const total = 16 * stepsPerEpoch;
    // FFCV train_imagenet.py: get_cyclic_lr interpolated within each epoch = np.interp(step / stepsPerEpoch, [0, 2, 16], [1e-4·lr, lr, 0])
    const ffcv = (step: number): number => {
      const e = step / stepsPerEpoch;
      return e <= 2 ? 1e-4 * peak + ((peak - 1e-4 * peak) * e) / 2 : peak * (1 - (e - 2) / 14);
    };
    for (const step of [0, 1, 1000, stepsPerEpoch, 2 * stepsPerEpoch - 1, 2 * stepsPerEpoch, 5 * stepsPerEpoch + 17, 12 * stepsPerEpoch, total - 1]) {
      const ours = oneCycleAt(s, total, step).lr;
      expect(Math.abs(ours - ffcv(step)), `step ${step}`).toBeLessThan(1e-4 * peak);
    }
    expect(oneCycleAt(s, total, 0).lr).toBeCloseTo(1e-4 * peak, 15);
    expect(oneCycleAt(s, total, 2 * stepsPerEpoch - 1).lr).toBeCloseTo(peak, 15);
    expect(oneCycleAt(s, total, total - 1).lr).toBeLessThan(1e-7);
  });
});
