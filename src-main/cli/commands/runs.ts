// `workstation runs [--json] [--db]`: the runs in the store, as a table worded like the app's runs
// list (epoch 12/39, 71.2%, status, when it started, what it was forked from) or as JSON
// (RunSummary[], with `owner`: the live process training the run, or null).
import os from 'node:os';
import type { RunSummary } from '../../../src-shared/api/schemas';
import { bool } from '../../common/args';
import type { CommandSpec } from '../command';
import { DB_FLAG, resolveDbPath } from '../db-flag';
import { openStore } from '../../store/index';
import { LABEL_FLAGS, applyRunLabels, filterByTags } from '../run-labels';

/** Best val top-1 as the app shows it: one decimal, percent sign. */
function pct(v: number | null): string {
  return v === null || !Number.isFinite(v) ? '-' : `${v.toFixed(1)}%`;
}

/** Epochs done of the run's target, as the app counts them (a fork starts at its fork epoch). */
function epochOf(r: RunSummary): string {
  return `epoch ${r.lastEpoch ?? r.forkEpoch ?? 0}/${r.targetEpochs}`;
}

/** Local date and time to the minute (2024-05-01 10:04), like the app's clock. */
function localTime(iso: string | null): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The status, and for a run a live process owns, which one (pid, and host when not this one). */
function statusOf(r: RunSummary, host: string): string {
  if (!r.owner) return r.status;
  return `${r.status} (pid ${r.owner.pid}${r.owner.host === host ? '' : ` on ${r.owner.host}`})`;
}

export function runsTable(runs: RunSummary[], host = os.hostname()): string {
  const header = ['#', 'NAME', 'STATUS', 'PROGRESS', 'BEST VAL TOP-1', 'STARTED', 'FORKED FROM', 'BACKEND'];
  const rows = runs.map((r) => [
    String(r.id),
    r.name,
    statusOf(r, host),
    epochOf(r),
    pct(r.bestValTop1),
    localTime(r.startedAt),
    r.parentRunId === null ? '-' : `#${r.parentRunId} at epoch ${r.forkEpoch ?? '?'}`,
    r.backend ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return (
    [header, ...rows]
      .map((cells) =>
        cells
          .map((c, i) => c.padEnd(widths[i]))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

const command: CommandSpec = {
  name: 'runs',
  summary: 'List the runs in the store: status (and the process training it), epoch reached, best val top-1, start time, lineage',
  flags: {
    json: { type: 'boolean', description: 'print the runs as JSON (RunSummary[], each with owner: {pid, host, startedAt, heartbeatAt} or null)' },
    ...DB_FLAG,
    // --- notes and tags (run-labels.ts): --run R --tag T --untag T --note TEXT, --filter-tag T ---
    ...LABEL_FLAGS,
  },
  async run(args, io) {
    const store = openStore(resolveDbPath(args, io));
    try {
      // notes and tags: a labelled run lists alone; --filter-tag keeps runs with every tag given
      const labelled = applyRunLabels(store, args);
      const runs = labelled ? [labelled] : filterByTags(store.runs.list(), args);
      // owner is always present in the JSON, null when no live process holds the run
      if (bool(args, 'json'))
        io.stdout(
          JSON.stringify(
            runs.map((r) => ({ ...r, owner: r.owner ?? null })),
            null,
            2,
          ) + '\n',
        );
      else if (runs.length === 0) io.stdout(`no runs in ${store.path}\n`);
      else io.stdout(runsTable(runs));
      return 0;
    } finally {
      store.close();
    }
  },
};
export default command;
