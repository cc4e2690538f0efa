// The service commands behind the Runs view's comparison and labels and the new-run form's range
// test: runs.setNotes / runs.setTags (validated at the boundary, announced to every client),
// export.compareCsv (the chosen runs' epochs with the differing hyperparameters), and lr.find on
// the demo dataset (progress events, no run created, refused while a run trains), and runs.probe
// (the new-run form's measured step time: real steps of the config, no run, refused while training).
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CSV_COLUMNS, type EpochMetrics } from '../../src-shared/metrics';
import { createService, type Service } from '../../src-main/service/service';
import { parseCsv } from '../e2e/helpers';
import { tempDir } from '../helpers/samples';
import { tinyConfig } from './tiny-config';
import { waitEvent } from './wait-event';

const services: Service[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
});
async function open(): Promise<Service> {
  const dir = tempDir('ws-compare-');
  const s = await createService({ dbPath: path.join(dir, 'ws.db'), dataDir: dir });
  services.push(s);
  return s;
}

function epoch(n: number, valTop1: number | null): EpochMetrics {
  return {
    epoch: n,
    trainLoss: 3 - n / 10,
    trainTop1: 20 + n,
    trainTop5: 40 + n,
    valLoss: valTop1 === null ? null : 3,
    valTop1,
    valTop5: valTop1 === null ? null : 60,
    lr: 0.1,
    momentum: 0.9,
    imagesPerSec: 100,
    epochSeconds: 60,
    skippedFiles: 0,
    imageSize: 224,
  };
}

describe('notes, tags and the comparison CSV', () => {
  it('runs.setNotes / runs.setTags change the row, announce it, and refuse bad tags naming the field', async () => {
    const svc = await open();
    const run = svc.store.runs.create({ name: 'r', config: { name: 'r' }, seed: 1, targetEpochs: 1, status: 'completed' });
    const announced = waitEvent(svc, 'run.status', (p) => p.run.id === run.id && p.run.tags.includes('b'));
    const tagged = await svc.call('runs.setTags', { runId: run.id, tags: ['b', ' a ', 'b'] });
    expect(tagged.tags).toEqual(['a', 'b']);
    expect((await announced).run.tags).toEqual(['a', 'b']);
    expect((await svc.call('runs.setNotes', { runId: run.id, notes: 'looks good' })).notes).toBe('looks good');
    expect((await svc.call('runs.list', {}))[0]).toMatchObject({ notes: 'looks good', tags: ['a', 'b'] });
    await expect(svc.call('runs.setTags', { runId: run.id, tags: ['ok', 'x;y'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'tags.1' });
    await expect(svc.call('runs.setTags', { runId: 99, tags: [] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(svc.call('runs.setNotes', { runId: run.id, notes: 'x'.repeat(20_001) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'notes' });
  });

  it("export.compareCsv: every chosen run's epochs, best and last val top-1, and one column per differing config field", async () => {
    const svc = await open();
    const base = tinyConfig({ name: 'a' });
    const a = svc.store.runs.create({ name: 'a', config: base, seed: 1, targetEpochs: 3, status: 'completed' });
    const b = svc.store.runs.create({
      name: 'b',
      config: { ...base, name: 'b', optimizer: { lr: 0.05 }, train: { ...(base.train as object), batchSize: 16 } },
      seed: 1,
      targetEpochs: 3,
      status: 'completed',
    });
    for (const [n, v] of [
      [1, 30],
      [2, 45],
      [3, 41],
    ])
      svc.store.metrics.addEpoch(a.id, epoch(n, v));
    svc.store.metrics.addEpoch(b.id, epoch(1, 20));
    svc.store.metrics.addEpoch(b.id, epoch(2, null));
    svc.store.runs.setTags(b.id, ['x', 'y']);
    const out = await svc.call('export.compareCsv', { runIds: [b.id, a.id] });
    expect(out.fields).toEqual(['optimizer.lr', 'train.batchSize']);
    expect(out.rows).toBe(5);
    expect(out.filename).toBe(`compare_runs-${b.id}-${a.id}.csv`);
    const rows = parseCsv(out.csv);
    expect(rows[0]).toEqual([...CSV_COLUMNS, 'best_val_top1', 'last_val_top1', 'optimizer.lr', 'train.batchSize']);
    const col = (r: string[], name: string) => r[rows[0].indexOf(name)];
    expect(
      rows
        .slice(1)
        .map((r) => [
          col(r, 'run_id'),
          col(r, 'epoch'),
          col(r, 'best_val_top1'),
          col(r, 'last_val_top1'),
          col(r, 'optimizer.lr'),
          col(r, 'train.batchSize'),
          col(r, 'run_tags'),
        ]),
    ).toEqual([
      [String(b.id), '1', '20', '20', '0.05', '16', 'x; y'],
      [String(b.id), '2', '20', '20', '0.05', '16', 'x; y'],
      [String(a.id), '1', '45', '41', '0.01', '8', ''],
      [String(a.id), '2', '45', '41', '0.01', '8', ''],
      [String(a.id), '3', '45', '41', '0.01', '8', ''],
    ]);
    await expect(svc.call('export.compareCsv', { runIds: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('lr.find', () => {
  it('runs the range test on the demo dataset with progress events and creates no run; refused while a run trains', async () => {
    const svc = await open();
    const progress: number[] = [];
    svc.on('lr.find.progress', (p) => progress.push(p.step));
    const r = await svc.call('lr.find', { config: tinyConfig({ steps: 3 }), steps: 8, minLr: 1e-4, maxLr: 1 });
    expect(r.lr.length).toBe(r.steps);
    expect(r.steps).toBeGreaterThan(1);
    expect(r.steps).toBeLessThanOrEqual(8);
    expect(progress).toEqual(Array.from({ length: r.steps }, (_, i) => i + 1));
    expect(r.backend).toBe('cpu');
    expect(await svc.call('runs.list', {})).toEqual([]);
    await expect(svc.call('lr.find', { config: { train: { batchSize: 0 } } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'config.train.batchSize',
    });
    await expect(svc.call('lr.find', { config: {}, minLr: 1, maxLr: 0.5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'maxLr' });
    await expect(svc.call('lr.find', { config: {}, checkpointId: 42 })).rejects.toMatchObject({ code: 'NOT_FOUND', field: 'checkpointId' });

    const stepped = waitEvent(svc, 'run.step', (p) => p.phase === 'train');
    const run = svc.runs.start({ config: tinyConfig({ name: 'busy', epochs: 20, steps: 4 }) });
    await stepped;
    await expect(svc.call('lr.find', { config: tinyConfig() })).rejects.toMatchObject({ code: 'INVALID_STATE', message: expect.stringMatching(/is training/) });
    svc.runs.stop(run.id);
    await svc.runs.whenFinished(run.id);
  });
});

describe('runs.probe', () => {
  it("times real steps of the form's config on the backend it gets, with the epoch's length; creates no run; refused while a run trains", async () => {
    const svc = await open();
    // with steps a cap of 2 and maxStepsPerEpoch 5: 1 warm-up + 3 timed steps need a second epoch of batches
    const r = await svc.call('runs.probe', { config: tinyConfig({ steps: 2 }), steps: 3 });
    expect(r).toMatchObject({ backend: 'cpu', gpu: null, steps: 3, batchSize: 8, imageSize: 32, trainStepsPerEpoch: 2, valStepsPerEpoch: 1 });
    expect(r.secondsPerStep).toBeGreaterThan(0);
    expect(r.warmupSeconds).toBeGreaterThan(0);
    expect(r.dataWaitFraction).toBeGreaterThanOrEqual(0);
    expect(r.dataWaitFraction).toBeLessThanOrEqual(1);
    expect(r.trainEpochSeconds).toBeCloseTo(2 * r.secondsPerStep, 12);
    expect(await svc.call('runs.list', {})).toEqual([]);
    // a bigger batch is a bigger step: the figure follows the config, it is not a constant
    const big = await svc.call('runs.probe', { config: { ...tinyConfig({ steps: 2 }), train: { epochs: 1, batchSize: 64, logEverySteps: 1 } }, steps: 1 });
    expect(big.batchSize).toBe(64);
    expect(big.trainStepsPerEpoch).toBe(2);
    await expect(svc.call('runs.probe', { config: { train: { batchSize: 0 } } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'config.train.batchSize',
    });
    await expect(svc.call('runs.probe', { config: tinyConfig(), steps: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });

    const stepped = waitEvent(svc, 'run.step', (p) => p.phase === 'train');
    const run = svc.runs.start({ config: tinyConfig({ name: 'busy', epochs: 20, steps: 4 }) });
    await stepped;
    await expect(svc.call('runs.probe', { config: tinyConfig() })).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message: expect.stringMatching(/is training/),
    });
    svc.runs.stop(run.id);
    await svc.runs.whenFinished(run.id);
  }, 120_000);
});
