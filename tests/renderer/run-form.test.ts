// The new-run form's presets: the app's Demo button, src-shared's DEMO_PRESET and the shipped
// resources/configs/demo.json are one run, field for field; so are the "Fast 16 epochs" button,
// FAST_16_PRESET and resources/configs/fast-16ep.json, including the fields the form does not show.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_PRESET } from '../../src-shared/config/demo-preset';
import { resolveRunConfig } from '../../src-shared/config/run-config';
import { FAST_16_PRESET } from '../../src-shared/config/fast-16-preset';
import {
  applyDemoPreset,
  applyFast16Preset,
  applySeedPreset,
  defaultForm,
  formToConfig,
  presetExtras,
  validateForm,
} from '../../src-renderer/src/lib/run-form';

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

describe('Fast 16 epochs preset', () => {
  const FAST_JSON = path.join(__dirname, '../../resources/configs/fast-16ep.json');

  it('resources/configs/fast-16ep.json holds exactly FAST_16_PRESET', () => {
    expect(JSON.parse(fs.readFileSync(FAST_JSON, 'utf8'))).toEqual(FAST_16_PRESET);
  });

  it('the button starts the run the shipped file resolves to, on the ImageNet folder in the form; the fields the form lacks are listed', () => {
    const f = defaultForm();
    applyDemoPreset(f);
    f.root = '/data/imagenet';
    applyFast16Preset(f);
    expect(f.datasetMode).toBe('folder');
    expect(validateForm(f)).toEqual({});
    const expected = resolveRunConfig([{ ...FAST_16_PRESET, data: { ...FAST_16_PRESET.data, root: '/data/imagenet' } }]);
    expect(resolveRunConfig([formToConfig(f)])).toEqual(expected);
    const extras = Object.fromEntries(presetExtras(f).map((x) => [x.field, x.value]));
    expect(extras).toMatchObject({
      'data.trainSizeSchedule': [{ epoch: 13, size: 192 }],
      'data.valTta': 'flip',
      'optimizer.excludeBnAndBias': true,
      'schedule.divFactor': 10000,
      'schedule.cycleMomentum': false,
    });
    // fields the form shows are not listed again, nor what the preset spells out at its default
    for (const same of ['model.arch', 'optimizer.name', 'optimizer.dampening', 'checkpoint.keepLast']) expect(extras[same], same).toBeUndefined();
    expect(extras['train.epochs']).toBeUndefined();
    expect(extras['data.root']).toBeUndefined();
  });

  it('edits in the form win over the preset; switching the schedule policy drops its OneCycle details; other presets and "leave them out" clear it', () => {
    const f = defaultForm();
    applyFast16Preset(f);
    f.root = '/data/imagenet';
    f.epochs = 20;
    f.trainSize = 128;
    let c = resolveRunConfig([formToConfig(f)]);
    expect(c.train.epochs).toBe(20);
    expect(c.data.trainSize).toBe(128);
    expect(c.data.valTta).toBe('flip');
    f.policy = 'step';
    c = resolveRunConfig([formToConfig(f)]);
    expect(c.schedule).toMatchObject({ policy: 'step', stepEpochs: f.stepEpochs });
    expect(presetExtras(f).some((x) => x.field.startsWith('schedule.'))).toBe(false);
    f.base = null;
    expect(presetExtras(f)).toEqual([]);
    expect(resolveRunConfig([formToConfig(f)]).data.valTta).not.toBe('flip');
    applyFast16Preset(f);
    applySeedPreset(f);
    expect(f.base).toBeNull();
    expect(presetExtras(f)).toEqual([]);
  });
});
