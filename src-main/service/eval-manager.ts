// The service's evaluations (eval.start / cancel / jobs): one at a time, sharing the compute slot
// with training. An evaluation never runs beside a training run — both would fight for the same
// CPU cores or GPU and each would take twice as long — so it waits (state 'queued', `waitingFor`
// says why) while a run trains, is paused, or is queued, and starts when the slot is free;
// a run started while an evaluation runs waits for it in turn (the run manager asks `slotBusy`).
// Training has priority: queued runs start before queued evaluations. Progress, the end and the
// stored result (store.evaluations) go out as `eval.progress` events.
import path from 'node:path';
import type { EvalJob, EvalProtocol, EvalSplit, EvalTta } from '../../src-shared/api/schemas';
import { WorkstationError } from '../../src-shared/errors';
import type { AppPaths } from '../common/paths';
import type { Store } from '../store/index';
import { configAtCheckpoint } from './effective-config';
import type { Faults } from './fault-injection';
import { runEvaluation } from './eval-run';
import type { Emit, LogFn, RunManager } from './run-manager';

export interface EvalStartParams {
  checkpointId: number;
  protocol: EvalProtocol;
  tta: EvalTta | null;
  split: EvalSplit;
  dataRoot: string | null;
}

export interface EvalManager {
  start(p: EvalStartParams): EvalJob;
  cancel(evalId: number): EvalJob;
  /** queued and running first, then ended ones (the last few), newest first */
  jobs(): EvalJob[];
  /** why a run may not start now ('evaluation 3 is running'), or null */
  slotBusy(): string | null;
  /** the training slot may be free: start the next queued evaluation */
  kick(): void;
  /** resolves with the job once it has ended (completed, cancelled or failed) */
  whenDone(evalId: number): Promise<EvalJob>;
  /** cancels every evaluation and waits for the running one to let go */
  shutdown(): Promise<void>;
}

export interface EvalManagerDeps {
  store: Store;
  paths: AppPaths;
  emit: Emit;
  log: LogFn;
  runs: Pick<RunManager, 'state' | 'wake'>;
  addDatasetRoot(root: string): void;
  /** test fault injection (the self-test gate's stand-in backend and kernel faults) */
  faults?: Faults;
}

interface Entry {
  job: EvalJob;
  params: EvalStartParams;
  controller: AbortController;
  done: Promise<EvalJob>;
  resolve(j: EvalJob): void;
}

/** ended jobs kept for eval.jobs (their results are in the store) */
const KEEP_ENDED = 20;
const ENDED: readonly EvalJob['state'][] = ['completed', 'cancelled', 'failed'];

export function createEvalManager(deps: EvalManagerDeps): EvalManager {
  const { store, log } = deps;
  const entries = new Map<number, Entry>();
  const queue: number[] = [];
  let running: Entry | null = null;
  let nextId = 1;
  let shuttingDown = false;

  const publish = (e: Entry) => deps.emit('eval.progress', { ...e.job });
  const update = (e: Entry, patch: Partial<EvalJob>) => {
    Object.assign(e.job, patch);
    publish(e);
  };
  const end = (e: Entry, patch: Partial<EvalJob>) => {
    update(e, { ...patch, waitingFor: null, etaSeconds: null });
    e.resolve({ ...e.job });
    const ended = [...entries.values()].filter((x) => ENDED.includes(x.job.state));
    for (const old of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED))) entries.delete(old.job.evalId);
  };

  /** why evaluations must wait now, or null when the training slot is free */
  const trainingHolds = (): string | null => {
    const s = deps.runs.state();
    if (s.activeRun) return `run ${s.activeRun.id} (${s.activeRun.name}) is ${s.activeRun.status === 'paused' ? 'paused on the trainer' : 'training'}`;
    if (s.queue.length) return `run ${s.queue[0]} is queued to train`;
    return null;
  };

  function pump(): void {
    if (running || shuttingDown) return;
    const holds = trainingHolds();
    if (holds) {
      for (const id of queue) {
        const e = entries.get(id);
        if (e && e.job.waitingFor !== holds) update(e, { waitingFor: holds });
      }
      return;
    }
    const id = queue.shift();
    if (id === undefined) return;
    const e = entries.get(id);
    if (!e || e.job.state !== 'queued') return pump();
    running = e;
    void execute(e).finally(() => {
      if (running === e) running = null;
      pump();
      deps.runs.wake(); // a run that waited for this evaluation
    });
  }

  async function execute(e: Entry): Promise<void> {
    const { job } = e;
    update(e, { state: 'running', waitingFor: null });
    log('info', `evaluation ${job.evalId} of checkpoint ${job.checkpointId} (${job.protocol}, tta ${job.tta}, ${job.split}) started`, job.runId);
    try {
      const cp = store.checkpoints.get(job.checkpointId);
      if (!cp || !cp.exists) throw new WorkstationError('NOT_FOUND', `checkpoint ${job.checkpointId} is gone`, { field: 'checkpointId' });
      const config = configAtCheckpoint(store, cp).config;
      // on a native backend its self-test must have passed, as for training (the run's override counts)
      const { gateRunBackend } = await import('./selftest-gate');
      await gateRunBackend(config, null, { store, emit: deps.emit, log, faults: deps.faults, note: () => undefined });
      const out = await runEvaluation(
        {
          file: cp.path,
          config,
          protocol: e.params.protocol,
          tta: job.tta,
          split: job.split,
          dataRoot: e.params.dataRoot,
        },
        {
          paths: deps.paths,
          signal: e.controller.signal,
          addDatasetRoot: deps.addDatasetRoot,
          onLog: (level, msg) => log(level, msg, job.runId),
          onStart: (info) => update(e, { totalImages: info.totalImages, steps: info.steps }),
          onProgress: (p) =>
            update(e, { images: p.images, step: p.step, steps: p.steps, top1: p.top1, imagesPerSec: p.imagesPerSec, etaSeconds: p.etaSeconds }),
        },
      );
      if (out === 'cancelled') {
        log('info', `evaluation ${job.evalId} cancelled`, job.runId);
        return end(e, { state: 'cancelled' });
      }
      const row = store.evaluations.add({ ...out, checkpointId: job.checkpointId });
      log('info', `evaluation ${job.evalId}: top-1 ${row.top1?.toFixed(2) ?? '-'} % on ${row.images} images (stored as evaluation ${row.id})`, job.runId);
      end(e, { state: 'completed', evaluationId: row.id, images: row.images, top1: row.top1 });
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      log('error', `evaluation ${job.evalId} failed: ${message}`, job.runId);
      end(e, { state: 'failed', error: message });
    }
  }

  return {
    start(p) {
      if (shuttingDown) throw new WorkstationError('INVALID_STATE', 'the service is shutting down');
      const cp = store.checkpoints.get(p.checkpointId);
      if (!cp) throw new WorkstationError('NOT_FOUND', `checkpoint ${p.checkpointId} not found`, { field: 'checkpointId' });
      if (!cp.exists)
        throw new WorkstationError('NOT_FOUND', `checkpoint ${p.checkpointId} file was removed (${cp.path})`, { field: 'checkpointId', path: cp.path });
      // the file and its settings are checked now, so a bad request fails here and not in the queue
      const config = configAtCheckpoint(store, cp).config;
      if (p.dataRoot !== null && !path.isAbsolute(p.dataRoot))
        throw new WorkstationError('INVALID_ARGUMENT', `dataRoot must be an absolute path, got "${p.dataRoot}"`, { field: 'dataRoot', path: p.dataRoot });
      const evalId = nextId++;
      let resolve!: (j: EvalJob) => void;
      const done = new Promise<EvalJob>((r) => (resolve = r));
      const job: EvalJob = {
        evalId,
        checkpointId: cp.id,
        runId: cp.runId,
        split: p.split,
        protocol: p.protocol,
        tta: p.tta ?? config.data.valTta ?? 'none',
        state: 'queued',
        images: 0,
        totalImages: null,
        step: 0,
        steps: null,
        top1: null,
        imagesPerSec: null,
        etaSeconds: null,
        waitingFor: running ? `evaluation ${running.job.evalId} is running` : trainingHolds(),
        evaluationId: null,
        error: null,
      };
      const e: Entry = { job, params: p, controller: new AbortController(), done, resolve };
      entries.set(evalId, e);
      queue.push(evalId);
      publish(e);
      if (job.waitingFor) log('info', `evaluation ${evalId} queued: ${job.waitingFor}; it starts when that ends`, cp.runId);
      pump();
      return { ...e.job };
    },

    cancel(evalId) {
      const e = entries.get(evalId);
      if (!e) throw new WorkstationError('NOT_FOUND', `evaluation job ${evalId} not found`, { field: 'evalId' });
      if (e.job.state === 'queued') {
        queue.splice(queue.indexOf(evalId), 1);
        end(e, { state: 'cancelled' });
      } else if (e.job.state === 'running') e.controller.abort(); // ends at the next batch boundary
      return { ...e.job };
    },

    jobs() {
      const list = [...entries.values()].map((e) => ({ ...e.job }));
      const live = (j: EvalJob) => (ENDED.includes(j.state) ? 1 : 0);
      return list.sort((a, b) => live(a) - live(b) || b.evalId - a.evalId);
    },

    slotBusy: () => (running ? `evaluation ${running.job.evalId} is running` : null),

    kick: () => pump(),

    whenDone(evalId) {
      const e = entries.get(evalId);
      if (!e) return Promise.reject(new WorkstationError('NOT_FOUND', `evaluation job ${evalId} not found`, { field: 'evalId' }));
      return e.done;
    },

    async shutdown() {
      shuttingDown = true;
      for (const id of queue.splice(0)) {
        const e = entries.get(id);
        if (e) end(e, { state: 'cancelled' });
      }
      if (running) {
        const e = running;
        e.controller.abort();
        await e.done;
      }
    },
  };
}
