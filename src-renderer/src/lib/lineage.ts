// Lineage: which run forked from which checkpoint. Runs form a forest by parentRunId; a lineage
// is one tree (root and all descendants), drawn on one continuous epoch axis because child runs
// number their epochs from the parent's checkpoint epoch on.
import type { RunEvent, RunSummary } from '../../../src-shared/api/schemas';
import { diffConfigs } from '../../../src-shared/config/run-config';
import type { ChartMarker } from './run-markers';
import { checkpointX } from './checkpoints';

export interface RunNode {
  run: RunSummary;
  children: RunNode[];
  depth: number;
}

/** The forest of runs, roots first by id, children by id. Orphans (parent deleted) become roots. */
export function buildForest(runs: RunSummary[]): RunNode[] {
  const byId = new Map(runs.map((r) => [r.id, r]));
  const kids = new Map<number, RunSummary[]>();
  const roots: RunSummary[] = [];
  for (const r of [...runs].sort((a, b) => a.id - b.id)) {
    if (r.parentRunId !== null && byId.has(r.parentRunId)) {
      const list = kids.get(r.parentRunId) ?? [];
      list.push(r);
      kids.set(r.parentRunId, list);
    } else roots.push(r);
  }
  const make = (run: RunSummary, depth: number): RunNode => ({
    run,
    depth,
    children: (kids.get(run.id) ?? []).map((c) => make(c, depth + 1)),
  });
  return roots.map((r) => make(r, 0));
}

export function flattenForest(nodes: RunNode[]): RunNode[] {
  return nodes.flatMap((n) => [n, ...flattenForest(n.children)]);
}

/** All run ids in the lineage tree that holds `runId` (root first). */
export function lineageOf(runs: RunSummary[], runId: number): number[] {
  const byId = new Map(runs.map((r) => [r.id, r]));
  let root = byId.get(runId);
  if (!root) return [];
  const seen = new Set<number>();
  while (root.parentRunId !== null && byId.has(root.parentRunId) && !seen.has(root.id)) {
    seen.add(root.id);
    root = byId.get(root.parentRunId)!;
  }
  const tree = buildForest(runs).flatMap((n) => flattenForest([n]));
  const rootNode = tree.find((n) => n.run.id === root!.id);
  return rootNode ? flattenForest([rootNode]).map((n) => n.run.id) : [runId];
}

export interface DiffEntry {
  field: string;
  from: unknown;
  to: unknown;
}

/** A marker on the lineage axis: fork and augment ones carry a config diff, resume and interruption ones a sentence. */
export interface LineageMarker extends ChartMarker {
  runId: number;
  diff: DiffEntry[];
  text?: string;
}

/** The diff rows of a fork/augment event's `data.diff` (malformed rows dropped). */
export function asDiff(v: unknown): DiffEntry[] {
  if (!Array.isArray(v)) return [];
  return v
    .filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null && typeof (d as { field?: unknown }).field === 'string')
    .map((d) => ({ field: d.field as string, from: d.from, to: d.to }));
}

/** Flattens an augment patch ({colorJitter: {brightness: 0.4}}) into diff rows without "from". */
export function patchAsDiff(patch: unknown, prefix = 'augment'): DiffEntry[] {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return [{ field: prefix, from: undefined, to: patch }];
  return Object.entries(patch as Record<string, unknown>).flatMap(([k, v]) => patchAsDiff(v, `${prefix}.${k}`));
}

/** The diff the service recorded with the fork; computed from both configs if it recorded none. */
function forkDiff(fork: RunEvent | undefined, parentConfig: unknown, childConfig: unknown): DiffEntry[] {
  const recorded = asDiff(fork?.data.diff);
  if (recorded.length || parentConfig === undefined || childConfig === undefined) return recorded;
  return diffConfigs(parentConfig, childConfig).filter((d) => d.field !== 'name');
}

/**
 * Markers for a lineage: one per fork (at the child's fork point, with the config diff the service
 * recorded) and one per live augmentation change (at its epoch + the fraction of the epoch done).
 */
export function lineageMarkers(
  runs: RunSummary[],
  eventsByRun: Map<number, RunEvent[]>,
  stepsPerEpoch: Map<number, number>,
  configs: Map<number, unknown> = new Map(),
): LineageMarker[] {
  const out: LineageMarker[] = [];
  for (const run of runs) {
    const events = eventsByRun.get(run.id) ?? [];
    if (run.parentRunId !== null) {
      const fork = events.find((e) => e.kind === 'fork');
      const forkEpoch = run.forkEpoch ?? fork?.epoch ?? 0;
      const step = fork?.data.checkpointKind === 'mid-epoch' && typeof fork.data.stepInEpoch === 'number' ? fork.data.stepInEpoch : null;
      out.push({
        // a fork from a mid-epoch checkpoint starts inside the parent's epoch forkEpoch
        x:
          step !== null
            ? checkpointX({ kind: 'mid-epoch', epoch: forkEpoch, stepInEpoch: step }, stepsPerEpoch.get(run.parentRunId) ?? stepsPerEpoch.get(run.id))
            : forkEpoch,
        kind: 'fork',
        runId: run.id,
        label: `#${run.parentRunId} → #${run.id}`,
        diff: forkDiff(fork, configs.get(run.parentRunId), configs.get(run.id)),
      });
    }
    for (const e of events) {
      if (e.kind !== 'augment') continue;
      const spe = stepsPerEpoch.get(run.id);
      const epoch = e.epoch ?? run.forkEpoch ?? 0;
      // event.epoch is the (1-based) epoch in progress; place it inside that epoch when we can.
      const frac = spe && e.globalStep !== null ? (e.globalStep % spe) / spe : 0;
      const x = e.epoch !== null ? epoch - 1 + frac : epoch;
      const diff = asDiff(e.data.diff);
      out.push({
        x,
        kind: 'augment',
        runId: run.id,
        label: `augment #${run.id}`,
        diff: diff.length ? diff : patchAsDiff(e.data.patch),
      });
    }
  }
  return out.sort((a, b) => a.x - b.x);
}
