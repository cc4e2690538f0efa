// The new-run form as flat fields, and its mapping to a RunConfig input. Validation uses the
// shared RunConfigSchema, so the form reports exactly what the service would reject, keyed by
// the config field path the service also uses in its errors.
import type { RunConfig } from '../../../src-shared/config/run-config';
import { RunConfigSchema, deepMerge, diffConfigs, type RunConfigInput } from '../../../src-shared/config/run-config';
import { DEMO_PRESET } from '../../../src-shared/config/demo-preset';
import { FAST_16_PRESET } from '../../../src-shared/config/fast-16-preset';

export type Policy = RunConfig['schedule']['policy'];

export interface RunForm {
  name: string;
  datasetMode: 'demo' | 'folder';
  root: string;
  epochs: number | null;
  batchSize: number | null;
  maxStepsPerEpoch: number | null;
  maxValSteps: number | null;
  trainSize: number | null;
  valSize: number | null;
  valResize: number | null;
  workers: number | null;
  lr: number | null;
  momentum: number | null;
  weightDecay: number | null;
  nesterov: boolean;
  labelSmoothing: number | null;
  logEverySteps: number | null;
  policy: Policy;
  maxLr: number | null;
  pctStart: number | null;
  stepEpochs: number | null;
  gamma: number | null;
  warmupEpochs: number | null;
  minLr: number | null;
  hflip: number | null;
  brightness: number | null;
  contrast: number | null;
  saturation: number | null;
  hue: number | null;
  jitterP: number | null;
  scaleMin: number | null;
  scaleMax: number | null;
  seed: number | null;
  backend: RunConfig['backend'];
  widthMultiplier: number | null;
  numClasses: number | null;
  /** train.allowFailedSelftest: train on a native backend although its stored self-test failed */
  allowFailedSelftest: boolean;
  /**
   * The preset the form was filled from, whole: the config under the form's fields, so a preset's
   * fields the form does not show (progressive resizing, test-time flip, …) are kept. Null: none.
   */
  base: RunConfigInput | null;
}

/** The form's fields a resolved config sets (all but the dataset choice, the name and the preset). */
type ConfigFields = Omit<
  RunForm,
  'name' | 'datasetMode' | 'root' | 'base' | 'policy' | 'maxLr' | 'pctStart' | 'stepEpochs' | 'gamma' | 'warmupEpochs' | 'minLr'
>;

function fieldsFromConfig(p: RunConfig): ConfigFields {
  return {
    epochs: p.train.epochs,
    batchSize: p.train.batchSize,
    maxStepsPerEpoch: p.data.maxStepsPerEpoch,
    maxValSteps: p.data.maxValSteps,
    trainSize: p.data.trainSize,
    valSize: p.data.valSize,
    valResize: p.data.valResize,
    workers: p.data.workers,
    lr: p.optimizer.lr,
    momentum: p.optimizer.momentum,
    weightDecay: p.optimizer.weightDecay,
    nesterov: p.optimizer.nesterov,
    labelSmoothing: p.train.labelSmoothing,
    logEverySteps: p.train.logEverySteps,
    hflip: p.augment.hflip,
    brightness: p.augment.colorJitter.brightness,
    contrast: p.augment.colorJitter.contrast,
    saturation: p.augment.colorJitter.saturation,
    hue: p.augment.colorJitter.hue,
    jitterP: p.augment.colorJitter.p,
    scaleMin: p.augment.randomResizedCrop.scale[0],
    scaleMax: p.augment.randomResizedCrop.scale[1],
    seed: p.seed,
    backend: p.backend,
    widthMultiplier: p.model.widthMultiplier,
    numClasses: p.model.numClasses,
    allowFailedSelftest: p.train.allowFailedSelftest,
  };
}

const D = RunConfigSchema.parse({});

export function defaultForm(): RunForm {
  return {
    ...fieldsFromConfig(D),
    name: 'resnet50',
    datasetMode: 'demo',
    root: '',
    // the form starts on OneCycle; the other policies' fields hold their usual values until chosen
    policy: 'onecycle',
    maxLr: 0.1,
    pctStart: 0.3,
    stepEpochs: 30,
    gamma: 0.1,
    warmupEpochs: 0,
    minLr: 0,
    base: null,
  };
}

/**
 * Fills the form with a preset: every field the form shows from the config the preset resolves to,
 * and the preset itself as the form's `base`, so the fields the form does not show still reach the
 * run (see presetExtras). Every other field goes back to its default.
 */
function applyPreset(f: RunForm, preset: Readonly<RunConfigInput>, datasetMode: RunForm['datasetMode']): void {
  const p = RunConfigSchema.parse(preset);
  const s = p.schedule;
  Object.assign(f, {
    ...defaultForm(),
    ...fieldsFromConfig(p),
    root: f.root,
    name: p.name,
    datasetMode,
    policy: s.policy,
    ...(s.policy === 'onecycle' ? { maxLr: s.maxLr, pctStart: s.pctStart } : {}),
    ...(s.policy === 'step' ? { stepEpochs: s.stepEpochs, gamma: s.gamma } : {}),
    ...(s.policy === 'cosine' ? { warmupEpochs: s.warmupEpochs, minLr: s.minLr } : {}),
    base: structuredClone(preset) as RunConfigInput,
  } satisfies Partial<RunForm>);
}

/**
 * The demo preset (src-shared/config/demo-preset.ts, also shipped as resources/configs/demo.json):
 * a 1/16-width ResNet-50 at 32 px on the embedded demo dataset, ≥ 80 % val top-1 in a few minutes
 * on a CPU. It sets only fields the form shows.
 */
export function applyDemoPreset(f: RunForm): void {
  applyPreset(f, DEMO_PRESET, 'demo');
}

/**
 * "Fast 16 epochs" (src-shared/config/fast-16-preset.ts = resources/configs/fast-16ep.json): FFCV's
 * ResNet-50 16-epoch recipe on an ImageNet folder; its progressive resizing, test-time flip, BN
 * without weight decay and schedule details ride along in `base` (listed by presetExtras).
 */
export function applyFast16Preset(f: RunForm): void {
  applyPreset(f, FAST_16_PRESET, 'folder');
}

/**
 * What the preset sets beyond the form's fields (field path → value, as the run will get them), e.g.
 * `data.valTta = "flip"`: the fields where the run with the preset differs from the same form
 * without it. Empty without a preset, when the preset sets only what the form shows or repeats
 * defaults, or while the form does not validate.
 */
export function presetExtras(f: RunForm): { field: string; value: unknown }[] {
  if (!f.base) return [];
  const without = RunConfigSchema.safeParse(formToConfig({ ...f, base: null }));
  const withPreset = RunConfigSchema.safeParse(formToConfig(f));
  if (!without.success || !withPreset.success) return [];
  return diffConfigs(without.data, withPreset.data).map((d) => ({ field: d.field, value: d.to }));
}

/** The name NewRunView.svelte imports (its button: "Demo (tiny model, learns in minutes)"). */
export const applyTinyPreset = applyDemoPreset;

function schedule(f: RunForm): Record<string, unknown> {
  switch (f.policy) {
    case 'onecycle':
      return { policy: 'onecycle', maxLr: f.maxLr, pctStart: f.pctStart };
    case 'step':
      return { policy: 'step', stepEpochs: f.stepEpochs, gamma: f.gamma };
    case 'cosine':
      return { policy: 'cosine', warmupEpochs: f.warmupEpochs, minLr: f.minLr };
    default:
      return { policy: 'constant' };
  }
}

export function formToConfig(f: RunForm): Record<string, unknown> {
  const fields = {
    name: f.name,
    seed: f.seed,
    backend: f.backend,
    model: { widthMultiplier: f.widthMultiplier, numClasses: f.numClasses },
    data: {
      root: f.datasetMode === 'demo' ? null : f.root,
      workers: f.workers,
      trainSize: f.trainSize,
      valSize: f.valSize,
      valResize: f.valResize,
      maxStepsPerEpoch: f.maxStepsPerEpoch,
      maxValSteps: f.maxValSteps,
    },
    train: {
      epochs: f.epochs,
      batchSize: f.batchSize,
      labelSmoothing: f.labelSmoothing,
      logEverySteps: f.logEverySteps,
      allowFailedSelftest: f.allowFailedSelftest,
    },
    optimizer: {
      lr: f.lr,
      momentum: f.momentum,
      weightDecay: f.weightDecay,
      nesterov: f.nesterov,
    },
    schedule: schedule(f),
    augment: {
      hflip: f.hflip,
      randomResizedCrop: { scale: [f.scaleMin, f.scaleMax] },
      colorJitter: {
        brightness: f.brightness,
        contrast: f.contrast,
        saturation: f.saturation,
        hue: f.hue,
        p: f.jitterP,
      },
    },
  };
  // a preset's fields the form does not show stay as the preset has them (a schedule policy switched in the form replaces the preset's schedule)
  return f.base ? (deepMerge(f.base, fields) as Record<string, unknown>) : fields;
}

/** Client-side validation: config field path → first message. */
export function validateForm(f: RunForm): Record<string, string> {
  const errors: Record<string, string> = {};
  if (f.datasetMode === 'folder' && !f.root.trim()) errors['data.root'] = 'Choose the folder that holds train/ and val/';
  const r = RunConfigSchema.safeParse(formToConfig(f));
  if (!r.success) {
    for (const issue of r.error.issues) {
      const path = issue.path.map(String).join('.');
      // "expected number, received null" → the user left it empty
      const msg = /received null|received undefined|^Too small: expected string to have >=1 characters?$/.test(issue.message)
        ? 'Required'
        : issue.message
            .replace(/^Too small: expected string to have >=(\d+) characters?$/, 'At least $1 characters')
            .replace(/^Too big: expected string to have <=(\d+) characters?$/, 'At most $1 characters')
            .replace(/^Too small: expected number to be >=(.*)$/, 'Must be at least $1')
            .replace(/^Too small: expected number to be >(.*)$/, 'Must be greater than $1')
            .replace(/^Too big: expected number to be <=(.*)$/, 'Must be at most $1')
            .replace(/^Too big: expected number to be <(.*)$/, 'Must be less than $1');
      errors[path] ??= msg;
    }
  }
  return errors;
}

/** The seed's recipe (resources/configs/seed-resnet50.json): full ResNet-50 at 224 px, 39 epochs, batch 128, SGD 0.001 constant. */
export function applySeedPreset(f: RunForm): void {
  Object.assign(f, {
    ...defaultForm(),
    base: null,
    name: 'seed-resnet50',
    datasetMode: 'folder',
    epochs: 39,
    batchSize: 128,
    trainSize: 224,
    valSize: 224,
    valResize: 224,
    lr: 0.001,
    momentum: 0.9,
    weightDecay: 1e-4,
    policy: 'constant',
    hflip: 0.5,
    brightness: 0.2,
    contrast: 0.2,
    saturation: 0.2,
    hue: 0.05,
    jitterP: 0.5,
    scaleMin: 0.08,
    scaleMax: 1,
    widthMultiplier: 1,
    numClasses: 1000,
    logEverySteps: 50,
  } satisfies Partial<RunForm>);
}

/**
 * Seconds per training epoch on the pure-JS CPU backend (fused kernels), from the measured figures
 * in docs/BENCHMARKS.md: the demo preset (width 1/16, 32 px, 3000 images) trains an epoch in ~22 s
 * on 2 cores, and the fused step is ~2.7× faster than the 160 s per batch-2 step measured for the
 * full ResNet-50 at 224 px before them, i.e. ~60 s per image at width 1 / 224 px; cost scales with
 * width² × (size/224)², plus ~2 ms per image of fixed overhead. Null when the figures do not apply
 * (a GPU or tfjs-node backend: no measured figure yet) or the epoch size is unknown.
 */
export function estimatePureJsEpochSeconds(f: RunForm, trainImages: number | null): number | null {
  if (f.backend !== 'cpu' && f.backend !== 'auto') return null;
  if (!f.batchSize || !f.trainSize || !f.widthMultiplier || trainImages === null) return null;
  const images = f.maxStepsPerEpoch ? Math.min(trainImages, f.maxStepsPerEpoch * f.batchSize) : trainImages;
  const perImage = 0.002 + 60 * f.widthMultiplier ** 2 * (f.trainSize / 224) ** 2;
  return images * perImage;
}
