// Live reporting of a PyTorch DDP continuation into the running service (`scaleOut.report`, also
// POST /api/scale-out/report): train_ddp.py's rank 0 appends a record to the folder's
// metrics.jsonl and then tells the service about it. The service imports the folder as every start
// does (import.ts: idempotent, so a record that reached the service live is not added again by a
// later import, and records missed while the service was away are caught up by the next report)
// and emits the same events as for its own runs, so open clients update at once: run.epoch,
// checkpoint.saved, run.status, run.event. While the script trains (a start without an end), the
// run is 'running' and owned by the reporting process (rank 0, this host): if that process dies
// without an end record, every reader shows the run 'interrupted'. 'progress' records (live only,
// never in the file) become run.step events and step samples.
import os from 'node:os';
import path from 'node:path';
import type { CommandParamsParsed, CommandResult } from '../../../src-shared/api/contract';
import type { RunSummary } from '../../../src-shared/api/schemas';
import { WorkstationError } from '../../../src-shared/errors';
import type { AppPaths } from '../../common/paths';
import type { Store } from '../../store/index';
import type { Emit } from '../run-recorder';
import { importScaleOutFolder, readPlan, runFor } from './import';
import { SCALE_OUT_ENGINE } from './write-folder';

export interface ReportDeps {
  store: Store;
  paths: AppPaths;
  emit: Emit;
}

type ReportParams = CommandParamsParsed<'scaleOut.report'>;
type ReportResult = CommandResult<'scaleOut.report'>;

/** the run is the reporting process's from now on (a 'running' run always has a live owner) */
function takeRun(deps: ReportDeps, run: RunSummary, owner: { pid: number; host: string }): boolean {
  const { store } = deps;
  if (run.status === 'running' && run.owner?.pid === owner.pid && run.owner.host === owner.host) return false;
  store.runs.claim(run.id, { pid: owner.pid, host: owner.host, startedAt: new Date().toISOString() });
  store.runs.setStatus(run.id, 'running', { error: null });
  return true;
}

export function reportScaleOut(deps: ReportDeps, params: ReportParams): ReportResult {
  const { store, paths, emit } = deps;
  const dir = path.resolve(params.dir);
  const plan = readPlan(dir);
  const r = params.record;
  if (plan.runId !== params.runId || (r.runId !== undefined && r.runId !== plan.runId)) {
    const given = plan.runId !== params.runId ? params.runId : r.runId;
    throw new WorkstationError('INVALID_ARGUMENT', `runId: ${dir} reports into run ${plan.runId}, not run ${given}`, { field: 'runId', path: dir });
  }
  const before = runFor(store, dir, plan);
  const lastEventId = store.events.list(before.id).reduce((m, e) => Math.max(m, e.id), 0);
  // the reporting process (rank 0) owns the run while it trains; only one on this machine, whose pid
  // the store can probe (a service reached over 127.0.0.1 always is)
  const owner = params.owner && params.owner.host === os.hostname() ? params.owner : null;

  if (r.type === 'progress') {
    const { type: _type, runId: _runId, at: _at, ...step } = r;
    store.metrics.addSteps(before.id, [
      {
        epoch: step.epoch,
        step: step.step,
        globalStep: step.globalStep,
        loss: step.loss,
        top1: step.top1,
        lr: step.lr,
        momentum: step.momentum,
        imagesPerSec: step.imagesPerSec,
      },
    ]);
    emit('run.step', { runId: before.id, ...step });
    if (owner && before.status !== 'running' && takeRun(deps, before, owner)) emit('run.status', { run: store.runs.get(before.id)! });
    return { runId: before.id, status: store.runs.get(before.id)!.status, epochs: [], checkpoints: 0 };
  }

  const imported = importScaleOutFolder(store, paths, dir, { live: true });
  const statusNow = store.runs.get(before.id)!.status;
  // a start (or any record of a run still training) from a process that does not own the run yet
  const took = owner !== null && !imported.ended && r.type !== 'end' && takeRun(deps, store.runs.get(before.id)!, owner);
  if (r.type === 'start' && !imported.ended) {
    store.runs.setBackend(before.id, `${SCALE_OUT_ENGINE} ${r.worldSize}×${r.device}`, r.host);
    if (took || owner === null)
      store.events.add({
        runId: before.id,
        kind: 'note',
        epoch: r.startEpoch ?? null,
        globalStep: r.globalStep ?? null,
        data: {
          message: `PyTorch DDP started on ${r.worldSize}×${r.device} (${r.host}${r.torch ? `, torch ${r.torch}` : ''})${r.startEpoch !== undefined ? ` at epoch ${r.startEpoch}` : ''}; it reports here as it trains`,
          scaleOutStart: { dir, worldSize: r.worldSize, device: r.device, host: r.host, pid: r.pid ?? owner?.pid ?? null },
        },
      });
  }
  // the end, once: the import has just set the status it reported
  if (r.type === 'end' && imported.ended && before.status !== statusNow)
    store.events.add({
      runId: before.id,
      kind: 'note',
      epoch: r.lastEpoch ?? null,
      data: { message: `PyTorch DDP ended: ${r.status}${r.error ? ` (${r.error})` : ''}`, scaleOutEnd: { dir, status: r.status, error: r.error ?? null } },
    });

  // what is new, as the service's own runs announce it
  const rows = store.metrics.epochs(before.id);
  for (const epoch of imported.epochs) {
    const m = rows.find((x) => x.epoch === epoch);
    if (m) emit('run.epoch', { runId: before.id, metrics: m });
  }
  for (const c of imported.checkpoints) emit('checkpoint.saved', c.checkpoint);
  for (const ev of store.events.list(before.id)) if (ev.id > lastEventId) emit('run.event', ev);
  const after = store.runs.get(before.id)!;
  if (JSON.stringify(after) !== JSON.stringify(before)) emit('run.status', { run: after });
  return { runId: after.id, status: after.status, epochs: imported.epochs, checkpoints: imported.checkpoints.length };
}
