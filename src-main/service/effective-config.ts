// The config a run trains with: its stored config with the live augmentation changes recorded so
// far (events of kind 'augment', in order).
import { applyAugmentPatch, type AugmentPatch } from '../../src-shared/config/augment';
import { resolveRunConfig, type RunConfig } from '../../src-shared/config/run-config';
import type { Store } from '../store/index';

export function effectiveConfig(store: Store, runId: number): Readonly<RunConfig> {
  const base = resolveRunConfig([store.runs.config(runId)]);
  let augment = base.augment;
  for (const ev of store.events.list(runId)) if (ev.kind === 'augment' && ev.data.patch) augment = applyAugmentPatch(augment, ev.data.patch as AugmentPatch);
  return augment === base.augment ? base : resolveRunConfig([base, { augment }]);
}
