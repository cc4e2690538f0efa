// Comparing runs: which config fields differ between any number of runs (the hyperparameter diff
// table of the Runs view and the comparison CSV), and the best / last val top-1 of each.
// Configs are compared as resolved (defaults filled in), so a field an older build did not store
// does not show as a difference when it holds the default.
import type { EpochMetrics } from '../metrics';
import { RunConfigSchema } from './run-config';

export interface FieldDiff {
  /** dotted config path, e.g. "optimizer.lr" */
  field: string;
  /** one value per run, in the order given (undefined where a run's config has no such field) */
  values: unknown[];
}

/** Fields never compared: the name is the run's, not a hyperparameter. */
const IGNORED = new Set(['name']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function leaves(v: unknown, prefix: string, out: Map<string, unknown>): void {
  if (isPlainObject(v) && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v)) leaves(x, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, v);
}

/** The stored config with the defaults of this build filled in (as stored when it does not parse). */
export function normalizeConfig(config: unknown): unknown {
  const r = RunConfigSchema.safeParse(config);
  return r.success ? r.data : config;
}

/** Config fields whose values are not all equal, sorted by path; arrays are compared whole. */
export function differingFields(configs: readonly unknown[]): FieldDiff[] {
  const flat = configs.map((c) => {
    const m = new Map<string, unknown>();
    leaves(normalizeConfig(c), '', m);
    return m;
  });
  const fields = new Set(flat.flatMap((m) => [...m.keys()]));
  const out: FieldDiff[] = [];
  for (const field of [...fields].sort()) {
    if (IGNORED.has(field)) continue;
    const values = flat.map((m) => m.get(field));
    const first = JSON.stringify(values[0]);
    if (values.some((v) => JSON.stringify(v) !== first)) out.push({ field, values });
  }
  return out;
}

/** Best and last val top-1 of a run's epochs (null when no epoch was validated). */
export function valTop1Summary(epochs: readonly EpochMetrics[]): { best: number | null; last: number | null } {
  let best: number | null = null;
  let last: number | null = null;
  for (const m of [...epochs].sort((a, b) => a.epoch - b.epoch)) {
    if (m.valTop1 === null || !Number.isFinite(m.valTop1)) continue;
    last = m.valTop1;
    if (best === null || m.valTop1 > best) best = m.valTop1;
  }
  return { best, last };
}
