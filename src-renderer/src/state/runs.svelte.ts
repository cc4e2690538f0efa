// Runs as the service reports them: the list, the active run and its live progress, and the
// details (metrics, steps, checkpoints, events) of runs the user looked at, kept current by
// service events. On every (re)connect it reloads from state.get / runs.list, so a client that
// connects mid-run sees the live run.
import { api, toWorkstationError } from '../api';
import type { CommandResult } from '../../../src-shared/api/contract';
import type { CheckpointInfo, RunSummary, StepProgress } from '../../../src-shared/api/schemas';
import { toStepSample, type EpochMetrics, type StepSample } from '../../../src-shared/metrics';

export type RunDetail = CommandResult<'runs.get'> & {
  /** steps per epoch as reported by progress events (for a fractional epoch axis) */
  stepsInEpoch: Record<number, number>;
};

function upsertBy<T>(list: T[], item: T, key: (t: T) => number): void {
  const i = list.findIndex((x) => key(x) === key(item));
  if (i >= 0) list[i] = item;
  else list.push(item);
}

/** Union of two step lists by globalStep, in order (stored steps + steps seen live). */
function mergeSteps(a: StepSample[], b: StepSample[]): StepSample[] {
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local scratch map, not state
  const byStep = new Map<number, StepSample>();
  for (const s of a) byStep.set(s.globalStep, s);
  for (const s of b) byStep.set(s.globalStep, s);
  return [...byStep.values()].sort((x, y) => x.globalStep - y.globalStep);
}

/** Live steps kept per run, so a run's details loaded mid-run miss none of them. */
const LIVE_STEP_CAP = 20_000;

class RunsStore {
  runs = $state<RunSummary[]>([]);
  loaded = $state(false);
  loadError = $state<string | null>(null);
  activeRun = $state<RunSummary | null>(null);
  progress = $state<StepProgress | null>(null);
  queue = $state<number[]>([]);
  /** the augmentation applied to the active run right now (service's view) */
  activeAugment = $state<unknown>(null);
  details = $state<Record<number, RunDetail>>({});
  // The service stores steps in batches, so runs.get can lag the step events: every train step
  // seen live is kept here (not reactive) and merged into details when they load.
  #liveSteps = new Map<number, StepSample[]>();
  #liveStepsInEpoch = new Map<number, Record<number, number>>();
  #checkpointReloads = new Map<number, ReturnType<typeof setTimeout>>();

  constructor() {
    api.onConnection((s) => {
      if (s === 'open') void this.refresh();
    });
    api.on('run.step', (p) => {
      this.progress = p;
      if (p.phase !== 'train') return;
      const s = toStepSample(p);
      const buf = this.#liveSteps.get(p.runId) ?? [];
      buf.push(s);
      if (buf.length > LIVE_STEP_CAP) buf.splice(0, buf.length - LIVE_STEP_CAP);
      this.#liveSteps.set(p.runId, buf);
      const spe = this.#liveStepsInEpoch.get(p.runId) ?? {};
      spe[p.epoch] = p.stepsInEpoch;
      this.#liveStepsInEpoch.set(p.runId, spe);
      const d = this.details[p.runId];
      if (!d) return;
      d.stepsInEpoch[p.epoch] = p.stepsInEpoch;
      const last = d.steps[d.steps.length - 1];
      if (!last || last.globalStep < s.globalStep) d.steps.push(s);
    });
    api.on('run.epoch', ({ runId, metrics }) => {
      const d = this.details[runId];
      if (d) upsertBy<EpochMetrics>(d.epochs, metrics, (m) => m.epoch);
      const r = this.runs.find((x) => x.id === runId);
      if (r) {
        r.lastEpoch = Math.max(r.lastEpoch ?? 0, metrics.epoch);
        if (metrics.valTop1 !== null && (r.bestValTop1 === null || metrics.valTop1 > r.bestValTop1)) r.bestValTop1 = metrics.valTop1;
      }
    });
    api.on('run.status', ({ run }) => this.upsertRun(run));
    api.on('run.event', (e) => {
      const d = this.details[e.runId];
      if (d && !d.events.some((x) => x.id === e.id)) d.events.push(e);
    });
    api.on('checkpoint.saved', (c) => {
      const d = this.details[c.runId];
      if (!d) return;
      // a new best clears the flag on the others
      if (c.isBest) for (const x of d.checkpoints) if (x.id !== c.id) x.isBest = false;
      upsertBy<CheckpointInfo>(d.checkpoints, c, (x) => x.id);
      // the save may have removed others (kept-last-K rotation, an older mid-epoch one replaced)
      this.#reloadCheckpointsSoon(c.runId);
    });
  }

  /** Re-reads a run's checkpoints from the service (the authority on which files exist), at most every 500 ms. */
  #reloadCheckpointsSoon(runId: number): void {
    if (this.#checkpointReloads.has(runId)) return;
    this.#checkpointReloads.set(
      runId,
      setTimeout(() => {
        this.#checkpointReloads.delete(runId);
        void this.reloadCheckpoints(runId).catch(() => undefined);
      }, 500),
    );
  }

  /** Replaces a loaded run's checkpoints with checkpoints.list. */
  async reloadCheckpoints(runId: number): Promise<CheckpointInfo[]> {
    const list = await api.call('checkpoints.list', { runId });
    const d = this.details[runId];
    if (d) d.checkpoints = list;
    return list;
  }

  upsertRun(run: RunSummary): void {
    upsertBy(this.runs, run, (r) => r.id);
    this.runs.sort((a, b) => b.id - a.id);
    const d = this.details[run.id];
    if (d) d.run = run;
    if (run.status === 'running' || run.status === 'paused') this.activeRun = run;
    else if (this.activeRun?.id === run.id) {
      this.activeRun = null;
      this.progress = null;
    }
  }

  /**
   * Steps per epoch as the run's train progress events report them (exact), null when this page
   * saw none: the active run's latest progress, else the train steps seen live before validation.
   */
  liveStepsPerEpoch(runId: number): number | null {
    const p = this.progress;
    if (p?.runId === runId && p.phase === 'train') return p.stepsInEpoch;
    if (p?.runId !== runId) return null;
    const seen = Object.values(this.#liveStepsInEpoch.get(runId) ?? {});
    return seen.length ? Math.max(...seen) : null;
  }

  get(runId: number | null): RunSummary | undefined {
    return runId === null ? undefined : this.runs.find((r) => r.id === runId);
  }

  /** Reloads everything: after a (re)connect, events may have been missed. */
  async refresh(): Promise<void> {
    try {
      const [state, list] = await Promise.all([api.call('state.get', {}), api.call('runs.list', {})]);
      this.runs = [...list].sort((a, b) => b.id - a.id);
      this.activeRun = state.activeRun;
      this.progress = state.progress;
      this.queue = state.queue;
      this.activeAugment = state.augment;
      this.loaded = true;
      this.loadError = null;
      await Promise.all(Object.keys(this.details).map((id) => this.load(Number(id))));
    } catch (e) {
      this.loadError = toWorkstationError(e).message;
    }
  }

  /** After runs.delete: drops what is cached about the run (a refresh would fail to reload it), then reloads the list. */
  async forget(runId: number): Promise<void> {
    delete this.details[runId];
    this.#liveSteps.delete(runId);
    this.#liveStepsInEpoch.delete(runId);
    this.runs = this.runs.filter((r) => r.id !== runId);
    await this.refresh();
  }

  /** Loads (or reloads) one run's details. */
  async load(runId: number): Promise<RunDetail> {
    const r = await api.call('runs.get', { runId });
    const steps = mergeSteps(r.steps, this.#liveSteps.get(runId) ?? []);
    const stepsInEpoch: Record<number, number> = { ...this.#liveStepsInEpoch.get(runId) };
    for (const s of steps) stepsInEpoch[s.epoch] = Math.max(stepsInEpoch[s.epoch] ?? 0, s.step + 1);
    this.details[runId] = { ...r, steps, stepsInEpoch };
    upsertBy(this.runs, r.run, (x) => x.id);
    return this.details[runId];
  }

  /** Details from cache, loading them the first time. */
  async ensure(runId: number): Promise<RunDetail> {
    return this.details[runId] ?? this.load(runId);
  }

  /** Reloads a run's checkpoints into its details: checkpoints.list is the authority (rotation may have removed files since runs.get). */
  async loadCheckpoints(runId: number): Promise<void> {
    const list = await api.call('checkpoints.list', { runId });
    const d = await this.ensure(runId);
    d.checkpoints = list;
  }

  /** the run a view is about when none is chosen: the active run, else the newest */
  preferredRunId(chosen: number | null): number | null {
    return chosen ?? this.activeRun?.id ?? this.runs[0]?.id ?? null;
  }
}

export const runsStore = new RunsStore();
