// augment.preview while a run trains in the same service: the training step is synchronous tfjs
// on the service's main thread, so a preview that took one event-loop turn per image (or queued
// behind the training decode tasks) waited for dozens of steps. Now the preview is one task for its
// own worker and the training lane holds its next batch while it runs: it resolves before the run
// completes a few more steps, with the same pixels as with nothing training.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLASSES, demoWnid } from '../../src-main/data/demo-dataset';
import { createService, type Service } from '../../src-main/service/service';
import { tempDir } from '../helpers/samples';
import { tinyConfig } from './tiny-config';
import { waitEvent, waitStatus } from './wait-event';

let service: Service;
let dir: string;

beforeAll(async () => {
  dir = tempDir('svc-preview-');
  service = await createService({ dbPath: path.join(dir, 'svc.db'), dataDir: path.join(dir, 'data') });
});

afterAll(async () => {
  await service?.close();
});

describe('augment.preview while a run trains', () => {
  it('resolves before the run completes 3 more steps, with the pixels of an idle preview', async () => {
    const firstStep = waitEvent(service, 'run.step', (p) => p.phase === 'train');
    const run = await service.call('runs.start', { config: tinyConfig({ name: 'busy', epochs: 1, steps: 400 }) });
    await firstStep;
    const demo = path.join(dir, 'data', 'demo-dataset', 'train');
    const images = DEMO_CLASSES.slice(0, 8).map((_, c) => path.join(demo, demoWnid(c), `${demoWnid(c)}_train_0000.JPEG`));
    const ask = { images, count: 8, seed: 4, size: 224, params: { colorJitter: { p: 1 } } };

    let steps = 0;
    const off = service.on('run.step', (p) => {
      if (p.phase === 'train') steps++;
    });
    const busy = await service.call('augment.preview', ask);
    off();
    expect(busy.samples).toHaveLength(8);
    expect(steps).toBeLessThan(3);
    // it was still training: the answer did not wait for the run to end
    expect((await service.call('state.get', {})).activeRun?.id).toBe(run.id);

    const stopped = waitStatus(service, run.id, ['stopped', 'completed', 'failed']);
    await service.call('runs.stop', { runId: run.id });
    expect((await stopped).status).toBe('stopped');
    const idle = await service.call('augment.preview', ask);
    expect(idle.samples.map((s) => s.pngBase64)).toEqual(busy.samples.map((s) => s.pngBase64));
    expect(idle.samples.map((s) => s.params)).toEqual(busy.samples.map((s) => s.params));
  });
});
