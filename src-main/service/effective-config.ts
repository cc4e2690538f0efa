// The settings a run trains with at a point in its history. A run's stored config is what it was
// started with; live augmentation changes are recorded as 'augment' events (with the global step
// they applied from), and every checkpoint holds the augmentation in effect when it was written.
//  - effectiveConfig: the stored config with every recorded change (the run as it stands now).
//  - configAtCheckpoint: the stored config with the checkpoint's augmentation, plus the changes
//    recorded after that checkpoint, to re-apply at their steps when the run resumes from it
//    (a fork from it starts from these settings and replays nothing).
import { applyAugmentPatch, type AugmentParams, type AugmentPatch } from '../../src-shared/config/augment';
import type { CheckpointInfo, RunEvent } from '../../src-shared/api/schemas';
import { resolveRunConfig, type RunConfig } from '../../src-shared/config/run-config';
import { WorkstationError } from '../../src-shared/errors';
import { readCheckpointFile } from '../ml/checkpoint-file';
import type { Store } from '../store/index';

const augmentEvents = (store: Store, runId: number): RunEvent[] => store.events.list(runId).filter((ev) => ev.kind === 'augment' && ev.data.patch);

export function effectiveConfig(store: Store, runId: number): Readonly<RunConfig> {
  const base = resolveRunConfig([store.runs.config(runId)]);
  let augment = base.augment;
  for (const ev of augmentEvents(store, runId)) augment = applyAugmentPatch(augment, ev.data.patch as AugmentPatch);
  return augment === base.augment ? base : resolveRunConfig([base, { augment }]);
}

/** Every live change recorded for the run, with the global step it applied from (a restart from scratch replays them). */
export function recordedChanges(store: Store, runId: number): { globalStep: number; patch: AugmentPatch }[] {
  return augmentEvents(store, runId)
    .filter((ev) => ev.globalStep !== null)
    .map((ev) => ({ globalStep: ev.globalStep as number, patch: ev.data.patch as AugmentPatch }));
}

export interface CheckpointSettings {
  /** the run's config with the augmentation in effect at the checkpoint */
  config: Readonly<RunConfig>;
  /** changes recorded after the checkpoint, in order, with the global step each applied from */
  laterChanges: { globalStep: number; patch: AugmentPatch }[];
}

export function configAtCheckpoint(store: Store, cp: CheckpointInfo): CheckpointSettings {
  let header: { step: number; augment?: AugmentParams };
  try {
    header = readCheckpointFile<{ step: number; augment?: AugmentParams }>(cp.path, false).header;
  } catch (e) {
    throw new WorkstationError('NOT_FOUND', `checkpoint ${cp.id} (${cp.path}) cannot be read: ${(e as Error).message}`, {
      field: 'checkpointId',
      path: cp.path,
    });
  }
  const base = resolveRunConfig([store.runs.config(cp.runId)]);
  const events = augmentEvents(store, cp.runId);
  // A change at the checkpoint's own step was in effect there iff it was recorded before the
  // checkpoint (the header holds it); one recorded afterwards applies from that step on resume.
  const after = (ev: RunEvent) => ev.globalStep !== null && (ev.globalStep > header.step || (ev.globalStep === header.step && ev.at > cp.createdAt));
  let augment: AugmentParams;
  if (header.augment) augment = header.augment;
  else {
    // a checkpoint of an older build: its run's changes up to its step
    augment = base.augment;
    for (const ev of events) if (ev.globalStep !== null && ev.globalStep <= header.step) augment = applyAugmentPatch(augment, ev.data.patch as AugmentPatch);
  }
  const config = JSON.stringify(augment) === JSON.stringify(base.augment) ? base : resolveRunConfig([base, { augment }]);
  const laterChanges = events.filter(after).map((ev) => ({ globalStep: ev.globalStep as number, patch: ev.data.patch as AugmentPatch }));
  return { config, laterChanges };
}
