// A pool of worker_threads running one bundled script. Tasks queue until a worker is free; each
// worker runs one task at a time. A worker that dies fails its task and is replaced, so one
// crash does not stall the epoch.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { WorkstationError } from '../../src-shared/errors';

export interface WorkerPool<TTask, TResult> {
  readonly size: number;
  run(task: TTask): Promise<TResult>;
  close(): Promise<void>;
}

/** Worker count for a `data.workers` setting: 0 = cores − 1, at least 1. */
export function defaultWorkerCount(requested: number, cores = os.availableParallelism()): number {
  return requested > 0 ? requested : Math.max(1, cores - 1);
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

export function createWorkerPool<TTask, TResult>(opts: { file: string; size: number }): WorkerPool<TTask, TResult> {
  const queue: Pending<TTask, TResult>[] = [];
  const slots: Slot<TTask, TResult>[] = [];
  let nextId = 1;
  let closed = false;

  const spawn = (): Slot<TTask, TResult> => {
    const slot: Slot<TTask, TResult> = { worker: new Worker(opts.file), busy: null };
    slot.worker.on('message', (msg: { id: number; ok: boolean; result?: TResult; error?: string }) => {
      const p = slot.busy;
      if (!p || p.id !== msg.id) return;
      slot.busy = null;
      if (msg.ok) p.resolve(msg.result as TResult);
      else p.reject(new WorkstationError('INTERNAL', `decode worker: ${msg.error}`));
      pump();
    });
    const die = (err: unknown) => {
      const i = slots.indexOf(slot);
      if (i < 0) return;
      const p = slot.busy;
      slot.busy = null;
      if (closed) return;
      slots[i] = spawn();
      p?.reject(new WorkstationError('INTERNAL', `decode worker died: ${err instanceof Error ? err.message : String(err)}`));
      pump();
    };
    slot.worker.on('error', die);
    slot.worker.on('exit', (code) => die(new Error(`exit code ${code}`)));
    return slot;
  };

  const pump = () => {
    for (const slot of slots) {
      if (queue.length === 0) return;
      if (slot.busy) continue;
      const p = queue.shift()!;
      slot.busy = p;
      slot.worker.postMessage({ id: p.id, task: p.task });
    }
  };

  for (let i = 0; i < Math.max(1, opts.size); i++) slots.push(spawn());

  return {
    size: slots.length,
    run(task) {
      if (closed) return Promise.reject(new WorkstationError('INVALID_STATE', 'worker pool is closed'));
      return new Promise<TResult>((resolve, reject) => {
        queue.push({ id: nextId++, task, resolve, reject });
        pump();
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const p of queue.splice(0)) p.reject(new WorkstationError('INVALID_STATE', 'worker pool closed'));
      await Promise.all(
        slots.map(async (s) => {
          s.busy?.reject(new WorkstationError('INVALID_STATE', 'worker pool closed'));
          s.busy = null;
          await s.worker.terminate();
        }),
      );
    },
  };
}
