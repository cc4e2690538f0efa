// Evaluations in the training service (eval.* commands, eval-manager.ts), in-process on a real
// store and the demo dataset with tfjs CPU: an evaluation asked for while a run trains waits
// (queued, saying for what) and runs when the run ends; a run started while an evaluation runs
// waits for it and starts when it is cancelled; a completed evaluation is stored and readable
// (eval.list / eval.get) and its mistakes' images are served by dataset.file under the
// `/api/file` allow-list; bad requests are typed errors.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvalJob } from '../../src-shared/api/schemas';
import { createService, type Service } from '../../src-main/service/service';
import { tempDir } from '../helpers/samples';
import { tinyConfig } from './tiny-config';
import { waitEvent, waitStatus } from './wait-event';

let service: Service;
let dir: string;

beforeAll(async () => {
  dir = tempDir('svc-eval-');
  service = await createService({ dbPath: path.join(dir, 'svc.db'), dataDir: path.join(dir, 'data'), autoResume: false });
});

afterAll(async () => {
  await service?.close();
});

const ended = (j: EvalJob) => j.state === 'completed' || j.state === 'cancelled' || j.state === 'failed';

async function expectError(p: Promise<unknown>, code: string, field?: string): Promise<void> {
  const e = (await p.then(
    () => new Error(`expected ${code}, got a result`),
    (err: unknown) => err,
  )) as Error & { code?: string; field?: string };
  expect(e.code, e.message).toBe(code);
  if (field) expect(e.field, e.message).toBe(field);
}

describe('evaluations in the service', () => {
  it('wait for the training run and run after it; a run started meanwhile waits for the evaluation', async () => {
    await expectError(service.call('eval.start', { checkpointId: 999 }), 'NOT_FOUND', 'checkpointId');
    await expectError(service.dispatch('eval.start', { checkpointId: 1, protocol: 'ten-crop' }), 'INVALID_ARGUMENT', 'protocol');
    await expectError(service.call('eval.get', { evaluationId: 5 }), 'NOT_FOUND', 'evaluationId');

    // a first run gives a checkpoint; a second, longer one trains while we ask for an evaluation
    const first = await service.call('runs.start', { config: tinyConfig({ name: 'ev-first', epochs: 1, steps: 2 }) });
    await waitStatus(service, first.id, ['completed']);
    const cp = (await service.call('checkpoints.list', { runId: first.id }))[0];
    const training = await service.call('runs.start', { config: tinyConfig({ name: 'ev-busy', epochs: 1, steps: 12 }) });
    await waitEvent(service, 'run.step', (p) => p.runId === training.id);

    const jobs: EvalJob[] = [];
    const off = service.on('eval.progress', (j) => jobs.push(j));
    const job = await service.call('eval.start', { checkpointId: cp.id });
    expect(job).toMatchObject({ state: 'queued', checkpointId: cp.id, runId: first.id, protocol: 'run', tta: 'none', split: 'val' });
    expect(job.waitingFor).toMatch(new RegExp(`run ${training.id} .*training`));
    const done = waitEvent(service, 'eval.progress', (j) => j.evalId === job.evalId && ended(j), 300_000);
    const runEnd = waitStatus(service, training.id, ['completed']);
    const result = await done;
    // it started only once the run had ended
    expect((await runEnd).status).toBe('completed');
    expect(result.state).toBe('completed');
    const firstRunning = jobs.findIndex((j) => j.evalId === job.evalId && j.state === 'running');
    expect(firstRunning).toBeGreaterThan(0);
    expect(jobs.filter((j) => j.evalId === job.evalId && j.state === 'running').every((j) => j.images <= (j.totalImages ?? 0))).toBe(true);

    // stored: the summary in eval.list, the details in eval.get
    const list = await service.call('eval.list', { checkpointId: cp.id });
    expect(list.map((e) => e.id)).toEqual([result.evaluationId]);
    const ev = await service.call('eval.get', { evaluationId: result.evaluationId! });
    expect(ev.images).toBe(600);
    expect(ev.perClass).toHaveLength(10);
    const hits = ev.perClass.reduce((s, c) => s + Math.round(((c.top1 ?? 0) * c.images) / 100), 0);
    expect(ev.confusions.reduce((s, c) => s + c.count, 0)).toBe(ev.images - hits);
    expect(ev.checkpoint).toMatchObject({ path: cp.path, epoch: 1, kind: 'epoch' });
    expect((await service.call('eval.jobs', {}))[0]).toMatchObject({ evalId: job.evalId, state: 'completed', evaluationId: ev.id });

    // the gallery's images: a mistake's file comes through dataset.file, a file outside the roots does not
    if (ev.mistakes.length) {
      const img = await service.call('dataset.file', { path: ev.mistakes[0].path });
      expect(img.contentType).toBe('image/jpeg');
      expect(Buffer.from(img.base64, 'base64').equals(fs.readFileSync(ev.mistakes[0].path))).toBe(true);
    }
    const outside = path.join(dir, 'outside.jpg');
    fs.copyFileSync(path.join(dir, 'data', 'demo-dataset', 'val', 'n00000001', 'n00000001_val_0000.JPEG'), outside);
    await expectError(service.call('dataset.file', { path: outside }), 'UNAUTHORIZED', 'path');

    // --- a long evaluation holds the slot: a run started now waits for it --------------------
    const slow = await service.call('eval.start', { checkpointId: cp.id, protocol: 'center-crop', tta: 'flip' });
    await waitEvent(service, 'eval.progress', (j) => j.evalId === slow.evalId && j.state === 'running' && j.images > 0, 300_000);
    const waiting = await service.call('runs.start', { config: tinyConfig({ name: 'ev-after', epochs: 1, steps: 1 }) });
    expect(waiting.status).toBe('queued');
    await new Promise((r) => setTimeout(r, 500));
    expect((await service.call('runs.get', { runId: waiting.id })).run.status).toBe('queued');
    expect((await service.call('state.get', {})).activeRun).toBeNull();
    const started = waitStatus(service, waiting.id, ['running', 'completed']);
    const cancelled = waitEvent(service, 'eval.progress', (j) => j.evalId === slow.evalId && ended(j));
    await service.call('eval.cancel', { evalId: slow.evalId });
    expect((await cancelled).state).toBe('cancelled');
    await started;
    await waitStatus(service, waiting.id, ['completed']);
    off();
    // nothing stored for the cancelled one
    expect((await service.call('eval.list', { checkpointId: cp.id })).length).toBe(1);
  });
});
