// Learning-rate policies against PyTorch's own schedulers (fixtures from scripts/golden/onecycle.py):
// OneCycleLR, StepLR, LinearLR-warm-up + CosineAnnealingLR, to 1e-9 relative; exhaustion errors.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScheduleSchema, type ScheduleConfig } from '../../src-shared/config/run-config';
import { isWorkstationError } from '../../src-shared/errors';
import { createSchedule, oneCycleAt, SCHEDULE_POLICIES } from '../../src-main/ml/schedule/index';

const GOLDEN = path.resolve(__dirname, '../fixtures/golden');

interface OneCycleCase {
  name: string;
  config: Record<string, unknown>;
  totalSteps: number;
  optimizer: { lr: number; momentum: number };
  steps: number[];
  lr: number[];
  momentum: number[];
  atTotal: { lr: number; momentum: number };
  errorAfterTotal: string;
}
interface OtherCase {
  name: string;
  config: Record<string, unknown>;
  totalSteps: number;
  stepsPerEpoch: number;
  optimizer: { lr: number; momentum: number };
  lr: number[];
  momentum: number[];
}

const onecycle = JSON.parse(fs.readFileSync(path.join(GOLDEN, 'onecycle.json'), 'utf8')) as { torch: string; cases: OneCycleCase[] };
const others = JSON.parse(fs.readFileSync(path.join(GOLDEN, 'schedules-step-cosine.json'), 'utf8')) as { cases: OtherCase[] };

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

function expectClose(actual: number, expected: number, what: string): void {
  if (!(relErr(actual, expected) <= 1e-9)) expect.fail(`${what}: got ${actual}, PyTorch ${expected} (rel ${relErr(actual, expected)})`);
}

function thrown(fn: () => unknown): { code?: string; message: string; field?: string } {
  try {
    fn();
  } catch (e) {
    if (isWorkstationError(e)) return { code: e.code, message: e.message, field: e.field };
    return { message: String(e) };
  }
  return expect.fail('expected an error');
}

describe('onecycle = torch.optim.lr_scheduler.OneCycleLR', () => {
  it('has golden cases covering cos/linear, two/three phases, odd step counts', () => {
    expect(onecycle.cases.length).toBeGreaterThanOrEqual(10);
    const cfgs = onecycle.cases.map((c) => c.config);
    expect(cfgs.some((c) => c.anneal === 'linear') && cfgs.some((c) => c.threePhase === true)).toBe(true);
    expect(onecycle.cases.map((c) => c.totalSteps)).toEqual(expect.arrayContaining([1, 2, 7, 100, 1001]));
  });

  for (const c of onecycle.cases) {
    it(`${c.name}: lr and momentum per step agree to 1e-9 relative`, () => {
      const cfg = ScheduleSchema.parse(c.config);
      const s = createSchedule(cfg, { totalSteps: c.totalSteps, stepsPerEpoch: 1, baseLr: c.optimizer.lr, baseMomentum: c.optimizer.momentum });
      expect(s.totalSteps).toBe(c.totalSteps);
      expect(s.policy).toBe('onecycle');
      c.steps.forEach((step, i) => {
        const v = s.at(step);
        expectClose(v.lr, c.lr[i], `lr at step ${step}`);
        expectClose(v.momentum, c.momentum[i], `momentum at step ${step}`);
      });
      // PyTorch's own limits: a value at last_epoch = N, an error at N + 1 with its exact message
      const atN = oneCycleAt(cfg as Extract<ScheduleConfig, { policy: 'onecycle' }>, c.totalSteps, c.totalSteps);
      expectClose(atN.lr, c.atTotal.lr, 'lr at last_epoch = N');
      if (atN.momentum !== null) expectClose(atN.momentum, c.atTotal.momentum, 'momentum at last_epoch = N');
      expect(thrown(() => oneCycleAt(cfg as never, c.totalSteps, c.totalSteps + 1)).message).toBe(c.errorAfterTotal);
    });
  }

  it('is exhausted at step N: the (N+1)-th optimizer step has no lr (SCHEDULE_EXHAUSTED, PyTorch message)', () => {
    const s = createSchedule(
      { ...ScheduleSchema.parse({ policy: 'onecycle', maxLr: 0.01 }) },
      { totalSteps: 7, stepsPerEpoch: 1, baseLr: 0.1, baseMomentum: 0.9 },
    );
    expect(s.at(6).lr).toBeGreaterThan(0);
    expect(thrown(() => s.at(7))).toEqual({
      code: 'SCHEDULE_EXHAUSTED',
      message: 'Tried to step 8 times. The specified number of total steps is 7',
      field: 'step',
    });
    expect(thrown(() => s.at(100)).code).toBe('SCHEDULE_EXHAUSTED');
    expect(thrown(() => s.at(-1)).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => s.at(1.5)).code).toBe('INVALID_ARGUMENT');
  });

  it('cycleMomentum off keeps the optimizer momentum', () => {
    const cfg = ScheduleSchema.parse({ policy: 'onecycle', maxLr: 0.01, cycleMomentum: false });
    const s = createSchedule(cfg, { totalSteps: 50, stepsPerEpoch: 10, baseLr: 0.1, baseMomentum: 0.7 });
    for (let i = 0; i < 50; i++) expect(s.at(i).momentum).toBe(0.7);
  });

  it('refuses pctStart × totalSteps = 1 (PyTorch divides by zero at step 0), naming schedule.pctStart', () => {
    const py = thrown(() =>
      createSchedule(ScheduleSchema.parse({ policy: 'onecycle', maxLr: 0.01, pctStart: 0.1 }), {
        totalSteps: 10,
        stepsPerEpoch: 1,
        baseLr: 0.1,
        baseMomentum: 0.9,
      }),
    );
    expect(py).toMatchObject({ code: 'INVALID_CONFIG', field: 'schedule.pctStart' });
    expect(py.message).toMatch(/ZeroDivisionError/);
    const three = thrown(() =>
      createSchedule(ScheduleSchema.parse({ policy: 'onecycle', maxLr: 0.01, pctStart: 0.2, threePhase: true }), {
        totalSteps: 5,
        stepsPerEpoch: 1,
        baseLr: 0.1,
        baseMomentum: 0.9,
      }),
    );
    expect(three.field).toBe('schedule.pctStart');
  });
});

describe('step and cosine policies = PyTorch StepLR / LinearLR + CosineAnnealingLR', () => {
  for (const c of others.cases) {
    it(`${c.name}`, () => {
      const cfg = ScheduleSchema.parse(c.config);
      const s = createSchedule(cfg, { totalSteps: c.totalSteps, stepsPerEpoch: c.stepsPerEpoch, baseLr: c.optimizer.lr, baseMomentum: c.optimizer.momentum });
      expect(c.lr.length).toBe(c.totalSteps);
      for (let i = 0; i < c.totalSteps; i++) {
        const v = s.at(i);
        expectClose(v.lr, c.lr[i], `lr at step ${i}`);
        expect(v.momentum).toBe(c.momentum[i]);
      }
      expect(thrown(() => s.at(c.totalSteps)).code).toBe('SCHEDULE_EXHAUSTED');
    });
  }

  it('step decays every round(stepEpochs × stepsPerEpoch) steps; StepLR values are bit-identical', () => {
    const c = others.cases.find((x) => x.name === 'step-2ep-spe5-31')!;
    const s = createSchedule(ScheduleSchema.parse(c.config), { totalSteps: 31, stepsPerEpoch: 5, baseLr: 0.1, baseMomentum: 0.9 });
    expect(s.at(9).lr).toBe(0.1);
    expect(s.at(10).lr).toBe(c.lr[10]);
    expect(s.at(30).lr).toBe(c.lr[30]);
  });

  it('cosine warm-up starts at lr/W and reaches lr at its last step', () => {
    const s = createSchedule(ScheduleSchema.parse({ policy: 'cosine', warmupEpochs: 1, minLr: 0 }), {
      totalSteps: 30,
      stepsPerEpoch: 10,
      baseLr: 0.2,
      baseMomentum: 0.9,
    });
    expect(s.at(0).lr).toBeCloseTo(0.02, 15);
    expect(s.at(9).lr).toBe(0.2);
    expect(s.at(10).lr).toBe(0.2);
    expect(s.at(29).lr).toBeGreaterThan(0);
    expect(s.at(29).lr).toBeLessThan(0.2 * 0.01);
  });
});

describe('constant policy and the registry', () => {
  it('constant = the optimizer lr and momentum at every step, exhausted at N', () => {
    const s = createSchedule({ policy: 'constant' }, { totalSteps: 20, stepsPerEpoch: 10, baseLr: 0.001, baseMomentum: 0.9 });
    for (let i = 0; i < 20; i++) expect(s.at(i)).toEqual({ lr: 0.001, momentum: 0.9 });
    expect(thrown(() => s.at(20))).toMatchObject({ code: 'SCHEDULE_EXHAUSTED', message: 'Tried to step 21 times. The specified number of total steps is 20' });
  });

  it('registry knows every policy of the config schema', () => {
    expect([...SCHEDULE_POLICIES].sort()).toEqual(['constant', 'cosine', 'onecycle', 'step']);
  });

  it('rejects a bad context naming the field', () => {
    const ctx = { totalSteps: 10, stepsPerEpoch: 5, baseLr: 0.1, baseMomentum: 0.9 };
    expect(thrown(() => createSchedule({ policy: 'constant' }, { ...ctx, totalSteps: 0 })).field).toBe('totalSteps');
    expect(thrown(() => createSchedule({ policy: 'constant' }, { ...ctx, totalSteps: 2.5 })).field).toBe('totalSteps');
    expect(thrown(() => createSchedule({ policy: 'constant' }, { ...ctx, stepsPerEpoch: 0 })).field).toBe('stepsPerEpoch');
    expect(thrown(() => createSchedule({ policy: 'constant' }, { ...ctx, baseLr: -1 })).field).toBe('optimizer.lr');
    expect(thrown(() => createSchedule({ policy: 'nope' } as never, ctx)).field).toBe('schedule.policy');
  });

  it('is a pure function of the step: a recreated schedule continues identically (checkpoint restore)', () => {
    const cfg = ScheduleSchema.parse({ policy: 'onecycle', maxLr: 0.3, threePhase: true });
    const ctx = { totalSteps: 120, stepsPerEpoch: 12, baseLr: 0.1, baseMomentum: 0.9 };
    const a = createSchedule(cfg, ctx);
    const straight = Array.from({ length: 120 }, (_, i) => a.at(i));
    const b = createSchedule(cfg, ctx);
    for (let i = 60; i < 120; i++) expect(b.at(i)).toEqual(straight[i]);
  });
});
