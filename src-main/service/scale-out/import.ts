// Bringing a PyTorch DDP continuation back into the store (`import-metrics`, `import-checkpoint`).
//
// metrics.jsonl (written by train_ddp.py's rank 0, one JSON record a line):
//   {"type":"start", runId, worldSize, device, torch, host, startEpoch, startStep, globalStep, …}
//   {"type":"epoch", runId, globalStep, metrics: EpochMetrics}
//   {"type":"checkpoint", runId, epoch, globalStep, path: "checkpoints/epoch-NNNN.safetensors", valTop1}
//   {"type":"checkpoint-removed", path}
//   {"type":"end", runId, status: "completed" | "stopped" | "failed", error, lastEpoch}
// Importing is idempotent: epoch rows are upserts, a checkpoint is converted once (its workstation
// copy's path is its identity), events are added only when something new came in. A torn last
// line (the script still writing, or killed mid-write) is left for the next import. The same
// import runs at every service start, on `import-metrics`, and for every record the script reports
// live to a running service (report.ts), so whichever comes first writes a row and the others find it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CheckpointInfo, RunSummary } from '../../../src-shared/api/schemas';
import { WorkstationError } from '../../../src-shared/errors';
import type { EpochMetrics } from '../../../src-shared/metrics';
import { checkpointName } from '../../ml/checkpoint';
import { importSafetensorsCheckpoint } from '../../ml/interop/checkpoint-safetensors';
import { readSafetensorsFile } from '../../ml/interop/safetensors';
import type { AppPaths } from '../../common/paths';
import { defaultCheckpointDir } from '../checkpoint-dirs';
import type { Store } from '../../store/index';
import { METRICS_FILE, PLAN_FILE, SCALE_OUT_ENGINE, type ScaleOutPlan } from './write-folder';

export interface ImportedCheckpointRow {
  source: string;
  checkpoint: CheckpointInfo;
}

export interface ScaleOutImport {
  dir: string;
  runId: number;
  /** epochs whose rows were written (new or changed) */
  epochs: number[];
  checkpoints: ImportedCheckpointRow[];
  status: RunSummary['status'];
  /** whether train_ddp.py has reported its end */
  ended: boolean;
  /** lines that could not be read (line number, text) */
  unreadable: { line: number; text: string }[];
}

type MetricsRecord =
  | { type: 'start'; worldSize?: number; device?: string; host?: string; torch?: string; targetEpochs?: number }
  | { type: 'epoch'; metrics: EpochMetrics }
  | { type: 'checkpoint'; epoch: number; path: string; valTop1?: number | null }
  | { type: 'checkpoint-removed'; path: string }
  | { type: 'end'; status: 'completed' | 'stopped' | 'failed'; error?: string | null };

export function readPlan(dir: string): ScaleOutPlan {
  const file = path.join(dir, PLAN_FILE);
  let plan: ScaleOutPlan;
  try {
    plan = JSON.parse(fs.readFileSync(file, 'utf8')) as ScaleOutPlan;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new WorkstationError(
      'NOT_FOUND',
      `${dir} is not a scale-out folder: ${code === 'ENOENT' ? `no ${PLAN_FILE}` : `${PLAN_FILE} is unreadable (${(e as Error).message})`}`,
      { path: file },
    );
  }
  if (plan.engine !== SCALE_OUT_ENGINE || !Number.isSafeInteger(plan.runId))
    throw new WorkstationError('INVALID_ARGUMENT', `${file} is not a workstation scale-out plan`, { path: file });
  return plan;
}

/** The child run the folder reports into; refuses a store that does not hold it (another database). */
export function runFor(store: Store, dir: string, plan: ScaleOutPlan): RunSummary {
  const run = store.runs.get(plan.runId);
  // the folder may have been copied back from the cluster to another path: the run's id, name and scale-out note identify it
  const ours = run && run.name === plan.runName && store.events.list(run.id).some((ev) => ev.kind === 'note' && ev.data.scaleOut !== undefined);
  if (!run || !ours)
    throw new WorkstationError(
      'NOT_FOUND',
      `${dir} reports into run ${plan.runId} of ${plan.dbPath}, which ${store.path} does not hold${path.resolve(store.path) === plan.dbPath ? ' (the folder was moved, or the run deleted)' : `: pass --db ${plan.dbPath}`}`,
      { path: dir, field: 'db' },
    );
  return run;
}

function parseLines(file: string): { records: MetricsRecord[]; unreadable: { line: number; text: string }[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], unreadable: [] };
    throw e;
  }
  const lines = text.split('\n');
  // a last line without its newline is still being written: not yet ours to read
  if (!text.endsWith('\n')) lines.pop();
  const records: MetricsRecord[] = [];
  const unreadable: { line: number; text: string }[] = [];
  lines.forEach((l, i) => {
    if (!l.trim()) return;
    try {
      const r = JSON.parse(l) as MetricsRecord;
      if (typeof r !== 'object' || r === null || typeof r.type !== 'string') throw new Error('no type');
      records.push(r);
    } catch {
      unreadable.push({ line: i + 1, text: l.slice(0, 200) });
    }
  });
  return { records, unreadable };
}

/** Where a run's checkpoints live: next to its existing ones, else its default folder. */
function checkpointDirOf(store: Store, paths: AppPaths, runId: number): string {
  const existing = store.checkpoints.list(runId)[0];
  return existing ? path.dirname(existing.path) : defaultCheckpointDir(paths.runsDir, runId);
}

/**
 * Converts one train_ddp.py checkpoint into a workstation checkpoint of `runId` and records it
 * (once: a second call for the same epoch returns the row it made the first time).
 */
export function importCheckpointInto(store: Store, paths: AppPaths, runId: number, source: string): { row: CheckpointInfo; created: boolean } {
  const st = readSafetensorsFile(source); // checks the file before anything is written
  const header = JSON.parse(st.metadata.workstation_checkpoint ?? 'null') as { epoch?: number } | null;
  if (!header || !Number.isSafeInteger(header.epoch))
    throw new WorkstationError(
      'CHECKPOINT_MISMATCH',
      `${source} holds weights only (no workstation_checkpoint metadata): start a run from it with \`workstation train --init-weights ${source}\``,
      { path: source },
    );
  const target = path.join(checkpointDirOf(store, paths, runId), checkpointName(header.epoch as number));
  const recorded = () => store.checkpoints.list(runId).find((c) => path.resolve(c.path) === path.resolve(target) && c.exists);
  const existing = recorded();
  if (existing) return { row: existing, created: false };
  const imported = importSafetensorsCheckpoint(source, target);
  const h = imported.header;
  const valTop1 = h.metrics?.valTop1 ?? null;
  // looked for again with the row written in one transaction: a live report to the service and an
  // `import-metrics` in another process may convert the same file at the same moment (same bytes)
  return store.transaction(() => {
    const other = recorded();
    if (other) return { row: other, created: false };
    const best = store.checkpoints
      .list(runId)
      .filter((c) => c.exists && c.valTop1 !== null)
      .reduce<number | null>((m, c) => (m === null || (c.valTop1 as number) > m ? c.valTop1 : m), null);
    const row = store.checkpoints.add({
      runId,
      kind: 'epoch',
      epoch: h.epoch,
      stepInEpoch: h.stepsPerEpoch,
      globalStep: h.step,
      path: imported.path,
      bytes: imported.bytes,
      sha256: imported.sha256,
      valTop1,
      isBest: valTop1 !== null && (best === null || valTop1 > best),
    });
    // a checkpoint brought back on its own still carries its epoch's metrics
    if (h.metrics && !store.metrics.epochs(runId).some((m) => m.epoch === h.epoch)) store.metrics.addEpoch(runId, h.metrics);
    return { row, created: true };
  });
}

/**
 * Imports a scale-out folder's metrics.jsonl (epochs, checkpoints, end status) into its child run.
 * `live`: called for a record the script reported to this service as it trained (report.ts), which
 * announces its start and end itself, so no 'imported …' note is added per epoch.
 */
export function importScaleOutFolder(store: Store, paths: AppPaths, dirArg: string, opts: { live?: boolean } = {}): ScaleOutImport {
  const dir = path.resolve(dirArg);
  const plan = readPlan(dir);
  const run = runFor(store, dir, plan);
  const { records, unreadable } = parseLines(path.join(dir, METRICS_FILE));
  const before = new Map(store.metrics.epochs(run.id).map((m) => [m.epoch, JSON.stringify(m)]));
  const epochs: number[] = [];
  const checkpoints: ImportedCheckpointRow[] = [];
  let end: Extract<MetricsRecord, { type: 'end' }> | null = null;
  let start: Extract<MetricsRecord, { type: 'start' }> | null = null;
  for (const r of records) {
    if (r.type === 'start') {
      start = r;
      end = null; // a restart after an end (e.g. a failure, then run.sh again)
    } else if (r.type === 'epoch') {
      const m = r.metrics;
      if (!m || !Number.isSafeInteger(m.epoch)) continue;
      const metrics: EpochMetrics = { ...m, valLoss: m.valLoss ?? null, valTop1: m.valTop1 ?? null, valTop5: m.valTop5 ?? null };
      if (before.get(m.epoch) === JSON.stringify(metrics)) continue;
      store.metrics.addEpoch(run.id, metrics);
      before.set(m.epoch, JSON.stringify(metrics));
      epochs.push(m.epoch);
    } else if (r.type === 'checkpoint') {
      const source = path.resolve(dir, r.path);
      if (!fs.existsSync(source)) continue; // rotated away on the DDP side before this import
      const { row, created } = importCheckpointInto(store, paths, run.id, source);
      if (created) checkpoints.push({ source, checkpoint: row });
    } else if (r.type === 'end') end = r;
  }
  const changed = epochs.length > 0 || checkpoints.length > 0;
  if (start && changed) store.runs.setBackend(run.id, `${SCALE_OUT_ENGINE} ${start.worldSize ?? '?'}×${start.device ?? '?'}`, start.host ?? os.hostname());
  // `run.sh --epochs N` beyond the plan's target: the run now ends there
  if (start && Number.isSafeInteger(start.targetEpochs) && (start.targetEpochs as number) > store.runs.get(run.id)!.targetEpochs)
    store.runs.setTargetEpochs(run.id, start.targetEpochs as number);
  let status = store.runs.get(run.id)!.status;
  if (end) {
    const next = end.status === 'completed' ? 'completed' : end.status === 'failed' ? 'failed' : 'stopped';
    if (next !== status || (next === 'failed' && end.error)) {
      // startedAt is set by a 'running' status; only now, with the end known, so the run never
      // reads 'running' without an owner (a service start would mark that interrupted)
      if (start && store.runs.get(run.id)!.startedAt === null) store.runs.setStatus(run.id, 'running');
      store.runs.setStatus(run.id, next, next === 'failed' ? { error: end.error ?? 'the PyTorch DDP run failed' } : { error: null });
      status = next;
    }
  }
  if (changed && !opts.live)
    store.events.add({
      runId: run.id,
      kind: 'note',
      epoch: epochs.length ? Math.max(...epochs) : null,
      data: {
        message: `imported ${epochs.length} epoch(s) and ${checkpoints.length} checkpoint(s) from PyTorch DDP (${dir})`,
        scaleOutImport: { dir, epochs, checkpoints: checkpoints.map((c) => c.checkpoint.path), ended: end !== null },
      },
    });
  return { dir, runId: run.id, epochs, checkpoints, status, ended: end !== null, unreadable };
}

/** Every scale-out folder the store knows (from the child runs' notes), newest run first. */
export function knownScaleOutFolders(store: Store): { runId: number; dir: string }[] {
  const out: { runId: number; dir: string }[] = [];
  for (const run of store.runs.list().reverse()) {
    for (const ev of store.events.list(run.id)) {
      const dir = (ev.data.scaleOut as { dir?: unknown } | undefined)?.dir;
      if (ev.kind === 'note' && typeof dir === 'string') out.push({ runId: run.id, dir });
    }
  }
  return out;
}

/**
 * Imports every known scale-out folder that still exists (the workstation can call this when it
 * starts); a folder that cannot be read is reported, not thrown.
 */
export function importKnownScaleOuts(store: Store, paths: AppPaths): { imported: ScaleOutImport[]; problems: { dir: string; message: string }[] } {
  const imported: ScaleOutImport[] = [];
  const problems: { dir: string; message: string }[] = [];
  for (const { dir } of knownScaleOutFolders(store)) {
    if (!fs.existsSync(path.join(dir, PLAN_FILE))) continue;
    try {
      imported.push(importScaleOutFolder(store, paths, dir));
    } catch (e) {
      problems.push({ dir, message: (e as Error).message });
    }
  }
  return { imported, problems };
}
