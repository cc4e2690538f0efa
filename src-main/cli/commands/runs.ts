// `workstation runs [--json] [--db]`: the runs in the store, as a table or as JSON.
import type { RunSummary } from '../../../src-shared/api/schemas';
import { bool } from '../../common/args';
import type { CommandSpec } from '../command';
import { DB_FLAG, resolveDbPath } from '../db-flag';
import { openStore } from '../../store/index';

function fmt(v: number | null, digits = 2): string {
  return v === null ? '-' : v.toFixed(digits);
}

export function runsTable(runs: RunSummary[]): string {
  const header = ['ID', 'NAME', 'STATUS', 'PARENT', 'EPOCHS', 'BEST VAL TOP-1', 'BACKEND', 'CREATED'];
  const rows = runs.map((r) => [
    String(r.id),
    r.name,
    r.status,
    r.parentRunId === null ? '-' : `#${r.parentRunId}@${r.forkEpoch ?? '?'}`,
    `${r.lastEpoch ?? '-'}/${r.targetEpochs}`,
    fmt(r.bestValTop1),
    r.backend ?? '-',
    r.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
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
  summary: 'List the runs in the store (id, name, status, lineage, epochs, best val top-1)',
  flags: {
    json: { type: 'boolean', description: 'print the runs as JSON (RunSummary[])' },
    ...DB_FLAG,
  },
  async run(args, io) {
    const store = openStore(resolveDbPath(args, io));
    try {
      const runs = store.runs.list();
      if (bool(args, 'json')) io.stdout(JSON.stringify(runs, null, 2) + '\n');
      else if (runs.length === 0) io.stdout(`no runs in ${store.path}\n`);
      else io.stdout(runsTable(runs));
      return 0;
    } finally {
      store.close();
    }
  },
};
export default command;
