// Run events: what changed and when (augmentation change at step S, pause, resume, fork with the
// config diff against the parent, errors), so charts can mark them.
import { RUN_EVENT_KINDS, type RunEvent } from '../../src-shared/api/schemas';
import { WorkstationError } from '../../src-shared/errors';
import type { Db } from './db';

export type RunEventKind = RunEvent['kind'];

export interface RunEventInput {
  runId: number;
  kind: RunEventKind;
  epoch?: number | null;
  globalStep?: number | null;
  /** kind-specific JSON payload, e.g. { patch } for augment, { diff } for fork */
  data?: Record<string, unknown>;
}

export interface EventsRepo {
  add(e: RunEventInput): RunEvent;
  /** in the order they happened */
  list(runId: number): RunEvent[];
}

interface EventRow {
  id: number;
  run_id: number;
  kind: string;
  epoch: number | null;
  global_step: number | null;
  at: string;
  data_json: string;
}

function toEvent(r: EventRow): RunEvent {
  return {
    id: r.id,
    runId: r.run_id,
    kind: r.kind as RunEventKind,
    epoch: r.epoch,
    globalStep: r.global_step,
    at: r.at,
    data: JSON.parse(r.data_json) as Record<string, unknown>,
  };
}

export function createEventsRepo(db: Db, now: () => string): EventsRepo {
  const insert = db.prepare(`
    INSERT INTO events (run_id, kind, epoch, global_step, at, data_json)
    VALUES (@runId, @kind, @epoch, @globalStep, @at, @data)`);
  const byId = db.prepare<[number], EventRow>('SELECT * FROM events WHERE id = ?');
  const byRun = db.prepare<[number], EventRow>('SELECT * FROM events WHERE run_id = ? ORDER BY id');
  const runExists = db.prepare<[number], { id: number }>('SELECT id FROM runs WHERE id = ?');

  return {
    add(e) {
      if (!(RUN_EVENT_KINDS as readonly string[]).includes(e.kind)) {
        throw new WorkstationError('INVALID_ARGUMENT', `unknown event kind "${e.kind}" (one of ${RUN_EVENT_KINDS.join(', ')})`, { field: 'kind' });
      }
      if (!runExists.get(e.runId)) throw new WorkstationError('NOT_FOUND', `run ${e.runId} not found`, { field: 'runId' });
      const info = insert.run({
        runId: e.runId,
        kind: e.kind,
        epoch: e.epoch ?? null,
        globalStep: e.globalStep ?? null,
        at: now(),
        data: JSON.stringify(e.data ?? {}),
      });
      return toEvent(byId.get(Number(info.lastInsertRowid))!);
    },
    list(runId) {
      return byRun.all(runId).map(toEvent);
    },
  };
}
