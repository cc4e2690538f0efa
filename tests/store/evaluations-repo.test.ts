// Stored evaluations (store/evaluations-repo.ts over migration 0003's `evaluations` table) on a
// real SQLite file: a finished evaluation round-trips with its per-class table, confusions and
// mistakes; lists filter by checkpoint and run, newest first; NaN totals (an empty split) are
// stored as null; bad values and unknown checkpoints are refused; deleting the checkpoint or the
// run deletes its evaluations; the rows survive reopening the file.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isWorkstationError } from '../../src-shared/errors';
import { openStore, type EvaluationInput, type Store } from '../../src-main/store/index';
import { tempDir } from '../helpers/samples';

const opened: Store[] = [];
function open(file = path.join(tempDir('ws-evals-'), 'ws.db')): Store {
  let t = Date.parse('2025-01-01T00:00:00Z');
  const s = openStore(file, { now: () => new Date((t += 1000)) });
  opened.push(s);
  return s;
}
afterEach(() => {
  while (opened.length) opened.pop()!.close();
});

function setup(store: Store) {
  const run = store.runs.create({ name: 'r', config: { name: 'r' }, seed: 0, targetEpochs: 2 });
  const other = store.runs.create({ name: 'o', config: { name: 'o' }, seed: 0, targetEpochs: 2 });
  const ck = (runId: number, epoch: number) =>
    store.checkpoints.add({ runId, epoch, path: `/ck/${runId}-${epoch}.ckpt`, bytes: 1, sha256: 'a'.repeat(64), valTop1: 50, isBest: false });
  return { run, other, c1: ck(run.id, 1), c2: ck(run.id, 2), c3: ck(other.id, 1) };
}

function input(checkpointId: number, over: Partial<EvaluationInput> = {}): EvaluationInput {
  return {
    checkpointId,
    split: 'val',
    protocol: 'run',
    tta: 'none',
    dataRoot: '/data/imagenet',
    images: 3,
    loss: 1.25,
    top1: (100 * 2) / 3,
    top5: 100,
    transform: { mode: 'resize-center-crop', resize: 256, size: 224 },
    checkpoint: { path: '/ck/x.ckpt', epoch: 1, kind: 'epoch', stepInEpoch: 10 },
    skipped: 0,
    seconds: 1.5,
    perClass: [
      { classIndex: 0, wnid: 'n01', name: 'tench', images: 2, top1: 100, top5: 100 },
      { classIndex: 1, wnid: 'n02', name: 'goldfish', images: 1, top1: 0, top5: 100 },
    ],
    confusions: [{ true: 1, predicted: 0, count: 1 }],
    mistakes: [{ classIndex: 1, predicted: 0, confidence: 0.75, trueProb: 0.2, path: '/data/imagenet/val/n02/x.JPEG', sampleId: 2 }],
    mistakesPerClass: 16,
    ...over,
  };
}

describe('evaluations repository', () => {
  it('stores a finished evaluation with its details; lists by checkpoint and run, newest first', () => {
    const file = path.join(tempDir('ws-evals-'), 'ws.db');
    const store = open(file);
    const { run, other, c1, c2, c3 } = setup(store);
    const a = store.evaluations.add(input(c1.id));
    const b = store.evaluations.add(input(c2.id, { protocol: 'center-crop', tta: 'flip' }));
    const c = store.evaluations.add(input(c3.id, { split: 'train' }));
    expect(a).toMatchObject({
      checkpointId: c1.id,
      runId: run.id,
      protocol: 'run',
      tta: 'none',
      images: 3,
      top1: (100 * 2) / 3,
      createdAt: expect.stringMatching(/^2025-01-01T00:00:\d\d\.000Z$/),
    });
    expect(store.evaluations.get(a.id)).toEqual({ ...input(c1.id), id: a.id, runId: run.id, createdAt: a.createdAt });
    expect(store.evaluations.list().map((e) => e.id)).toEqual([c.id, b.id, a.id]);
    expect(store.evaluations.list({ runId: run.id }).map((e) => e.id)).toEqual([b.id, a.id]);
    expect(store.evaluations.list({ checkpointId: c2.id })).toEqual([
      expect.objectContaining({ id: b.id, protocol: 'center-crop', tta: 'flip', runId: run.id }),
    ]);
    expect(store.evaluations.list({ runId: other.id, checkpointId: c3.id }).map((e) => e.split)).toEqual(['train']);
    // summaries carry no details
    expect(Object.keys(store.evaluations.list()[0])).not.toContain('perClass');
    store.close();
    const again = open(file);
    expect(again.evaluations.get(b.id)?.confusions).toEqual([{ true: 1, predicted: 0, count: 1 }]);
  });

  it('an empty split (NaN totals) is stored as null; bad values and unknown checkpoints are refused', () => {
    const store = open();
    const { c1 } = setup(store);
    const e = store.evaluations.add(input(c1.id, { images: 0, loss: NaN, top1: NaN, top5: null, perClass: [], confusions: [], mistakes: [] }));
    expect(store.evaluations.get(e.id)).toMatchObject({ images: 0, loss: null, top1: null, top5: null });
    const refused = (fn: () => unknown, code: string, field: string) => {
      try {
        fn();
      } catch (err) {
        expect(isWorkstationError(err) && [err.code, err.field]).toEqual([code, field]);
        return;
      }
      throw new Error('not refused');
    };
    refused(() => store.evaluations.add(input(9999)), 'NOT_FOUND', 'checkpointId');
    refused(() => store.evaluations.add(input(c1.id, { protocol: 'tencrop' as never })), 'INVALID_ARGUMENT', 'protocol');
    refused(() => store.evaluations.add(input(c1.id, { tta: 'rotate' as never })), 'INVALID_ARGUMENT', 'tta');
    expect(store.evaluations.get(123456)).toBeUndefined();
    expect(store.evaluations.delete(e.id)).toBe(true);
    expect(store.evaluations.delete(e.id)).toBe(false);
  });

  it('deleting a checkpoint or its run deletes its evaluations', () => {
    const store = open();
    const { run, other, c1, c2, c3 } = setup(store);
    const a = store.evaluations.add(input(c1.id));
    const b = store.evaluations.add(input(c2.id));
    const c = store.evaluations.add(input(c3.id));
    store.checkpoints.delete(c1.id);
    expect(store.evaluations.get(a.id)).toBeUndefined();
    expect(store.evaluations.list({ runId: run.id }).map((e) => e.id)).toEqual([b.id]);
    store.runs.delete(run.id);
    expect(store.evaluations.get(b.id)).toBeUndefined();
    expect(store.evaluations.list().map((e) => [e.id, e.runId])).toEqual([[c.id, other.id]]);
  });
});
