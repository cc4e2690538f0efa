// Backend self-test results (table `selftests`, migration 0005): the newest result per backend +
// tfjs version + libtensorflow version. The service reads it before a run on a native backend
// trains (service/selftest-gate.ts) and writes it when the self-test ran; `doctor --selftest` and
// the System view's "Run self-test" write it too. A row that no longer parses (a hand-edited or
// damaged database) counts as no result and is removed, so the next run simply tests again.
import { SelftestChecksSchema, SELFTEST_TRIGGERS, type SelftestRecord, type SelftestTrigger } from '../../src-shared/api/schemas';
import type { Db } from './db';

/** what identifies a result: a new tfjs or libtensorflow (e.g. the 2.18 swap) needs a new self-test */
export interface SelftestKey {
  backend: string;
  tfjsVersion: string;
  /** null: no libtensorflow (pure-JS cpu) */
  libtensorflowVersion: string | null;
}

export type SelftestInput = Omit<SelftestRecord, 'id' | 'createdAt' | 'runId'> & { runId?: number | null };

export interface SelftestsRepo {
  /** stores the result for its key, replacing the one stored before */
  put(input: SelftestInput): SelftestRecord;
  /** the stored result for the key; undefined when there is none or it cannot be read (then it is removed) */
  get(key: SelftestKey): SelftestRecord | undefined;
  /** every readable result, newest first */
  list(): SelftestRecord[];
}

interface Row {
  id: number;
  backend: string;
  tfjs_version: string;
  libtensorflow_version: string;
  native_package: string | null;
  native_version: string | null;
  ok: number;
  precision: string;
  checks_json: string;
  seconds: number;
  trigger: string;
  run_id: number | null;
  created_at: string;
}

function toRecord(r: Row): SelftestRecord | null {
  let checks: unknown;
  try {
    checks = JSON.parse(r.checks_json);
  } catch {
    return null;
  }
  const parsed = SelftestChecksSchema.safeParse(checks);
  if (!parsed.success || (r.precision !== 'float32' && r.precision !== 'tf32') || !(SELFTEST_TRIGGERS as readonly string[]).includes(r.trigger)) return null;
  return {
    id: r.id,
    backend: r.backend,
    tfjsVersion: r.tfjs_version,
    libtensorflowVersion: r.libtensorflow_version === '' ? null : r.libtensorflow_version,
    nativePackage: r.native_package,
    nativeVersion: r.native_version,
    ok: r.ok === 1,
    precision: r.precision,
    checks: parsed.data,
    seconds: r.seconds,
    trigger: r.trigger as SelftestTrigger,
    runId: r.run_id,
    createdAt: r.created_at,
  };
}

/** JSON has no Infinity (a check that threw): stored as null */
const finiteOrNull = (v: number | null): number | null => (v === null || !Number.isFinite(v) ? null : v);

export function createSelftestsRepo(db: Db, now: () => string): SelftestsRepo {
  const upsert = db.prepare(`
    INSERT INTO selftests (backend, tfjs_version, libtensorflow_version, native_package, native_version, ok, precision, checks_json, seconds, trigger, run_id, created_at)
    VALUES (@backend, @tfjs, @libtf, @nativePackage, @nativeVersion, @ok, @precision, @checks, @seconds, @trigger, @runId, @at)
    ON CONFLICT (backend, tfjs_version, libtensorflow_version) DO UPDATE SET
      native_package = excluded.native_package, native_version = excluded.native_version, ok = excluded.ok,
      precision = excluded.precision, checks_json = excluded.checks_json, seconds = excluded.seconds,
      trigger = excluded.trigger, run_id = excluded.run_id, created_at = excluded.created_at
    RETURNING *`);
  const byKey = db.prepare(`SELECT * FROM selftests WHERE backend = ? AND tfjs_version = ? AND libtensorflow_version = ?`);
  const all = db.prepare(`SELECT * FROM selftests ORDER BY created_at DESC, id DESC`);
  const remove = db.prepare(`DELETE FROM selftests WHERE id = ?`);
  return {
    put(i) {
      const row = upsert.get({
        backend: i.backend,
        tfjs: i.tfjsVersion,
        libtf: i.libtensorflowVersion ?? '',
        nativePackage: i.nativePackage,
        nativeVersion: i.nativeVersion,
        ok: i.ok ? 1 : 0,
        precision: i.precision,
        checks: JSON.stringify(i.checks.map((c) => ({ ...c, maxRelError: finiteOrNull(c.maxRelError) }))),
        seconds: i.seconds,
        trigger: i.trigger,
        runId: i.runId ?? null,
        at: now(),
      }) as Row;
      return toRecord(row) as SelftestRecord;
    },
    get(k) {
      const row = byKey.get(k.backend, k.tfjsVersion, k.libtensorflowVersion ?? '') as Row | undefined;
      if (!row) return undefined;
      const rec = toRecord(row);
      if (rec) return rec;
      remove.run(row.id);
      return undefined;
    },
    list() {
      return (all.all() as Row[]).map(toRecord).filter((r): r is SelftestRecord => r !== null);
    },
  };
}
