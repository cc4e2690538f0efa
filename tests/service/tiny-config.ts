// A tiny run config for service tests (the shape of resources/configs/tiny-cpu.json): pure-JS CPU
// tfjs, ResNet-50 at width 1/32 on 32 px crops of the demo dataset, a few steps per epoch.
export function tinyConfig(
  over: { epochs?: number; steps?: number; name?: string; root?: string | null; seed?: number; everySteps?: number | null; keepLast?: number } = {},
): Record<string, unknown> {
  return {
    name: over.name ?? 'tiny',
    seed: over.seed ?? 1,
    backend: 'cpu',
    model: { numClasses: 10, widthMultiplier: 0.03125 },
    data: { root: over.root ?? null, trainSize: 32, valSize: 32, valResize: 36, maxStepsPerEpoch: over.steps ?? 2, maxValSteps: 1, workers: 1, prefetch: 2 },
    train: { epochs: over.epochs ?? 2, batchSize: 8, logEverySteps: 1 },
    optimizer: { lr: 0.01 },
    schedule: { policy: 'constant' },
    checkpoint: { keepLast: over.keepLast ?? 2, everySteps: over.everySteps ?? null },
  };
}
