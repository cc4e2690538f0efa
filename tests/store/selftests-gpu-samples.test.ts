// Migration 0005's tables on a real SQLite file. Self-test results (store/selftests-repo.ts): one
// per backend + tfjs + libtensorflow version, replaced when the self-test runs again, a check that
// threw (Infinity) stored as null, a row that no longer parses counts as none and is removed, the
// run it was taken for cleared when the run is deleted; all of it survives reopening. GPU samples
// (store/gpu-samples-repo.ts): stored per run, oldest first, thinned to a bound (every second
// sample time, all GPUs of a query together, the newest kept), deleted with their run.
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { GpuSample } from '../../src-shared/api/schemas';
import { openStore, type SelftestInput, type Store, type StoreOptions } from '../../src-main/store/index';
import { tempDir } from '../helpers/samples';

const opened: Store[] = [];
function open(file: string, o: StoreOptions = {}): Store {
  let t = Date.parse('2026-01-01T00:00:00Z');
  const s = openStore(file, { now: () => new Date((t += 1000)), ...o });
  opened.push(s);
  return s;
}
afterEach(() => {
  while (opened.length) opened.pop()!.close();
});

const result = (over: Partial<SelftestInput> = {}): SelftestInput => ({
  backend: 'tensorflow-gpu',
  tfjsVersion: '4.22.0',
  libtensorflowVersion: '2.9.1',
  nativePackage: '@tensorflow/tfjs-node-gpu',
  nativeVersion: '4.22.0',
  ok: true,
  precision: 'tf32',
  checks: [
    { name: 'WsConv2D 3x3/1: value, dx, dw', ok: true, maxRelError: 1e-6, tolerance: 1e-2 },
    { name: 'WsColorJitter', ok: true, maxRelError: 0, tolerance: 0, skipped: 'no kernel' },
  ],
  seconds: 12.5,
  trigger: 'first-run',
  ...over,
});

describe('self-test results', () => {
  it('one per backend + tfjs + libtensorflow version; running again replaces it; survives reopening', () => {
    const file = path.join(tempDir('ws-st-'), 'ws.db');
    let store = open(file);
    const run = store.runs.create({ name: 'r', config: {}, seed: 0, targetEpochs: 1 });
    const a = store.selftests.put(result({ runId: run.id }));
    expect(a).toMatchObject({ backend: 'tensorflow-gpu', libtensorflowVersion: '2.9.1', ok: true, runId: run.id, trigger: 'first-run', seconds: 12.5 });
    expect(a.checks[1].skipped).toBe('no kernel');
    const key = { backend: 'tensorflow-gpu', tfjsVersion: '4.22.0', libtensorflowVersion: '2.9.1' };
    expect(store.selftests.get(key)).toEqual(a);
    // another libtensorflow (the 2.18 swap) or backend is another result
    expect(store.selftests.get({ ...key, libtensorflowVersion: '2.18.0' })).toBeUndefined();
    expect(store.selftests.get({ ...key, backend: 'tensorflow' })).toBeUndefined();
    store.selftests.put(result({ libtensorflowVersion: '2.18.0', ok: false }));
    store.selftests.put(
      result({ backend: 'cpu', libtensorflowVersion: null, nativePackage: null, nativeVersion: null, precision: 'float32', trigger: 'manual' }),
    );
    expect(store.selftests.get({ backend: 'cpu', tfjsVersion: '4.22.0', libtensorflowVersion: null })).toMatchObject({ libtensorflowVersion: null });
    // running it again: a failed check that threw, stored in place of the passed result
    const again = store.selftests.put(
      result({
        ok: false,
        trigger: 'manual',
        checks: [{ name: 'WsSgdUpdate', ok: false, maxRelError: Infinity as unknown as number, tolerance: 1e-6, error: 'boom' }],
      }),
    );
    expect(again.id).toBe(a.id);
    expect(again).toMatchObject({ ok: false, trigger: 'manual', runId: null, checks: [{ name: 'WsSgdUpdate', maxRelError: null, error: 'boom' }] });
    expect(store.selftests.list().map((r) => [r.backend, r.libtensorflowVersion, r.ok])).toEqual([
      ['tensorflow-gpu', '2.9.1', false],
      ['cpu', null, true],
      ['tensorflow-gpu', '2.18.0', false],
    ]);
    store.close();
    store = open(file);
    expect(store.selftests.get(key)).toMatchObject({ ok: false, trigger: 'manual' });
    expect(store.selftests.list()).toHaveLength(3);
  });

  it('a row that no longer parses counts as no result and is removed; deleting the run keeps the result', () => {
    const file = path.join(tempDir('ws-st-'), 'ws.db');
    const store = open(file);
    const run = store.runs.create({ name: 'r', config: {}, seed: 0, targetEpochs: 1 });
    store.selftests.put(result({ runId: run.id }));
    store.selftests.put(result({ backend: 'tensorflow', precision: 'float32' }));
    const raw = new Database(file);
    raw.prepare(`UPDATE selftests SET checks_json = '{not json' WHERE backend = 'tensorflow'`).run();
    raw.close();
    const key = { backend: 'tensorflow', tfjsVersion: '4.22.0', libtensorflowVersion: '2.9.1' };
    expect(store.selftests.list().map((r) => r.backend)).toEqual(['tensorflow-gpu']);
    expect(store.selftests.get(key)).toBeUndefined();
    const check = new Database(file);
    expect(check.prepare(`SELECT COUNT(*) AS n FROM selftests`).get()).toEqual({ n: 1 });
    check.close();
    // a new result for that key can be stored again
    expect(store.selftests.put(result({ backend: 'tensorflow', precision: 'float32' })).ok).toBe(true);
    store.runs.delete(run.id);
    expect(store.selftests.get({ ...key, backend: 'tensorflow-gpu' })).toMatchObject({ runId: null });
  });
});

const sampleAt = (i: number, index: number): GpuSample => ({
  at: new Date(Date.parse('2026-01-01T10:00:00Z') + i * 5000).toISOString(),
  index,
  utilization: i % 100,
  memoryUsedMiB: 1000 + i,
  powerW: index === 1 ? null : 150.5,
  temperatureC: 60,
});

describe('GPU samples of a run', () => {
  it('stored per run, oldest first, bounded by thinning every second time (both GPUs of a query together), deleted with the run', () => {
    const file = path.join(tempDir('ws-gpu-'), 'ws.db');
    let store = open(file, { gpuSampleTimesPerRun: 10 });
    const run = store.runs.create({ name: 'r', config: {}, seed: 0, targetEpochs: 1 });
    const other = store.runs.create({ name: 'o', config: {}, seed: 0, targetEpochs: 1 });
    store.gpuSamples.add(other.id, [sampleAt(0, 0)]);
    store.gpuSamples.add(run.id, []); // nothing to add
    for (let i = 0; i < 10; i++) store.gpuSamples.add(run.id, [sampleAt(i, 0), sampleAt(i, 1)]);
    expect(store.gpuSamples.times(run.id)).toBe(10);
    const full = store.gpuSamples.list(run.id);
    expect(full).toHaveLength(20);
    expect(full[0]).toEqual(sampleAt(0, 0));
    expect(full[1]).toEqual(sampleAt(0, 1));
    // the 11th time goes past the bound: every second time is dropped, the newest kept
    store.gpuSamples.add(run.id, [sampleAt(10, 0), sampleAt(10, 1)]);
    const thinned = store.gpuSamples.list(run.id);
    const times = [...new Set(thinned.map((s) => s.at))];
    expect(times).toEqual([0, 2, 4, 6, 8, 10].map((i) => sampleAt(i, 0).at));
    for (const t of times) expect(thinned.filter((s) => s.at === t).map((s) => s.index)).toEqual([0, 1]);
    // a long run stays bounded
    for (let i = 11; i < 200; i++) store.gpuSamples.add(run.id, [sampleAt(i, 0), sampleAt(i, 1)]);
    expect(store.gpuSamples.times(run.id)).toBeLessThanOrEqual(10);
    const kept = store.gpuSamples.list(run.id);
    expect(kept.at(-1)).toEqual(sampleAt(199, 1));
    expect(Date.parse(kept[0].at)).toBeLessThan(Date.parse(sampleAt(100, 0).at)); // the early run is still represented
    expect(store.gpuSamples.list(other.id)).toEqual([sampleAt(0, 0)]);
    store.close();
    store = open(file, { gpuSampleTimesPerRun: 10 });
    expect(store.gpuSamples.list(run.id)).toEqual(kept);
    store.runs.delete(run.id);
    expect(store.gpuSamples.list(run.id)).toEqual([]);
    expect(store.gpuSamples.times(other.id)).toBe(1);
  });
});
