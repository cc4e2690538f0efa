// The step-time probe behind the new-run form's "Measure" button: a few real training steps of the
// form's config (its model, batch size, image size, augmentation) on the backend the run would
// get, on the config's dataset, timed after one warm-up step (the first step builds the kernels,
// uploads the weights and, on a GPU, loads cuDNN and may JIT-compile). Like the range test it
// creates no run, saves nothing and disposes everything: the weights live only here.
// Each timed step ends with a host read of its loss, so the time includes the device's work, not
// only the JavaScript that queued it (the trainer syncs less often, so this is an upper bound for
// the device part, by about one read per step).
import type { BatchSource } from '../../src-shared/batch-source';
import type { RunConfig } from '../../src-shared/config/run-config';
import { WorkstationError } from '../../src-shared/errors';
import { prepareBatch } from './augment/prepare-batch';
import type { BackendInfo } from './backend';
import { createMetricAccumulator } from './metrics';
import { scratchTraining } from './scratch-training';
import { trainStep } from './train-step';

export interface StepProbeOptions {
  config: Readonly<RunConfig>;
  source: BatchSource;
  /** timed steps after the warm-up step */
  steps: number;
  /** the clock (tests); performance.now() */
  now?: () => number;
}

export interface StepProbe {
  backend: BackendInfo;
  /** seconds of the first (untimed) step */
  warmupSeconds: number;
  /** median seconds of the timed steps, data wait included */
  secondsPerStep: number;
  /** share of the timed steps' time spent waiting for the next batch (0..1) */
  dataWaitFraction: number;
  /** timed steps taken */
  steps: number;
  batchSize: number;
  imageSize: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export async function probeStepTime(o: StepProbeOptions): Promise<StepProbe> {
  const cfg = o.config;
  const now = o.now ?? (() => performance.now());
  if (!Number.isInteger(o.steps) || o.steps < 1)
    throw new WorkstationError('INVALID_ARGUMENT', `steps must be a positive integer, got ${o.steps}`, { field: 'steps' });
  const { backend, model, optimizer, dispose } = await scratchTraining(cfg, o.source);
  const acc = createMetricAccumulator();
  const stepSeconds: number[] = [];
  let waitSeconds = 0;
  let warmupSeconds = 0;
  let imageSize = o.source.imageSize('train', 1);
  try {
    let taken = -1; // -1: the warm-up step
    for (let epoch = 1; taken < o.steps; epoch++) {
      let any = false;
      const it = o.source.batches('train', epoch)[Symbol.asyncIterator]();
      try {
        while (taken < o.steps) {
          const t0 = now();
          const next = await it.next();
          if (next.done) break;
          any = true;
          const t1 = now();
          const batch = next.value;
          imageSize = batch.height;
          acc.reset();
          const x = prepareBatch(batch, { train: true, augment: cfg.augment, seed: cfg.seed });
          try {
            trainStep(
              model,
              optimizer,
              { x, labels: batch.labels, lr: cfg.optimizer.lr, momentum: cfg.optimizer.momentum, labelSmoothing: cfg.train.labelSmoothing },
              acc,
            );
          } finally {
            x.dispose();
          }
          acc.read(); // the device's work is done when its loss can be read
          const t2 = now();
          if (taken < 0) warmupSeconds = (t2 - t0) / 1000;
          else {
            stepSeconds.push((t2 - t0) / 1000);
            waitSeconds += (t1 - t0) / 1000;
          }
          taken++;
        }
      } finally {
        await it.return?.();
      }
      if (!any) throw new WorkstationError('DATASET_ERROR', `the training split yielded no batch in epoch ${epoch}`);
    }
    const total = stepSeconds.reduce((a, b) => a + b, 0);
    return {
      backend,
      warmupSeconds,
      secondsPerStep: median(stepSeconds),
      dataWaitFraction: total > 0 ? Math.min(1, waitSeconds / total) : 0,
      steps: stepSeconds.length,
      batchSize: cfg.train.batchSize,
      imageSize,
    };
  } finally {
    acc.dispose();
    dispose();
  }
}
