// createWorkerPool lanes: background results are handed over one per event-loop turn (so a
// consumer that blocks per result, like a training step, still lets timers and I/O run between
// them), and a priority task in flight holds background results back until it is done, without
// starving them when it never ends. Real worker threads running small scripts.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkerPool, type WorkerPool } from '../../src-main/data/worker-pool';
import { tempDir } from '../helpers/samples';

// A worker that answers { x * 2 }; with `gate` it first waits until gate[0] becomes 1, and it
// counts its answers in `answered` (so the test can wait for them without giving the loop a turn).
const WORKER = `const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ id, task }) => {
  if (task.gate) Atomics.wait(task.gate, 0, 0);
  parentPort.postMessage({ id, ok: true, result: { x: task.x * 2 } });
  if (task.answered) { Atomics.add(task.answered, 0, 1); Atomics.notify(task.answered, 0); }
});`;

interface Task {
  x: number;
  gate?: Int32Array;
  answered?: Int32Array;
}

const pools: WorkerPool<Task, { x: number }>[] = [];
/** A started pool: a worker's start-up needs turns of this thread's loop, which the tests block. */
async function pool(lane: 'background' | 'priority', size = 1): Promise<WorkerPool<Task, { x: number }>> {
  const file = path.join(tempDir('ws-lanes-'), 'worker.cjs');
  fs.writeFileSync(file, WORKER);
  const p = createWorkerPool<Task, { x: number }>({ file, size, lane });
  pools.push(p);
  await Promise.all(Array.from({ length: size }, () => p.run({ x: 0 })));
  return p;
}

const shared = () => new Int32Array(new SharedArrayBuffer(4));

/** Blocks this thread (as a training step does) until `n` answers were posted (by `n` workers: a queued task needs this thread to be sent). */
function blockUntilAnswered(answered: Int32Array, n: number): void {
  for (let seen = Atomics.load(answered, 0); seen < n; seen = Atomics.load(answered, 0)) Atomics.wait(answered, 0, seen, 10_000);
}

/** Blocks this thread for `ms` (a synchronous step). */
function busy(ms: number): void {
  Atomics.wait(shared(), 0, 0, ms);
}

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('worker pool lanes', () => {
  it('background results ready at once are handed over one per event-loop turn, in order', async () => {
    const bg = await pool('background', 4);
    const answered = shared();
    const order: string[] = [];
    const results = [0, 1, 2, 3].map((x) =>
      bg.run({ x, answered }).then((r) => {
        order.push(`result ${r.x}`);
        // a timer due before the next result: it runs only if the loop turns in between
        setTimeout(() => order.push(`timer after ${r.x}`), 1);
        busy(5);
      }),
    );
    blockUntilAnswered(answered, 4); // all four answers are waiting before the first is read
    await Promise.all(results);
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual(['result 0', 'timer after 0', 'result 2', 'timer after 2', 'result 4', 'timer after 4', 'result 6', 'timer after 6']);
  });

  it('a priority task in flight holds background results back; they follow it, in order', async () => {
    const bg = await pool('background', 2);
    const prio = await pool('priority');
    const gate = shared();
    const order: string[] = [];
    const p = prio.run({ x: 10, gate }).then((r) => order.push(`priority ${r.x}`));
    const answered = shared();
    const b = [1, 2].map((x) => bg.run({ x, answered }).then((r) => order.push(`background ${r.x}`)));
    blockUntilAnswered(answered, 2);
    await turns(5);
    expect(order).toEqual([]); // answered, but held while the priority task runs
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await Promise.all([p, ...b]);
    expect(order).toEqual(['priority 20', 'background 2', 'background 4']);
  });

  it('a priority task that never ends does not starve the background lane', async () => {
    const bg = await pool('background');
    const prio = await pool('priority');
    const gate = shared();
    const stuck = prio.run({ x: 1, gate });
    stuck.catch(() => undefined);
    expect(await bg.run({ x: 21 })).toEqual({ x: 42 });
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await stuck;
  });

  it('a priority task completes while every background worker is blocked and more tasks queue behind it', async () => {
    const bg = await pool('background', 1);
    const prio = await pool('priority');
    const gate = shared();
    const blocked = [1, 2, 3].map((x) => bg.run({ x, gate }));
    expect(await prio.run({ x: 4 })).toEqual({ x: 8 });
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    expect(await Promise.all(blocked)).toEqual([{ x: 2 }, { x: 4 }, { x: 6 }]);
  });

  it('close hands over the results already in hand and fails the rest', async () => {
    const bg = await pool('background');
    const prio = await pool('priority');
    const gate = shared();
    const holdOn = prio.run({ x: 0, gate });
    holdOn.catch(() => undefined);
    const answered = shared();
    const done = bg.run({ x: 5, answered });
    const never = bg.run({ x: 6, gate });
    never.catch(() => undefined);
    blockUntilAnswered(answered, 1);
    await turns(3);
    await bg.close();
    expect(await done).toEqual({ x: 10 });
    await expect(never).rejects.toMatchObject({ code: 'INVALID_STATE' });
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await holdOn;
  });
});
