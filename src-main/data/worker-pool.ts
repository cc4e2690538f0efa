// A pool of worker_threads running one bundled script. Tasks queue until a worker is free; each
// worker runs one task at a time. A worker that dies fails its task and is replaced, so one
// crash does not stall the epoch.
//
// Lanes. The trainer runs its synchronous tfjs step on the main thread, so nothing else on that
// thread (service requests, a preview's answer) runs until it awaits something still pending. A
// 'background' pool (the training decode workers, the default) therefore hands its results over
// one per event-loop turn: otherwise a full prefetch queue lets the trainer run `prefetch` steps
// back to back and a request waits that long (measured: ≈ 7 s on the demo, docs/BENCHMARKS.md).
// A 'priority' pool (the augmentation preview) delivers at once, and while any of its tasks is in
// flight every background pool of the process holds its results back, for at most MAX_HOLD_MS
// each: the trainer finishes the step it is in, then waits for the preview instead of the
// preview waiting for its next steps.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { fromWireError, WorkstationError, type WireError } from '../../src-shared/errors';

export interface WorkerPool<TTask, TResult> {
  readonly size: number;
  run(task: TTask): Promise<TResult>;
  close(): Promise<void>;
}

export type PoolLane = 'background' | 'priority';

export interface WorkerPoolOptions {
  file: string;
  size: number;
  /** default 'background' (see the header) */
  lane?: PoolLane;
  /** spawn workers on the first task, and let idle workers not keep the process alive (a pool nobody closes) */
  lazy?: boolean;
}

/** The longest a background result is held back for priority work. */
export const MAX_HOLD_MS = 1000;

/** Worker count for a `data.workers` setting: 0 = cores − 1, at least 1. */
export function defaultWorkerCount(requested: number, cores = os.availableParallelism()): number {
  return requested > 0 ? requested : Math.max(1, cores - 1);
}

/** Priority tasks in flight in this process, and the background pools waiting for them to end. */
const priority = { running: 0, waiting: new Set<() => void>() };

function priorityEnded(): void {
  if (--priority.running > 0) return;
  for (const wake of [...priority.waiting]) wake();
}

interface Pending<TTask, TResult> {
  id: number;
  task: TTask;
  resolve(r: TResult): void;
  reject(e: unknown): void;
}

interface Slot<TTask, TResult> {
  worker: Worker;
  busy: Pending<TTask, TResult> | null;
}

/** What a worker answers: `error` is a message, or a WireError for a typed error (kept typed). */
interface WorkerMessage<TResult> {
  id: number;
  ok: boolean;
  result?: TResult;
  error?: string | WireError;
}

function workerError(error: string | WireError | undefined): WorkstationError {
  if (error && typeof error === 'object') return fromWireError(error);
  return new WorkstationError('INTERNAL', `decode worker: ${error}`);
}

export function createWorkerPool<TTask, TResult>(opts: WorkerPoolOptions): WorkerPool<TTask, TResult> {
  const lane = opts.lane ?? 'background';
  const size = Math.max(1, opts.size);
  const queue: Pending<TTask, TResult>[] = [];
  const slots: Slot<TTask, TResult>[] = [];
  let nextId = 1;
  let closed = false;

  // --- delivery: background results one per event-loop turn, held while priority work runs
  const ready: (() => void)[] = [];
  let scheduled = false;
  /** when the current hold began (null: not holding); a hold ends after MAX_HOLD_MS whatever runs */
  let holdingSince: number | null = null;
  let holdTimer: NodeJS.Timeout | null = null;
  const deliverSoon = () => {
    if (scheduled || ready.length === 0) return;
    scheduled = true;
    setImmediate(deliver);
  };
  const wake = () => {
    priority.waiting.delete(wake);
    if (holdTimer) clearTimeout(holdTimer);
    holdTimer = null;
    deliverSoon();
  };
  function deliver(): void {
    scheduled = false;
    if (ready.length === 0) return;
    if (priority.running > 0) {
      holdingSince ??= performance.now();
      const left = MAX_HOLD_MS - (performance.now() - holdingSince);
      if (left > 0) {
        priority.waiting.add(wake);
        holdTimer ??= setTimeout(wake, left);
        return;
      }
    }
    holdingSince = null;
    ready.shift()!();
    deliverSoon(); // the next one in a later turn (a setImmediate queued from one runs in the next)
  }
  const settle = (fn: () => void) => {
    if (lane === 'priority' || closed) return fn();
    ready.push(fn);
    deliverSoon();
  };

  const spawn = (): Slot<TTask, TResult> => {
    const slot: Slot<TTask, TResult> = { worker: new Worker(opts.file), busy: null };
    if (opts.lazy) slot.worker.unref();
    const finish = (fn: () => void) => {
      if (opts.lazy && !closed) slot.worker.unref();
      settle(() => {
        fn();
        if (lane === 'priority') priorityEnded();
      });
    };
    slot.worker.on('message', (msg: WorkerMessage<TResult>) => {
      const p = slot.busy;
      if (!p || p.id !== msg.id) return;
      slot.busy = null;
      finish(() => (msg.ok ? p.resolve(msg.result as TResult) : p.reject(workerError(msg.error))));
      pump();
    });
    const die = (err: unknown) => {
      const i = slots.indexOf(slot);
      if (i < 0) return;
      const p = slot.busy;
      slot.busy = null;
      if (closed) return;
      slots[i] = spawn();
      if (p) finish(() => p.reject(new WorkstationError('INTERNAL', `decode worker died: ${err instanceof Error ? err.message : String(err)}`)));
      pump();
    };
    slot.worker.on('error', die);
    slot.worker.on('exit', (code) => die(new Error(`exit code ${code}`)));
    return slot;
  };

  const pump = () => {
    if (slots.length === 0 && queue.length > 0) for (let i = 0; i < size; i++) slots.push(spawn());
    for (const slot of slots) {
      if (queue.length === 0) return;
      if (slot.busy) continue;
      const p = queue.shift()!;
      slot.busy = p;
      if (opts.lazy) slot.worker.ref();
      slot.worker.postMessage({ id: p.id, task: p.task });
    }
  };

  if (!opts.lazy) for (let i = 0; i < size; i++) slots.push(spawn());

  /** Fails a task that never got its answer, ending its priority share. */
  const abandon = (p: Pending<TTask, TResult>, e: unknown) => {
    p.reject(e);
    if (lane === 'priority') priorityEnded();
  };

  return {
    size,
    run(task) {
      if (closed) return Promise.reject(new WorkstationError('INVALID_STATE', 'worker pool is closed'));
      if (lane === 'priority') priority.running++;
      return new Promise<TResult>((resolve, reject) => {
        queue.push({ id: nextId++, task, resolve, reject });
        pump();
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      // results already in hand are handed over (a consumer may be awaiting them), then the rest fail
      priority.waiting.delete(wake);
      if (holdTimer) clearTimeout(holdTimer);
      for (const settleOne of ready.splice(0)) settleOne();
      for (const p of queue.splice(0)) abandon(p, new WorkstationError('INVALID_STATE', 'worker pool closed'));
      await Promise.all(
        slots.map(async (s) => {
          if (s.busy) abandon(s.busy, new WorkstationError('INVALID_STATE', 'worker pool closed'));
          s.busy = null;
          await s.worker.terminate();
        }),
      );
    },
  };
}
