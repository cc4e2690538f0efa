/// <reference lib="dom" />
// End to end: the dashboard's run charts in Debian's Chromium against a real `workstation serve`
// over a store this file writes itself (real SQLite, the store's own repositories): a run whose
// val loss spikes to 43 at epoch 2, a child forked from it at epoch 2, and a run with no data.
// Checks that a run's four charts share one x range, the child's starts at the lineage's start
// with the parent drawn faint before the fork, the robust y range leaves the spike off scale and
// the loss chart's toggle switches to full and log, and an empty chart says when data will appear.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { resolveRunConfig } from '../../src-shared/config/run-config';
import type { EpochMetrics, StepSample } from '../../src-shared/metrics';
import { openStore } from '../../src-main/store';
import { tempDir } from '../helpers/samples';
import { ROOT, ensureRendererBuilt, launchChromium, startServe } from './helpers';
import type { Serve } from './helpers';

const CHARTS = ['chart-loss', 'chart-accuracy', 'chart-gap', 'chart-lr'] as const;
const STEPS_PER_EPOCH = 20;
const LOG_EVERY = 5;
const SHOTS = path.join(ROOT, 'test-results/screenshots');

let serve: Serve;
let browser: Browser;
let page: Page;
const ids = { spiky: 0, child: 0, empty: 0, ddp: 0 };

function epochRow(epoch: number, trainLoss: number, valLoss: number): EpochMetrics {
  return {
    epoch,
    trainLoss,
    trainTop1: 20 + 10 * epoch,
    trainTop5: 50 + 8 * epoch,
    valLoss,
    valTop1: 18 + 9 * epoch,
    valTop5: 48 + 8 * epoch,
    lr: 0.1,
    momentum: 0.9,
    imagesPerSec: 100,
    epochSeconds: 10,
    skippedFiles: 0,
    imageSize: 64,
  };
}

/** The progress samples a run logs in one epoch (every LOG_EVERY steps), loss decaying from 6.9 towards 2. */
function stepRows(epoch: number): StepSample[] {
  const out: StepSample[] = [];
  for (let step = LOG_EVERY - 1; step < STEPS_PER_EPOCH; step += LOG_EVERY) {
    const globalStep = (epoch - 1) * STEPS_PER_EPOCH + step + 1;
    out.push({
      epoch,
      step,
      globalStep,
      loss: 2 + 4.9 * Math.exp(-(globalStep - LOG_EVERY) / 20),
      top1: Math.min(90, globalStep),
      lr: 0.1,
      momentum: 0.9,
      imagesPerSec: 100,
    });
  }
  return out;
}

/** Writes the three runs the tests look at into a fresh store. */
function seed(dbPath: string): void {
  const store = openStore(dbPath);
  try {
    const config = (name: string, lr = 0.1) => resolveRunConfig([{ name, train: { epochs: 4, logEverySteps: LOG_EVERY }, optimizer: { lr } }]);
    const spiky = store.runs.create({ name: 'spiky', config: config('spiky'), seed: 1, targetEpochs: 4, status: 'running' });
    const val = [3.0, 43, 2.6, 2.4];
    for (let e = 1; e <= 4; e++) {
      store.metrics.addSteps(spiky.id, stepRows(e));
      store.metrics.addEpoch(spiky.id, epochRow(e, 4 - e * 0.5, val[e - 1]));
    }
    store.runs.setStatus(spiky.id, 'completed');

    const child = store.runs.create({
      name: 'child',
      config: config('child', 0.05),
      seed: 1,
      targetEpochs: 4,
      parentRunId: spiky.id,
      forkEpoch: 2,
      status: 'running',
    });
    store.events.add({
      runId: child.id,
      kind: 'fork',
      epoch: 2,
      data: { forkEpoch: 2, checkpointKind: 'epoch', diff: [{ field: 'optimizer.lr', from: 0.1, to: 0.05 }] },
    });
    for (let e = 3; e <= 4; e++) {
      store.metrics.addSteps(child.id, stepRows(e));
      store.metrics.addEpoch(child.id, epochRow(e, 2.2, 2.4));
    }
    store.runs.setStatus(child.id, 'completed');

    const empty = store.runs.create({ name: 'empty', config: config('empty'), seed: 1, targetEpochs: 3, status: 'running' });
    store.runs.setStatus(empty.id, 'stopped');
    // a continuation that trained in PyTorch DDP (workstation scale-out) and whose rank 0 is gone
    const ddp = store.runs.create({ name: 'ddp', config: config('ddp'), seed: 1, targetEpochs: 4, parentRunId: spiky.id, forkEpoch: 2, status: 'running' });
    store.runs.setBackend(ddp.id, 'pytorch-ddp 2×cpu', 'gpu-box');
    store.metrics.addEpoch(ddp.id, epochRow(3, 2.1, 2.3));
    store.runs.setStatus(ddp.id, 'interrupted');
    Object.assign(ids, { spiky: spiky.id, child: child.id, empty: empty.id, ddp: ddp.id });
  } finally {
    store.close();
  }
}

interface ChartState {
  xMin: number;
  xMax: number;
  points: number;
  contextPoints: number;
  datasets: number;
  markers: number;
  yMode: string | null;
  yMax: number;
  offScale: number;
}

/** Opens a run's dashboard and waits until every chart has drawn its axes. */
async function openRun(runId: number): Promise<void> {
  await page.evaluate((id) => (location.hash = `#/dashboard/${id}`), runId);
  await page.waitForFunction(
    ({ id, charts }) =>
      (document.querySelector('[data-testid=dashboard-title]')?.textContent ?? '').startsWith(`#${id} `) &&
      charts.every((c) => document.querySelector(`[data-testid=${c}]`)?.hasAttribute('data-x-max')),
    { id: runId, charts: [...CHARTS] as string[] },
    { timeout: 30_000, polling: 100 },
  );
}

async function chartState(testid: string): Promise<ChartState> {
  return page.getByTestId(testid).evaluate((el) => {
    const n = (a: string) => Number(el.getAttribute(a));
    return {
      xMin: n('data-x-min'),
      xMax: n('data-x-max'),
      points: n('data-points'),
      contextPoints: n('data-context-points'),
      datasets: n('data-datasets'),
      markers: n('data-markers'),
      yMode: el.getAttribute('data-y-mode'),
      yMax: n('data-y-max'),
      offScale: n('data-off-scale'),
    };
  });
}

/** Waits until the chart's attribute reads `want` (the chart redraws after the click). */
async function waitAttr(testid: string, attr: string, want: string): Promise<void> {
  await page.waitForFunction(([t, a, w]) => document.querySelector(`[data-testid=${t}]`)?.getAttribute(a as string) === w, [testid, attr, want] as const, {
    timeout: 10_000,
    polling: 50,
  });
}

describe('run charts in a browser (serve + Chromium)', () => {
  beforeAll(async () => {
    ensureRendererBuilt();
    const dir = tempDir('ws-charts-');
    const dbPath = path.join(dir, 'ws.db');
    seed(dbPath);
    serve = await startServe({ dbPath, dataDir: path.join(dir, 'data') });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    page.on('pageerror', (e) => console.error('[page error]', e.message));
    await page.goto(serve.url);
    await page.getByTestId('nav').waitFor({ timeout: 30_000 });
    fs.mkdirSync(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('one x range for all charts of a run; robust y leaves the val loss spike off scale; the toggle switches to full and log', async () => {
    await openRun(ids.spiky);
    const states = await Promise.all(CHARTS.map(chartState));
    // a completed run: from 0 to its last point, the same on every chart
    for (const s of states) {
      expect(s.points).toBeGreaterThan(0);
      expect([s.xMin, s.xMax]).toEqual([0, 4]);
    }
    expect(await page.getByTestId('metric-charts').getAttribute('data-x-max')).toBe('4');

    // robust (the default): the curve's bulk (2..6.9) fills the chart, the 43 is off scale
    const robust = states[0];
    expect(robust.yMode).toBe('robust');
    expect(robust.offScale).toBe(1);
    expect(robust.yMax).toBeGreaterThanOrEqual(6.9);
    expect(robust.yMax).toBeLessThan(10);
    // the other charts have no y-mode toggle and nothing off scale
    expect(await page.getByTestId('chart-accuracy-ymode').count()).toBe(0);
    expect((await chartState('chart-accuracy')).offScale).toBe(0);
    await page.getByTestId('chart-loss').screenshot({ path: path.join(SHOTS, 'chart-loss-robust.png') });

    await page.getByTestId('chart-loss-ymode-full').click();
    await waitAttr('chart-loss', 'data-y-mode', 'full');
    const full = await chartState('chart-loss');
    expect(full.yMax).toBeGreaterThanOrEqual(43);
    expect(full.offScale).toBe(0);
    // switching the y mode keeps the x range
    expect([full.xMin, full.xMax]).toEqual([0, 4]);

    await page.getByTestId('chart-loss-ymode-log').click();
    await waitAttr('chart-loss', 'data-y-mode', 'log');
    const log = await chartState('chart-loss');
    expect(log.yMax).toBeGreaterThanOrEqual(43);
    expect(log.offScale).toBe(0);
    expect(await page.getByTestId('chart-loss-ymode-log').getAttribute('aria-pressed')).toBe('true');

    await page.getByTestId('chart-loss-ymode-robust').click();
    await waitAttr('chart-loss', 'data-y-mode', 'robust');
    expect((await chartState('chart-loss')).yMax).toBe(robust.yMax);
    // a run that is no one's child has no parent note
    expect(await page.getByTestId('charts-parent').count()).toBe(0);
  });

  it("a child's charts start at the lineage's start, with the parent faint up to the fork and a fork marker", async () => {
    await openRun(ids.child);
    // the parent's curves arrive once its details have loaded
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=chart-loss]')?.getAttribute('data-context-points')) > 0, null, {
      timeout: 30_000,
    });
    const states = await Promise.all(CHARTS.map(chartState));
    for (const s of states) expect([s.xMin, s.xMax]).toEqual([0, 4]);
    const loss = states[0];
    // own: 2 epochs × 4 step samples + 2 train + 2 val points; the parent's 2 epochs the same
    expect(loss.points).toBe(12);
    expect(loss.contextPoints).toBe(12);
    // 3 series of its own and the parent's 3, faint
    expect(loss.datasets).toBe(6);
    // the fork marker
    expect(loss.markers).toBeGreaterThanOrEqual(1);
    // the parent's spike at epoch 2 is on this chart too, faint and off scale
    expect(loss.offScale).toBe(1);
    expect(loss.yMax).toBeLessThan(10);
    expect(await page.getByTestId('charts-parent').textContent()).toMatch(new RegExp(`parent run #${ids.spiky}\\s+from epoch 2`));
    await page.getByTestId('metric-charts').screenshot({ path: path.join(SHOTS, 'charts-child.png') });

    await page.getByTestId('charts-parent-link').click();
    await page.waitForFunction((id) => (document.querySelector('[data-testid=dashboard-title]')?.textContent ?? '').startsWith(`#${id} `), ids.spiky, {
      timeout: 10_000,
    });
  });

  it('an empty chart says when its data would have appeared instead of a bare grid; the x range runs to the target', async () => {
    await openRun(ids.empty);
    for (const c of CHARTS) {
      const s = await chartState(c);
      expect(s.points).toBe(0);
      expect([s.xMin, s.xMax]).toEqual([0, 3]);
    }
    expect(await page.getByTestId('chart-loss-empty').textContent()).toBe(
      `No data — the run stopped before its first progress point (progress every ${LOG_EVERY} steps)`,
    );
    expect(await page.getByTestId('chart-gap-empty').textContent()).toBe('No validation points — the run stopped before the end of epoch 1');
    await page.getByTestId('metric-charts').screenshot({ path: path.join(SHOTS, 'charts-empty.png') });
    // a chart with points shows no such text
    await openRun(ids.spiky);
    expect(await page.getByTestId('chart-loss-empty').count()).toBe(0);
  });

  it('a run that trains in PyTorch DDP has no pause/stop/resume buttons: it says where it is controlled', async () => {
    await openRun(ids.ddp);
    const text = page.getByTestId('controls-scale-out');
    await text.waitFor();
    expect((await text.textContent())?.replace(/\s+/g, ' ')).toMatch(
      /^Trained in PyTorch DDP \(pytorch-ddp 2×cpu\), outside the workstation: .*Stop or restart it where torchrun runs/,
    );
    for (const b of ['btn-pause', 'btn-resume', 'btn-stop']) expect(await page.getByTestId(b).count(), b).toBe(0);
  });
});
