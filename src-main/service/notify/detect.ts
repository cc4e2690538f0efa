// Which service events deserve a notice: a run completed, failed, diverged (it failed with
// DIVERGED), stalled (running, yet no step for `stalledMinutes`) or starved (the trainer waited on
// the data loader for at least STARVED_WAIT_FRACTION of its time for `starvedMinutes`). Fed every
// service event (the hub's onAny) and ticked by a timer for stalls; each kind can be switched off
// in settings.notifications. Stopped and interrupted runs are the user's (or the machine's) doing
// and notify nothing. A run is told about once per terminal status, once per stall and once per
// starved stretch (again only after it recovered).
import { randomUUID } from 'node:crypto';
import type { EventName, EventPayload } from '../../../src-shared/api/contract';
import type { Notice, NotifyKind, RunSummary } from '../../../src-shared/api/schemas';
import type { NotificationSettings } from '../../../src-shared/config/settings';

/** Starved: the trainer spent at least this share of its wall time waiting for batches. */
export const STARVED_WAIT_FRACTION = 0.5;

export interface DetectorDeps {
  settings(): NotificationSettings;
  notify(n: Notice): void;
  /** milliseconds clock (tests); default Date.now */
  now?(): number;
}

export interface EventDetector {
  onEvent(event: EventName, payload: unknown): void;
  /** looks for stalled runs; the service calls it every few seconds */
  tick(): void;
}

interface Watched {
  run: RunSummary;
  paused: boolean;
  lastStepAt: number;
  lastStep: { epoch: number; step: number; stepsInEpoch: number } | null;
  stallNotified: boolean;
  starvedSince: number | null;
  starvedNotified: boolean;
  waitSum: number;
  waitCount: number;
  diverged: boolean;
  earlyStop: string | null;
}

const ACTIVE = ['queued', 'running', 'paused'];

function pct(v: number | null): string {
  return v === null || !Number.isFinite(v) ? '—' : `${v.toFixed(1)} %`;
}

function minutes(m: number): string {
  return m >= 1 ? `${Number(m.toFixed(1))} min` : `${Math.round(m * 60)} s`;
}

export function createEventDetector(deps: DetectorDeps): EventDetector {
  const now = deps.now ?? Date.now;
  const watched = new Map<number, Watched>();

  function emit(kind: NotifyKind, run: RunSummary, title: string, body: string): void {
    const s = deps.settings();
    if (!s[kind]) return;
    deps.notify({ id: randomUUID(), kind, runId: run.id, runName: run.name, title, body, at: new Date(now()).toISOString(), desktop: s.desktop });
  }

  function ended(w: Watched, run: RunSummary): void {
    const who = `Run #${run.id} ${run.name}`;
    if (run.status === 'completed') {
      const epochs = `epoch ${run.lastEpoch ?? 0}/${run.targetEpochs}, best val top-1 ${pct(run.bestValTop1)}`;
      emit('completed', run, `${who} completed`, w.earlyStop ? `${epochs}; ${w.earlyStop}` : epochs);
    } else if (run.status === 'failed') {
      if (w.diverged) emit('diverged', run, `${who} diverged`, run.error ?? 'the loss is no longer finite');
      else emit('failed', run, `${who} failed`, run.error ?? 'see its events');
    }
  }

  function onStatus(run: RunSummary): void {
    const w = watched.get(run.id);
    if (!ACTIVE.includes(run.status)) {
      // only a run seen active here ended now (a later row of an ended run, e.g. after a note, is not news)
      if (w) {
        watched.delete(run.id);
        ended(w, run);
      }
      return;
    }
    if (!w) {
      watched.set(run.id, {
        run,
        paused: run.status !== 'running',
        lastStepAt: now(),
        lastStep: null,
        stallNotified: false,
        starvedSince: null,
        starvedNotified: false,
        waitSum: 0,
        waitCount: 0,
        diverged: false,
        earlyStop: null,
      });
      return;
    }
    const wasPaused = w.paused;
    w.run = run;
    w.paused = run.status !== 'running';
    // time spent paused or queued is not a stall: the clock starts again when it runs
    if (wasPaused && !w.paused) {
      w.lastStepAt = now();
      w.starvedSince = null;
    }
  }

  function onStep(p: EventPayload<'run.step'>): void {
    const w = watched.get(p.runId);
    if (!w) return;
    const t = now();
    w.lastStepAt = t;
    w.lastStep = { epoch: p.epoch, step: p.step, stepsInEpoch: p.stepsInEpoch };
    w.stallNotified = false;
    if (p.phase !== 'train' || p.dataWait === undefined || p.dataWait === null) return;
    if (p.dataWait < STARVED_WAIT_FRACTION) {
      w.starvedSince = null;
      w.starvedNotified = false;
      return;
    }
    if (w.starvedSince === null) {
      w.starvedSince = t;
      w.waitSum = 0;
      w.waitCount = 0;
    }
    w.waitSum += p.dataWait;
    w.waitCount++;
    const limit = deps.settings().starvedMinutes;
    if (!w.starvedNotified && t - w.starvedSince >= limit * 60_000) {
      w.starvedNotified = true;
      const share = Math.round((100 * w.waitSum) / Math.max(1, w.waitCount));
      emit(
        'starved',
        w.run,
        `Run #${w.run.id} ${w.run.name} is waiting on data`,
        `the trainer waited for the data loader ${share} % of the time for ${minutes(limit)}: raise data.workers or data.prefetch, put the dataset on a faster disk, or lower the image size`,
      );
    }
  }

  return {
    onEvent(event, payload) {
      if (event === 'run.status') onStatus((payload as EventPayload<'run.status'>).run);
      else if (event === 'run.step') onStep(payload as EventPayload<'run.step'>);
      else if (event === 'run.event') {
        const e = payload as EventPayload<'run.event'>;
        const w = watched.get(e.runId);
        if (!w) return;
        if (e.kind === 'error' && e.data.code === 'DIVERGED') w.diverged = true;
        if (e.kind === 'note' && e.data.earlyStopping && typeof e.data.message === 'string') w.earlyStop = e.data.message;
      }
    },
    tick() {
      const limit = deps.settings().stalledMinutes * 60_000;
      const t = now();
      for (const w of watched.values()) {
        if (w.paused || w.stallNotified || t - w.lastStepAt < limit) continue;
        w.stallNotified = true;
        const where = w.lastStep ? ` (last at epoch ${w.lastStep.epoch} step ${w.lastStep.step + 1}/${w.lastStep.stepsInEpoch})` : ' since it started';
        emit('stalled', w.run, `Run #${w.run.id} ${w.run.name} stalled`, `no training step for ${minutes(deps.settings().stalledMinutes)}${where}`);
      }
    },
  };
}
