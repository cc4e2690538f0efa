// The demo preset: the run the app's "Demo" button starts (src-renderer/src/lib/run-form.ts) and
// resources/configs/demo.json ships (tests keep the three equal). A ResNet-50 at 1/16 width on the
// embedded demo dataset (src-main/data/demo-dataset.ts: 10 classes of coloured shapes, 3000
// training and 600 validation images) at 32 px, with the seed's augmentations; it reaches ≥ 80 %
// val top-1 in well under 3 minutes on 2 CPU cores with the pure-JS backend
// (`npm run bench:demo -- --backend cpu`, docs/BENCHMARKS.md "Demo preset").
//
// Why these values (see the diagnosis in docs/BENCHMARKS.md, "CPU, pure-JS tfjs backend"):
// - whole epochs of 94 steps: validation runs in eval mode on BN running statistics (momentum 0.1,
//   a ~10-step memory) that trail fast-moving weights and are meaningless for the first ~50 steps,
//   so the first validation comes after enough steps to mean something;
// - OneCycle warms up from maxLr / 25 over the first 25 % and anneals to ~0, so the weights settle
//   and the running statistics catch up before the last validations; maxLr 0.15: at 0.2 the
//   eval-mode accuracy dipped at the peak on some seeds, at 0.1 some seeds started too slowly;
// - batches of 32: at 32 px layer4 is 1×1 and its BN sees one value per sample;
// - crops of ≥ 35 % of the image keep most of the shape (a 0.08 crop at 32 px is background);
//   flip and colour jitter are the seed's (the dataset's hue families are built for its ±18°).
// Only fields the app's run form shows are set; everything else is the schema default, so the
// form, this object and demo.json resolve to the same RunConfig.
import type { RunConfigInput } from './run-config';

export const DEMO_PRESET: Readonly<RunConfigInput> = {
  name: 'demo',
  seed: 0,
  backend: 'auto',
  model: { numClasses: 10, widthMultiplier: 0.0625 },
  data: {
    root: null,
    workers: 1,
    trainSize: 32,
    valResize: 32,
    valSize: 32,
    maxStepsPerEpoch: null,
    maxValSteps: null,
  },
  augment: {
    randomResizedCrop: { scale: [0.35, 1] },
    hflip: 0.5,
    colorJitter: { brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.05, p: 0.5 },
  },
  train: { epochs: 5, batchSize: 32, labelSmoothing: 0, logEverySteps: 5 },
  optimizer: { lr: 0.15, momentum: 0.9, weightDecay: 0.0005, nesterov: false },
  schedule: { policy: 'onecycle', maxLr: 0.15, pctStart: 0.25 },
};
