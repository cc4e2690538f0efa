// The queue of runs waiting for the one training slot of this service, in start order. It holds
// only how each waiting run starts; the run's status lives in the store (the one source of truth).
import type { AugmentPatch } from '../../src-shared/config/augment';
import type { RunConfig } from '../../src-shared/config/run-config';
export interface Launch {
  runId: number;
  /** checkpoint file to start from */
  resumeFrom?: string;
  resumeMode?: 'exact' | 'fork';
  /** torchvision-named weights (.safetensors) a fresh run starts from */
  initWeights?: string;
  /** where checkpoints go (CLI --out); default <dataDir>/runs/<id>/checkpoints */
  checkpointDir: string;
  /** the settings to train with when they are not the run's current ones (resume from a checkpoint) */
  config?: Readonly<RunConfig>;
  /** recorded live augmentation changes to re-apply at their global steps */
  augmentChanges?: { globalStep: number; patch: AugmentPatch }[];
  /** how the run came to start, for its history ('auto' after a crash) */
  reason?: 'start' | 'resume' | 'auto-resume';
}

export interface RunQueue {
  push(l: Launch): void;
  /** the next launch, or undefined when nobody waits */
  shift(): Launch | undefined;
  /** removes and returns a waiting run's launch */
  remove(runId: number): Launch | undefined;
  /** removes and returns every waiting launch */
  drain(): Launch[];
  has(runId: number): boolean;
  ids(): number[];
}

export function createRunQueue(): RunQueue {
  const items: Launch[] = [];
  return {
    push: (l) => void items.push(l),
    shift: () => items.shift(),
    remove(runId) {
      const i = items.findIndex((l) => l.runId === runId);
      return i >= 0 ? items.splice(i, 1)[0] : undefined;
    },
    drain: () => items.splice(0),
    has: (runId) => items.some((l) => l.runId === runId),
    ids: () => items.map((l) => l.runId),
  };
}
