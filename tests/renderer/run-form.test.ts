// The new-run form's demo preset: the app's Demo button, src-shared's DEMO_PRESET and the shipped
// resources/configs/demo.json are one run, field for field.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_PRESET } from '../../src-shared/config/demo-preset';
import { resolveRunConfig } from '../../src-shared/config/run-config';
import { applyDemoPreset, applySeedPreset, defaultForm, formToConfig, validateForm } from '../../src-renderer/src/lib/run-form';

const DEMO_JSON = path.join(__dirname, '../../resources/configs/demo.json');

describe('demo preset', () => {
  it('resources/configs/demo.json holds exactly DEMO_PRESET', () => {
    expect(JSON.parse(fs.readFileSync(DEMO_JSON, 'utf8'))).toEqual(DEMO_PRESET);
  });

  it('the Demo button fills the form with the run DEMO_PRESET resolves to, whatever was in the form before', () => {
    const expected = resolveRunConfig([DEMO_PRESET]);
    expect(expected.data.root).toBeNull(); // the embedded demo dataset
    const edited = defaultForm();
    Object.assign(edited, { labelSmoothing: 0.3, hue: 0.2, policy: 'step', maxStepsPerEpoch: 7, epochs: 90 });
    const seeded = defaultForm();
    applySeedPreset(seeded);
    seeded.root = '/data/imagenet';
    for (const f of [defaultForm(), edited, seeded]) {
      applyDemoPreset(f);
      expect(f.datasetMode).toBe('demo');
      expect(validateForm(f)).toEqual({});
      expect(resolveRunConfig([formToConfig(f)])).toEqual(expected);
    }
    expect(seeded.root).toBe('/data/imagenet'); // kept for when the user switches back to a folder
  });

  it('is the seed ResNet-50 family and augmentations, at a size that trains on a CPU', () => {
    const c = resolveRunConfig([DEMO_PRESET]);
    expect(c.model).toMatchObject({ arch: 'resnet50', numClasses: 10 });
    expect(c.model.widthMultiplier).toBeLessThanOrEqual(1 / 16);
    expect(c.data.trainSize).toBeLessThanOrEqual(48);
    expect(c.augment.randomResizedCrop.enabled).toBe(true);
    expect(c.augment.hflip).toBe(0.5);
    expect(c.augment.colorJitter).toEqual({ brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.05, p: 0.5 });
    expect(c.schedule).toMatchObject({ policy: 'onecycle' }); // warm-up, then annealing
  });
});
