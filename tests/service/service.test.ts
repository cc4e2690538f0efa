// The training service in-process (the same code `serve` and the CLI run): typed errors for bad
// input, queueing, pause/resume, live augmentation, stop + resume, fork (child run) with its
// config diff, lineage CSV, deletion (files only when asked), dataset status and preview.
// Real SQLite (temp file), real tfjs CPU on the generated demo dataset, real sharp.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../src-shared/metrics';
import { createService, type Service } from '../../src-main/service/service';
import { tempDir } from '../helpers/samples';
import { tinyConfig } from './tiny-config';
import { waitEvent, waitStatus } from './wait-event';

let service: Service;
let dir: string;

async function expectError(p: Promise<unknown>, code: string, field?: string): Promise<Error & { code: string; field?: string }> {
  const e = (await p.then(
    () => {
      throw new Error(`expected ${code}, got a result`);
    },
    (err: unknown) => err,
  )) as Error & { code: string; field?: string };
  expect(e.code, e.message).toBe(code);
  if (field !== undefined) expect(e.field, e.message).toBe(field);
  return e;
}

beforeAll(async () => {
  dir = tempDir('svc-');
  service = await createService({ dbPath: path.join(dir, 'svc.db'), dataDir: path.join(dir, 'data') });
});

afterAll(async () => {
  await service?.close();
});

describe('bad input', () => {
  it('gets typed errors naming the field, and the service keeps serving', async () => {
    await expectError(service.dispatch('runs.explode', {}), 'INVALID_COMMAND', 'command');
    await expectError(service.dispatch('runs.get', { runId: 0 }), 'INVALID_ARGUMENT', 'runId');
    await expectError(service.dispatch('runs.get', { runId: 1, extra: true }), 'INVALID_ARGUMENT', 'extra');
    await expectError(service.dispatch('runs.get', null), 'INVALID_ARGUMENT', 'runId');
    const unknownField = await expectError(service.call('runs.start', { config: { train: { epocs: 3 } } }), 'INVALID_CONFIG', 'train.epocs');
    expect(unknownField.message).toMatch(/train\.epocs: unknown field/);
    await expectError(service.call('runs.start', { config: { optimizer: { lr: -1 } } }), 'INVALID_CONFIG', 'optimizer.lr');
    await expectError(service.call('runs.pause', { runId: 42 }), 'NOT_FOUND', 'runId');
    // deleting must say whether files go too: never a silent default
    await expectError(service.dispatch('runs.delete', { runId: 1 }), 'INVALID_ARGUMENT', 'deleteFiles');
    await expectError(service.call('runs.fork', { checkpointId: 99, overrides: {} }), 'NOT_FOUND', 'checkpointId');
    await expectError(service.call('augment.preview', { images: ['/etc/hostname.png'], count: 1, seed: 0 }), 'UNAUTHORIZED', 'images.0');
    expect(await service.call('runs.list', {})).toEqual([]);
    expect(await service.call('state.get', {})).toEqual({ activeRun: null, progress: null, queue: [], augment: null });
  });
});

describe('runs', () => {
  it('trains one run at a time: a second start is queued; pause, resume and live augmentation are recorded', async () => {
    const aDone = new Promise<number>((resolve) => service.on('run.status', (p) => p.run.name === 'a' && p.run.status === 'completed' && resolve(p.run.id)));
    const firstStep = waitEvent(service, 'run.step', (p) => p.phase === 'train');
    const a = await service.call('runs.start', { config: tinyConfig({ name: 'a', epochs: 2, steps: 3 }) });
    expect(a.status).toBe('running');
    const b = await service.call('runs.start', { config: tinyConfig({ name: 'b', epochs: 1, steps: 2 }) });
    expect(b.status).toBe('queued');
    const bDone = waitStatus(service, b.id, ['completed', 'failed']);
    const state = await service.call('state.get', {});
    expect(state.activeRun?.id).toBe(a.id);
    expect(state.queue).toEqual([b.id]);

    const step = await firstStep;
    expect(step.runId).toBe(a.id);
    const { effectiveFromStep } = await service.call('runs.updateAugment', { runId: a.id, patch: { colorJitter: { brightness: 0.4 }, hflip: 0.25 } });
    expect(effectiveFromStep).toBeGreaterThanOrEqual(1);
    const live = await service.call('state.get', {});
    expect(live.augment).toMatchObject({ hflip: 0.25, colorJitter: { brightness: 0.4 } });
    expect(live.progress?.runId).toBe(a.id);

    expect((await service.call('runs.pause', { runId: a.id })).status).toBe('paused');
    await expectError(service.call('runs.pause', { runId: a.id }), 'INVALID_STATE', 'runId');
    expect((await service.call('runs.resume', { runId: a.id })).status).toBe('running');
    await expectError(service.call('runs.updateAugment', { runId: b.id, patch: { hflip: 0 } }), 'INVALID_STATE', 'runId');

    expect(await aDone).toBe(a.id);
    const bFinal = await bDone;
    expect(bFinal.status).toBe('completed');

    const got = await service.call('runs.get', { runId: a.id });
    expect(got.run).toMatchObject({ status: 'completed', lastEpoch: 2, targetEpochs: 2, backend: 'cpu' });
    expect(got.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(got.steps.length).toBe(6);
    expect(got.checkpoints.map((c) => c.epoch)).toEqual([1, 2]);
    for (const c of got.checkpoints) expect(fs.existsSync(c.path)).toBe(true);
    expect(got.checkpoints[0].path.startsWith(path.join(dir, 'data', 'runs', String(a.id), 'checkpoints'))).toBe(true);
    const kinds = got.events.map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['augment', 'pause', 'resume']));
    // the backend and why it was chosen are recorded with the run
    const backendNote = got.events.find((e) => e.kind === 'note' && e.data.backend !== undefined);
    expect(backendNote?.data).toMatchObject({ backend: 'cpu' });
    expect(String(backendNote?.data.reason)).toMatch(/\S/);
    const aug = got.events.find((e) => e.kind === 'augment');
    expect(aug?.globalStep).toBe(effectiveFromStep);
    expect(aug?.data.patch).toEqual({ colorJitter: { brightness: 0.4 }, hflip: 0.25 });
    // b waited for a: it started only after a ended
    expect(bFinal.startedAt! >= got.run.endedAt!).toBe(true);

    const info = await service.call('system.info', {});
    expect(info.backend).toBe('cpu');
    expect(info.trainImagesPerSec).toBeGreaterThan(0);
    expect(info.dataImagesPerSec).toBeGreaterThan(0);
  });

  it('forks a child run from a checkpoint with overrides, recorded with its config diff; lineage CSV is continuous', async () => {
    const a = (await service.call('runs.list', {})).find((r) => r.name === 'a')!;
    const cps = await service.call('checkpoints.list', { runId: a.id });
    const cp = cps.find((c) => c.epoch === 2)!;
    const child = await service.call('runs.fork', { checkpointId: cp.id, overrides: { train: { epochs: 3 }, augment: { hflip: 0 } }, name: 'a-child' });
    expect(child).toMatchObject({ name: 'a-child', parentRunId: a.id, parentCheckpointId: cp.id, forkEpoch: 2, targetEpochs: 3 });
    const done = await waitStatus(service, child.id, ['completed', 'failed']);
    expect(done.error).toBeNull();
    const got = await service.call('runs.get', { runId: child.id });
    expect(got.epochs.map((e) => e.epoch)).toEqual([3]);
    expect(got.config).toMatchObject({ train: { epochs: 3 }, augment: { hflip: 0 } });
    const fork = got.events.find((e) => e.kind === 'fork');
    expect(fork?.data).toMatchObject({ parentRunId: a.id, forkEpoch: 2, resumeMode: 'fork' });
    const fields = (fork?.data.diff as { field: string }[]).map((d) => d.field).sort();
    expect(fields).toEqual(['augment.hflip', 'train.epochs']);

    const csv = await service.call('export.csv', { runId: child.id, lineage: true });
    expect(csv.rows).toBe(3);
    const lines = csv.csv.trim().split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual([`${a.id},a,1`, `${a.id},a,2`, `${child.id},a-child,3`]);

    // fork targets must lie after the checkpoint
    await expectError(service.call('runs.fork', { checkpointId: cp.id, overrides: { train: { epochs: 2 } } }), 'INVALID_ARGUMENT', 'overrides.train.epochs');
    await expectError(service.call('runs.fork', { checkpointId: cp.id, overrides: { train: { epocs: 9 } } }), 'INVALID_ARGUMENT', 'overrides.train.epocs');
  });

  it('stops a queued run at once and a training run at a step boundary; a stopped run resumes from its last checkpoint', async () => {
    const firstEpoch = waitEvent(service, 'checkpoint.saved', (c) => c.epoch === 1);
    const c = await service.call('runs.start', { config: tinyConfig({ name: 'c', epochs: 3, steps: 2 }) });
    const d = await service.call('runs.start', { config: tinyConfig({ name: 'd', epochs: 1 }) });
    expect(d.status).toBe('queued');
    expect((await service.call('runs.stop', { runId: d.id })).status).toBe('stopped');
    expect((await service.call('state.get', {})).queue).toEqual([]);
    await firstEpoch;
    const stopped = waitStatus(service, c.id, ['stopped', 'completed']);
    await service.call('runs.stop', { runId: c.id });
    const s = await stopped;
    expect(s.status).toBe('stopped');
    const lastEpoch = s.lastEpoch!;
    expect(lastEpoch).toBeGreaterThanOrEqual(1);

    const resumed = waitStatus(service, c.id, ['completed', 'failed']);
    expect((await service.call('runs.resume', { runId: c.id })).id).toBe(c.id);
    const final = await resumed;
    expect(final.status).toBe('completed');
    const got = await service.call('runs.get', { runId: c.id });
    expect(got.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(got.events.find((e) => e.kind === 'resume' && e.data.mode === 'checkpoint')).toBeTruthy();
    await expectError(service.call('runs.resume', { runId: c.id }), 'INVALID_STATE', 'runId');
  });

  it('deletes runs: files only when asked; a parent with children is refused', async () => {
    const runs = await service.call('runs.list', {});
    const a = runs.find((r) => r.name === 'a')!;
    const child = runs.find((r) => r.name === 'a-child')!;
    const b = runs.find((r) => r.name === 'b')!;
    await expectError(service.call('runs.delete', { runId: a.id, deleteFiles: true }), 'INVALID_STATE', 'runId');
    const childFiles = (await service.call('checkpoints.list', { runId: child.id })).filter((c) => c.exists).map((c) => c.path);
    expect(childFiles.length).toBeGreaterThan(0);
    expect(await service.call('runs.delete', { runId: child.id, deleteFiles: true })).toEqual({ deletedRuns: 1, deletedFiles: childFiles.length });
    for (const f of childFiles) expect(fs.existsSync(f)).toBe(false);
    const bFiles = (await service.call('checkpoints.list', { runId: b.id })).filter((c) => c.exists).map((c) => c.path);
    expect(await service.call('runs.delete', { runId: b.id, deleteFiles: false })).toEqual({ deletedRuns: 1, deletedFiles: 0 });
    for (const f of bFiles) expect(fs.existsSync(f)).toBe(true);
    await expectError(service.call('runs.get', { runId: b.id }), 'NOT_FOUND', 'runId');

    const aCps = await service.call('checkpoints.list', { runId: a.id });
    expect(await service.call('checkpoints.delete', { checkpointId: aCps[0].id, deleteFile: true })).toEqual({ deleted: true });
    expect(fs.existsSync(aCps[0].path)).toBe(false);
    expect((await service.call('checkpoints.list', { runId: a.id })).map((c) => c.id)).not.toContain(aCps[0].id);
  });
});

describe('dataset and preview', () => {
  it('gives the demo dataset status with sample images and renders deterministic previews of them', async () => {
    const status = await service.call('dataset.status', { samples: 4 });
    expect(status.summary).toMatchObject({ demo: true, classes: 10 });
    expect(status.summary.train.images).toBeGreaterThan(0);
    expect(status.sampleImages).toHaveLength(4);
    const params = { images: status.sampleImages.slice(0, 2), count: 3, seed: 7, size: 48, params: { colorJitter: { p: 1 } } };
    const one = await service.call('augment.preview', params);
    expect(one.samples).toHaveLength(3);
    for (const s of one.samples) expect([...Buffer.from(s.pngBase64, 'base64').subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(one.samples[0].params.jitter?.applied).toBe(true);
    const digest = (r: typeof one) => r.samples.map((s) => createHash('sha256').update(s.pngBase64).digest('hex'));
    const again = await service.call('augment.preview', params);
    expect(digest(again)).toEqual(digest(one));
    expect(again.samples.map((s) => s.params)).toEqual(one.samples.map((s) => s.params));
    const other = await service.call('augment.preview', { ...params, seed: 8 });
    expect(digest(other)).not.toEqual(digest(one));
  });
});
