import { describe, expect, it } from 'vitest';
import { diffConfigs, resolveRunConfig, trainSizeForEpoch } from '../../src-shared/config/run-config';
import { isWorkstationError } from '../../src-shared/errors';

function errorOf(fn: () => unknown): { code: string; field?: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isWorkstationError(e)) return { code: e.code, field: e.field, message: e.message };
    throw e;
  }
  throw new Error('expected an error');
}

describe('run config resolution', () => {
  it('fills defaults and freezes the result', () => {
    const c = resolveRunConfig([{}]);
    expect(c.optimizer).toMatchObject({ name: 'sgd', lr: 0.001, momentum: 0.9, weightDecay: 1e-4, dampening: 0, nesterov: false });
    expect(c.augment.colorJitter).toEqual({ brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.05, p: 0.5 });
    expect(Object.isFrozen(c.optimizer)).toBe(true);
  });

  it('rejects unknown and invalid fields naming them and the file', () => {
    const unknown = errorOf(() => resolveRunConfig([{ train: { epochz: 3 } }], 'cfg.json'));
    expect(unknown).toMatchObject({ code: 'INVALID_CONFIG', field: 'train.epochz' });
    expect(unknown.message).toContain('cfg.json');
    const bad = errorOf(() => resolveRunConfig([{ optimizer: { lr: -1 } }]));
    expect(bad).toMatchObject({ code: 'INVALID_CONFIG', field: 'optimizer.lr' });
    const missing = errorOf(() => resolveRunConfig([{ schedule: { policy: 'onecycle' } }]));
    expect(missing.field).toBe('schedule.maxLr');
  });

  it('later layers win; switching schedule policy drops the old policy fields', () => {
    const base = { schedule: { policy: 'onecycle', maxLr: 0.1, pctStart: 0.25 }, train: { epochs: 10, batchSize: 64 } };
    const same = resolveRunConfig([base, { schedule: { policy: 'onecycle', maxLr: 0.2 }, train: { epochs: 20 } }]);
    expect(same.schedule).toMatchObject({ policy: 'onecycle', maxLr: 0.2, pctStart: 0.25 });
    expect(same.train).toMatchObject({ epochs: 20, batchSize: 64 });
    const switched = resolveRunConfig([base, { schedule: { policy: 'constant' } }]);
    expect(switched.schedule).toEqual({ policy: 'constant' });
  });

  it('follows the progressive resizing schedule per epoch', () => {
    const c = resolveRunConfig([
      {
        data: {
          trainSize: 128,
          trainSizeSchedule: [
            { epoch: 5, size: 192 },
            { epoch: 3, size: 160 },
          ],
        },
      },
    ]);
    expect([1, 2, 3, 4, 5, 9].map((e) => trainSizeForEpoch(c.data, e))).toEqual([128, 128, 160, 160, 192, 192]);
  });

  it('diffs two configs field by field', () => {
    const a = resolveRunConfig([{}]);
    const b = resolveRunConfig([{ augment: { colorJitter: { brightness: 0.4 } }, train: { epochs: 30 } }]);
    expect(diffConfigs(a, b)).toEqual([
      { field: 'augment.colorJitter.brightness', from: 0.2, to: 0.4 },
      { field: 'train.epochs', from: 39, to: 30 },
    ]);
  });
});
