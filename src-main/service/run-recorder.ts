// Turns what happens to a run into store rows and service events, in that order (a client that
// sees an event can read its row). Trainer callbacks: step samples batched into one transaction
// every STEP_FLUSH_MS (and at each epoch end), epoch rows committed before the trainer starts the
// next epoch (it awaits onEpochEnd), checkpoint rows and rotations.
import type { EventName, EventPayload } from '../../src-shared/api/contract';
import type { RunSummary, StepProgress } from '../../src-shared/api/schemas';
import { toStepSample, type EpochMetrics, type StepSample } from '../../src-shared/metrics';
import type { TrainerEvents } from '../ml/trainer';
import type { RunEventKind, Store } from '../store/index';
import { WorkstationError } from '../../src-shared/errors';
import type { ActiveRun } from './active-run';

export type Emit = <E extends EventName>(event: E, payload: EventPayload<E>) => void;
export type LogFn = (level: 'debug' | 'info' | 'warn' | 'error', message: string, runId?: number | null) => void;

/** Step samples are written in batches: one transaction per this many ms (and at each epoch end). */
const STEP_FLUSH_MS = 2000;

export interface RunRecorder {
  setStatus(runId: number, status: RunSummary['status'], extra?: { error?: string | null }): RunSummary;
  addEvent(runId: number, kind: RunEventKind, data: Record<string, unknown>, at?: { epoch?: number | null; globalStep?: number | null }): void;
  mustRun(runId: number): RunSummary;
  /** emits the run's current row (e.g. once its backend is known) */
  announce(runId: number): void;
  /** the trainer callbacks for the active run; `flush` writes buffered step samples */
  trainerEvents(a: ActiveRun, log: LogFn, rates: { train(r: number): void; data(r: number): void }): { events: TrainerEvents; flush(): void };
}

export function createRunRecorder(store: Store, emit: Emit): RunRecorder {
  const recorder: RunRecorder = {
    setStatus(runId, status, extra) {
      const run = store.runs.setStatus(runId, status, extra);
      emit('run.status', { run });
      return run;
    },
    addEvent(runId, kind, data, at) {
      const ev = store.events.add({ runId, kind, epoch: at?.epoch ?? null, globalStep: at?.globalStep ?? null, data });
      emit('run.event', ev);
    },
    mustRun(runId) {
      const run = store.runs.get(runId);
      if (!run) throw new WorkstationError('NOT_FOUND', `run ${runId} not found`, { field: 'runId' });
      return run;
    },
    announce(runId) {
      emit('run.status', { run: recorder.mustRun(runId) });
    },
    trainerEvents(a, log, rates) {
      const runId = a.runId;
      let steps: StepSample[] = [];
      let lastFlush = Date.now();
      const flush = (): void => {
        if (steps.length === 0) return;
        const batch = steps;
        steps = [];
        lastFlush = Date.now();
        store.metrics.addSteps(runId, batch);
      };
      const events: TrainerEvents = {
        onStep: (p) => {
          const progress: StepProgress = { ...p, runId };
          a.progress = progress;
          if (p.phase === 'train') {
            rates.train(p.imagesPerSec);
            steps.push(toStepSample(p));
            if (Date.now() - lastFlush > STEP_FLUSH_MS) flush();
          }
          emit('run.step', progress);
        },
        onEpochEnd: (m: EpochMetrics) => {
          flush();
          store.metrics.addEpoch(runId, m);
          const stats = a.source?.stats('train', m.epoch);
          if (stats && stats.seconds > 0) rates.data(stats.images / stats.seconds);
          emit('run.epoch', { runId, metrics: m });
          recorder.announce(runId);
        },
        onCheckpoint: (c) => {
          const { checkpoint: info } = store.checkpoints.addWithReplaced({
            runId,
            kind: c.kind,
            epoch: c.epoch,
            stepInEpoch: c.stepInEpoch,
            globalStep: c.globalStep,
            path: c.path,
            bytes: c.bytes,
            sha256: c.sha256,
            valTop1: c.valTop1,
            isBest: c.isBest,
          });
          for (const removed of c.removed) store.checkpoints.markRemoved(removed);
          emit('checkpoint.saved', info);
        },
        onCheckpointError: (e) => {
          // the trainer paused itself; the run shows paused with the error until the user resumes
          a.setControl('pause');
          recorder.addEvent(runId, 'error', { message: e.message, code: e.code, path: e.path ?? null }, a.at);
          recorder.setStatus(runId, 'paused', { error: e.message });
          log('error', e.message, runId);
        },
        onLog: (level, msg) => log(level, msg, runId),
      };
      return { events, flush };
    },
  };
  return recorder;
}
