// The dashboard's event lines: what a user reads for a backend note, a live augmentation
// change and a fork; other kinds keep their raw data (null here).
import { describe, expect, it } from 'vitest';
import { describeEvent } from '../../src-renderer/src/lib/event-text';

describe('run event text', () => {
  it('says which backend trained and why', () => {
    expect(describeEvent({ kind: 'note', data: { backend: 'cpu', reason: 'tfjs-node is not installed; using pure-JS CPU', gpu: null } })).toBe(
      'backend cpu — tfjs-node is not installed; using pure-JS CPU',
    );
    expect(describeEvent({ kind: 'note', data: { backend: 'tensorflow-gpu', reason: 'CUDA found', gpu: 'NVIDIA H100' } })).toBe(
      'backend tensorflow-gpu — CUDA found (GPU: NVIDIA H100)',
    );
    expect(describeEvent({ kind: 'note', data: { message: 'dataset re-indexed' } })).toBe('dataset re-indexed');
    expect(describeEvent({ kind: 'note', data: {} })).toBeNull();
  });

  it('lists the augmentation fields a live change set', () => {
    const e = { kind: 'augment' as const, data: { patch: { hflip: 0, colorJitter: { p: 1, brightness: 0.9 } }, effective: {} } };
    expect(describeEvent(e)).toBe('hflip: 0, colorJitter.p: 1, colorJitter.brightness: 0.9');
    // a recorded diff (from → to) wins over the patch
    expect(describeEvent({ kind: 'augment', data: { patch: { hflip: 0 }, diff: [{ field: 'augment.hflip', from: 0.5, to: 0 }] } })).toBe('hflip: 0.5 → 0');
    expect(describeEvent({ kind: 'augment', data: {} })).toBeNull();
  });

  it('gives a fork its parent, epoch and config diff', () => {
    const diff = [
      { field: 'name', from: 'a', to: 'b' },
      { field: 'optimizer.lr', from: 0.1, to: 0.005 },
      { field: 'train.epochs', from: 3, to: 2 },
    ];
    expect(describeEvent({ kind: 'fork', data: { parentRunId: 1, forkEpoch: 1, diff } })).toBe(
      'from #1 at epoch 1: optimizer.lr: 0.1 → 0.005, train.epochs: 3 → 2',
    );
    expect(describeEvent({ kind: 'fork', data: { parentRunId: 4, forkEpoch: 2, diff: [] } })).toBe('from #4 at epoch 2: same settings');
  });

  it('leaves other kinds to their raw data', () => {
    for (const kind of ['pause', 'resume', 'error', 'status', 'interrupted'] as const) expect(describeEvent({ kind, data: { action: 'x' } }), kind).toBeNull();
  });
});
