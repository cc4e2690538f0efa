// The learning-rate range test on a run config, as the service (`lr.find`) and the CLI
// (`workstation lr-find`) run it: the config's dataset (the demo dataset when none), a batch
// source, ml/lr-find.ts, and the result in its wire form (non-finite losses as null). It creates
// no run, writes no checkpoint and no store row; the batch source is closed whatever happens.
import type { LrFindResult, StepProbeResult } from '../../src-shared/api/schemas';
import type { RunConfig } from '../../src-shared/config/run-config';
import type { AppPaths } from '../common/paths';
import { createBatchSource } from '../data/batch-source';
import { ensureDemoDataset } from '../data/demo-dataset';

export interface RangeTestOptions {
  config: Readonly<RunConfig>;
  paths: Pick<AppPaths, 'demoDatasetDir' | 'cacheDir'>;
  /** a checkpoint file whose weights (and momentum buffers) the test starts from */
  resumeFrom?: string;
  steps?: number;
  minLr?: number;
  maxLr?: number;
  onStep?(p: { step: number; steps: number; lr: number; loss: number; smoothedLoss: number }): void;
  shouldStop?(): boolean;
  onLog?(level: 'info' | 'warn' | 'error', msg: string): void;
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

export async function runLrRangeTest(o: RangeTestOptions): Promise<LrFindResult> {
  const root = o.config.data.root ?? (await ensureDemoDataset(o.paths.demoDatasetDir));
  const source = await createBatchSource({ config: o.config, root, cacheDir: o.paths.cacheDir, onLog: o.onLog });
  try {
    // tfjs loads here, on first use
    const { lrFind } = await import('../ml/lr-find');
    const r = await lrFind({
      config: o.config,
      source,
      resumeFrom: o.resumeFrom,
      steps: o.steps,
      minLr: o.minLr,
      maxLr: o.maxLr,
      onStep: o.onStep,
      shouldStop: o.shouldStop,
    });
    return {
      lr: r.lr,
      loss: r.loss.map(finiteOrNull),
      smoothedLoss: r.smoothedLoss.map(finiteOrNull),
      suggestedLr: r.suggestedLr,
      stopReason: r.stopReason,
      steps: r.lr.length,
      backend: r.backend.name,
    };
  } finally {
    await source.close();
  }
}

/**
 * runs.probe: a few timed training steps of the config on its dataset (the demo dataset when
 * none) and the backend it would get (ml/step-probe.ts), with the epoch's length in batches.
 */
export async function runStepProbe(o: {
  config: Readonly<RunConfig>;
  paths: Pick<AppPaths, 'demoDatasetDir' | 'cacheDir'>;
  steps: number;
  onLog?(level: 'info' | 'warn' | 'error', msg: string): void;
}): Promise<StepProbeResult> {
  const root = o.config.data.root ?? (await ensureDemoDataset(o.paths.demoDatasetDir));
  const source = await createBatchSource({ config: o.config, root, cacheDir: o.paths.cacheDir, onLog: o.onLog });
  try {
    const { probeStepTime } = await import('../ml/step-probe');
    const r = await probeStepTime({ config: o.config, source, steps: o.steps });
    const trainSteps = source.stepsPerEpoch('train');
    return {
      backend: r.backend.name,
      gpu: r.backend.gpu,
      warmupSeconds: r.warmupSeconds,
      secondsPerStep: r.secondsPerStep,
      dataWaitFraction: r.dataWaitFraction,
      steps: r.steps,
      batchSize: r.batchSize,
      imageSize: r.imageSize,
      trainStepsPerEpoch: trainSteps,
      valStepsPerEpoch: source.stepsPerEpoch('val'),
      trainEpochSeconds: trainSteps * r.secondsPerStep,
    };
  } finally {
    await source.close();
  }
}
