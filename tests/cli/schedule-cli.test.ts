// `workstation schedule … --json` through the real bundle (`node bin/workstation.cjs`), compared with
// PyTorch's OneCycleLR / StepLR / cosine values (fixtures from scripts/golden/onecycle.py) to 1e-9.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const GOLDEN = path.join(ROOT, 'tests/fixtures/golden');

interface Case {
  name: string;
  config: Record<string, unknown>;
  totalSteps: number;
  stepsPerEpoch?: number;
  optimizer: { lr: number; momentum: number };
  steps?: number[];
  lr: number[];
  momentum: number[];
}

const onecycle = (JSON.parse(fs.readFileSync(path.join(GOLDEN, 'onecycle.json'), 'utf8')) as { cases: Case[] }).cases;
const others = (JSON.parse(fs.readFileSync(path.join(GOLDEN, 'schedules-step-cosine.json'), 'utf8')) as { cases: Case[] }).cases;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/workstation.cjs'), 'schedule', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const kebab = (k: string): string => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The config as flags: --max-lr 0.01 --three-phase --no-cycle-momentum … */
function flagsOf(c: Case): string[] {
  const out = ['--total-steps', String(c.totalSteps), '--lr', String(c.optimizer.lr), '--momentum', String(c.optimizer.momentum)];
  if (c.stepsPerEpoch !== undefined) out.push('--steps-per-epoch', String(c.stepsPerEpoch));
  for (const [k, v] of Object.entries(c.config)) {
    if (typeof v === 'boolean') out.push(v ? `--${kebab(k)}` : `--no-${kebab(k)}`);
    else out.push(`--${kebab(k)}`, String(v));
  }
  return out;
}

function expectRel(actual: number, expected: number, what: string): void {
  const rel = Math.abs(actual - expected) / Math.abs(expected);
  if (!(rel <= 1e-9)) expect.fail(`${what}: got ${actual}, PyTorch ${expected} (rel ${rel})`);
}

describe('workstation schedule --json', () => {
  for (const c of [...onecycle, ...others]) {
    it(`${c.name}: one entry per step 0 … N−1, equal to PyTorch to 1e-9 relative`, () => {
      const r = cli(...flagsOf(c), '--json');
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { lr: number[]; momentum: number[] };
      expect(Object.keys(out).sort()).toEqual(['lr', 'momentum']);
      expect(out.lr.length).toBe(c.totalSteps);
      expect(out.momentum.length).toBe(c.totalSteps);
      const steps = c.steps ?? c.lr.map((_, i) => i);
      steps.forEach((s, i) => {
        expectRel(out.lr[s], c.lr[i], `lr[${s}]`);
        expectRel(out.momentum[s], c.momentum[i], `momentum[${s}]`);
      });
    });
  }

  it('the issue example: --policy onecycle --max-lr 0.01 --total-steps N --pct-start --anneal --three-phase', () => {
    const c = onecycle.find((x) => x.name === 'linear-3phase-7-pct025')!;
    const r = cli('--policy', 'onecycle', '--max-lr', '0.01', '--total-steps', '7', '--pct-start', '0.25', '--anneal', 'linear', '--three-phase', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { lr: number[]; momentum: number[] };
    out.lr.forEach((v, i) => expectRel(v, c.lr[i], `lr[${i}]`));
    out.momentum.forEach((v, i) => expectRel(v, c.momentum[i], `momentum[${i}]`));
  });

  it('without --json prints a step / lr / momentum table', () => {
    const r = cli('--policy', 'constant', '--lr', '0.001', '--total-steps', '3');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').slice(1)).toEqual(['step\tlr\tmomentum', '0\t0.001\t0.9', '1\t0.001\t0.9', '2\t0.001\t0.9']);
  });

  it('invalid flags are refused naming the flag and the config field', () => {
    const cases: [string[], RegExp][] = [
      [['--policy', 'onecycle', '--total-steps', '7'], /--max-lr \(schedule\.maxLr\)/],
      [['--policy', 'onecycle', '--max-lr', '-1', '--total-steps', '7'], /--max-lr \(schedule\.maxLr\)/],
      [['--policy', 'onecycle', '--max-lr', '0.1', '--pct-start', '1.5', '--total-steps', '7'], /--pct-start \(schedule\.pctStart\)/],
      [['--policy', 'onecycle', '--max-lr', '0.1', '--anneal', 'quad', '--total-steps', '7'], /--anneal \(schedule\.anneal\)/],
      [['--policy', 'cyclic', '--total-steps', '7'], /--policy \(schedule\.policy\)/],
      [['--policy', 'constant', '--max-lr', '0.1', '--total-steps', '7'], /--max-lr \(schedule\.maxLr\): not a setting of policy "constant"/],
      [['--policy', 'constant', '--lr', '0', '--total-steps', '7'], /--lr \(optimizer\.lr\)/],
      [['--policy', 'constant', '--total-steps', '0'], /--total-steps must be a positive integer/],
      [['--policy', 'constant'], /missing required flag --total-steps/],
      [['--policy', 'onecycle', '--max-lr', '0.1', '--total-steps', '10', '--pct-start', '0.1'], /INVALID_CONFIG.*schedule\.pctStart.*ZeroDivisionError/],
    ];
    for (const [args, re] of cases) {
      const r = cli(...args, '--json');
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(re);
    }
  });
});
