/// <reference lib="dom" />
// End to end: the real renderer in Debian's Chromium against a real `workstation serve` (real
// service, SQLite, tfjs CPU training of a tiny ResNet-50 on the demo dataset: the form asks for
// the `cpu` backend, so the run is the same whether tfjs-node is installed or not). Walks the
// main user path and keeps screenshots of the main screens in docs/screenshots/.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { CSV_COLUMNS } from '../../src-shared/metrics';
import { tempDir } from '../helpers/samples';
import { SCREENSHOTS, ensureRendererBuilt, envWithPath, launchChromium, parseCsv, standInNvidiaSmi, startServe } from './helpers';
import type { Serve } from './helpers';

const T = 240_000; // generous: two busy cores, pure-JS tfjs

let serve: Serve;
let browser: Browser;
let page: Page;
let dataDir: string;
// the runs the first test creates; the second deletes them
let parentId = 0;
let childId = 0;

/** Waits until a numeric data-* attribute of the element satisfies `pred`; returns the value. */
async function waitNumber(selector: string, attr: string, pred: string, arg: number, timeout = T): Promise<number> {
  const handle = await page.waitForFunction(
    ([sel, a, p, x]) => {
      const el = document.querySelector(sel as string);
      const v = el ? Number(el.getAttribute(a as string)) : NaN;
      const ok = p === '>' ? v > (x as number) : v >= (x as number);
      return ok ? v : null;
    },
    [selector, attr, pred, arg] as const,
    { timeout, polling: 100 },
  );
  return (await handle.jsonValue()) as number;
}

/** Waits until a numeric data-* attribute of the element in `tab` equals `want`. */
async function waitNumberIn(tab: Page, selector: string, attr: string, want: number, timeout = 30_000): Promise<void> {
  await tab.waitForFunction(([sel, a, w]) => Number(document.querySelector(sel as string)?.getAttribute(a as string)) === w, [selector, attr, want] as const, {
    timeout,
    polling: 100,
  });
}

async function waitStatus(want: string, timeout = T): Promise<void> {
  await page.waitForFunction((w) => document.querySelector('[data-testid=view-dashboard] header [data-testid=run-status]')?.textContent?.trim() === w, want, {
    timeout,
    polling: 100,
  });
}

async function previewSources(): Promise<string[]> {
  return page.locator('[data-testid=preview-img]').evaluateAll((els) => els.map((e) => (e as HTMLImageElement).src));
}

async function download(click: () => Promise<void>): Promise<string> {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), click()]);
  const file = await dl.path();
  return fs.readFileSync(file, 'utf8');
}

describe('workstation in a browser (serve + Chromium)', () => {
  beforeAll(async () => {
    ensureRendererBuilt();
    const dir = tempDir('ws-e2e-');
    dataDir = path.join(dir, 'data');
    // a machine without a GPU whatever this one has (the System view's GPU cards say so below)
    serve = await startServe({ dbPath: path.join(dir, 'ws.db'), dataDir, env: envWithPath(standInNvidiaSmi(null)) });
    browser = await launchChromium();
    const context = await browser.newContext({
      viewport: { width: 1400, height: 900 },
      acceptDownloads: true,
    });
    page = await context.newPage();
    page.on('pageerror', (e) => console.error('[page error]', e.message));
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  }, T);

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('trains, pauses, tunes augmentation, forks from a checkpoint and exports CSV', { timeout: 900_000 }, async () => {
    // --- empty state → the demo-run form -------------------------------------------------
    await page.goto(serve.url);
    await page.getByTestId('empty-runs').waitFor({ timeout: 60_000 });
    await page.getByTestId('btn-demo-run').click();
    await page.getByTestId('view-new-run').waitFor();
    // The demo dataset is generated on first use; its class count fills in the model size.
    await page.waitForFunction(() => /classes/.test(document.querySelector('[data-testid=dataset-summary]')?.textContent ?? ''), null, { timeout: T });
    const classes = Number(await page.getByTestId('input-classes').inputValue());
    expect(classes).toBeGreaterThan(1);

    // Client-side validation names the field and blocks the start.
    await page.getByTestId('input-epochs').fill('0');
    await page.getByTestId('error-train.epochs').waitFor();
    expect(await page.getByTestId('btn-start-run').isDisabled()).toBe(true);

    await page.getByTestId('input-epochs').fill('3');
    // enough steps that the run is still training when the test pauses it
    await page.getByTestId('input-max-steps').fill('30');
    await page.getByTestId('input-name').fill('e2e-parent');
    // the pure-JS backend, asked for: the form's default (auto) would pick tfjs-node where it is
    // installed; the fork below inherits it
    await page.getByTestId('input-backend').selectOption('cpu');
    expect(await page.getByTestId('input-backend').inputValue()).toBe('cpu');
    expect(await page.getByTestId('error-train.epochs').count()).toBe(0);
    await page.getByTestId('btn-start-run').click();

    // --- live dashboard ------------------------------------------------------------------
    await page.getByTestId('view-dashboard').waitFor();
    const parentTitle = (await page.getByTestId('dashboard-title').textContent()) ?? '';
    parentId = Number(parentTitle.match(/#(\d+)/)?.[1]);
    expect(parentId).toBeGreaterThan(0);
    const p1 = await waitNumber('[data-testid=progress]', 'data-progress', '>', 0);
    const c1 = await waitNumber('[data-testid=chart-loss]', 'data-points', '>', 0);
    // the progress bar moves and the loss chart gains points from step events
    const p2 = await waitNumber('[data-testid=progress]', 'data-progress', '>', p1);
    expect(p2).toBeGreaterThan(p1);
    expect(await waitNumber('[data-testid=chart-loss]', 'data-points', '>', c1)).toBeGreaterThan(c1);
    expect(await page.getByTestId('progress-step').textContent()).toMatch(/^(step|validating) \d+\/\d+$/);

    // pause: the run holds at a step boundary; the tuner's settings are applied while it waits
    expect(await page.getByTestId('progress-rate').textContent()).toMatch(/images\/s$/);
    expect(await page.getByTestId('progress-data-wait').textContent()).toMatch(/^data wait \d+%$/);
    await page.getByTestId('btn-pause').click();
    await waitStatus('paused');
    await page.getByTestId('btn-resume').waitFor();
    // while paused: "paused", not a stale rate or ETA
    await page.getByTestId('progress-paused').waitFor();
    expect(await page.getByTestId('progress-rate').count()).toBe(0);

    // --- augmentation tuner --------------------------------------------------------------
    await page.getByTestId('nav-tuner').click();
    await page.getByTestId('view-tuner').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=preview-img]').length > 0, null, { timeout: T });
    const before = (await previewSources()).join('|');
    // samples are labelled with their class names (the dataset's synset mapping), not file names
    const captions = await page.locator('[data-testid=view-tuner] figcaption').allTextContents();
    expect(captions.length).toBeGreaterThan(0);
    for (const c of captions) expect(c, c).not.toMatch(/\.(jpe?g|png)$/i);
    // jitter on every sample, strongly: the same seed's crops now come out recoloured
    await page.getByTestId('slider-jitter-p').fill('1');
    await page.getByTestId('slider-brightness').fill('0.9');
    await page.waitForFunction(
      (b) => {
        const srcs = Array.from(document.querySelectorAll('[data-testid=preview-img]')).map((e) => (e as HTMLImageElement).src);
        return srcs.length > 0 && srcs.join('|') !== b;
      },
      before,
      { timeout: T },
    );
    expect((await previewSources()).length).toBe(before.split('|').length);
    // drawn parameters on hover
    expect(await page.getByTestId('preview-sample').first().getAttribute('title')).toMatch(/crop \d+×\d+/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'tuner.png') });
    // apply to the (paused) run: takes effect at its next batch, recorded as an augment event
    await page.getByTestId('btn-apply-augment').click();
    await page.getByTestId('apply-result').waitFor();
    expect(await page.getByTestId('apply-result').textContent()).toMatch(/from step \d+/);

    // --- back to the dashboard: resume, training continues ---------------------------------
    await page.getByTestId('nav-dashboard').click();
    await waitStatus('paused');
    await page.getByTestId('run-events').getByText('augment').first().waitFor();
    await page.getByTestId('btn-resume').click();
    await waitStatus('running');
    const p3 = Number(await page.getByTestId('progress').getAttribute('data-progress'));
    await waitNumber('[data-testid=progress]', 'data-progress', '>', p3);

    // an epoch row lands in the charts (val points) once the first epoch ends
    await waitNumber('[data-testid=metric-charts]', 'data-epochs', '>=', 1);
    expect(await page.getByTestId('best-top1').textContent()).toMatch(/\d+\.\d%/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard.png') });

    // --- checkpoints: wait for one, resume from it as a child run --------------------------
    await page.getByTestId('nav-checkpoints').click();
    await page.getByTestId('view-checkpoints').waitFor();
    await page.getByTestId('checkpoint-row').first().waitFor({ timeout: T });
    const forkEpoch = Number(await page.getByTestId('checkpoint-row').first().getAttribute('data-epoch'));
    expect(forkEpoch).toBeGreaterThanOrEqual(1);
    await page.getByTestId('btn-resume-checkpoint').first().click();
    await page.getByTestId('fork-epochs').fill(String(forkEpoch + 1));
    await page.getByTestId('fork-lr').fill('0.005');
    await page.getByTestId('fork-name').fill('e2e-child');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'checkpoints.png') });
    await page.getByTestId('fork-submit').click();

    // the child's dashboard shows the lineage chart with its fork marker and config diff
    await page.waitForFunction((pid) => {
      const m = document.querySelector('[data-testid=dashboard-title]')?.textContent?.match(/#(\d+)/);
      return m && Number(m[1]) !== pid;
    }, parentId);
    childId = Number(((await page.getByTestId('dashboard-title').textContent()) ?? '').match(/#(\d+)/)?.[1]);
    await page.getByTestId('lineage-panel').waitFor();
    await waitNumber('[data-testid=chart-lineage]', 'data-markers', '>=', 1);
    const forkMarker = page.locator('[data-testid=lineage-marker][data-kind=fork]');
    await forkMarker.first().waitFor();
    expect(await forkMarker.first().textContent()).toContain(`#${parentId} → #${childId}`);
    expect(await forkMarker.first().textContent()).toContain('optimizer.lr');

    // the parent finishes, then the queued child trains its epoch; the lineage chart fills in
    await waitStatus('completed', 600_000);
    // parent: val + train points for 3 epochs; child: the fork point + its epoch, twice
    expect(await waitNumber('[data-testid=chart-lineage]', 'data-points', '>=', 10)).toBeGreaterThanOrEqual(10);
    // the parent's live augmentation change is marked too
    expect(await page.locator('[data-testid=lineage-marker][data-kind=augment]').first().textContent()).toContain('augment.colorJitter.p');
    await page.getByTestId('lineage-panel').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'lineage.png') });

    // --- runs list with the lineage tree --------------------------------------------------
    await page.getByTestId('nav-runs').click();
    await page.getByTestId(`lineage-node-${childId}`).waitFor();
    expect(await page.getByTestId(`lineage-node-${childId}`).textContent()).toContain(`from #${parentId} at epoch ${forkEpoch}`);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'runs.png') });

    // --- export CSV (a browser download) ---------------------------------------------------
    await page.getByTestId(`run-row-${parentId}`).click();
    await waitStatus('completed');
    await page.getByTestId('nav-export').click();
    const parentCsv = parseCsv(await download(() => page.getByTestId('btn-export-csv').click()));
    expect(parentCsv[0]).toEqual([...CSV_COLUMNS]);
    const parentRows = parentCsv.slice(1);
    expect(parentRows.map((r) => Number(r[CSV_COLUMNS.indexOf('epoch')]))).toEqual([1, 2, 3]);
    for (const r of parentRows) {
      expect(Number(r[0])).toBe(parentId);
      expect(Number.isFinite(Number(r[CSV_COLUMNS.indexOf('train_loss')]))).toBe(true);
    }
    await page.getByTestId('export-result').waitFor();

    // the child's lineage: the parent's epochs up to the fork, then the child's
    await page.getByTestId('export-run').selectOption(String(childId));
    await page.getByTestId('export-lineage').check();
    const lineageCsv = parseCsv(await download(() => page.getByTestId('btn-export-csv').click()));
    expect(lineageCsv[0]).toEqual([...CSV_COLUMNS]);
    const lin = lineageCsv.slice(1).map((r) => [Number(r[0]), Number(r[CSV_COLUMNS.indexOf('epoch')])]);
    const expected: number[][] = [];
    for (let e = 1; e <= forkEpoch; e++) expected.push([parentId, e]);
    expected.push([childId, forkEpoch + 1]);
    expect(lin).toEqual(expected);

    // delete a checkpoint record (keeping its file): the table drops the row
    await page.getByTestId('nav-checkpoints').click();
    await page.getByTestId('run-picker').selectOption(String(parentId));
    await page.getByTestId('checkpoint-row').first().waitFor();
    const rowsBefore = await page.getByTestId('checkpoint-row').count();
    await page.getByTestId('btn-delete-checkpoint').last().click();
    await page.getByTestId('delete-confirm').waitFor();
    await page.getByTestId('btn-delete-keep-file').click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=checkpoint-row]').length === n - 1, rowsBefore);
  });

  it('shows the backend and loader vs trainer throughput; deleting a run asks, refuses a parent, keeps or removes files', async () => {
    // --- system: the backend the runs trained on, data pipeline vs training images/s -------
    await page.getByTestId('nav-system').click();
    await page.getByTestId('view-system').waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid=system-backend-name]')?.textContent?.trim() === 'cpu', null, { timeout: 30_000 });
    // nothing trains now: no stale rates, a sentence saying when they appear
    expect(await page.getByTestId('throughput-idle').textContent()).toContain('Shown while a run trains');
    expect(await page.getByTestId('data-images-per-sec').count()).toBe(0);
    // the runs trained on cpu: no native backend was checked, and no GPU samples were taken
    await page.getByTestId('system-selftest').waitFor();
    expect(await page.getByTestId('selftest-none').textContent()).toBe('No self-test stored yet.');
    await page.getByTestId('run-gpu-none').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('run-gpu-none').textContent()).toMatch(
      /^\s*No GPU samples stored for run #\d+: nvidia-smi was not on the service's PATH while it trained\.\s*$/,
    );
    await page.screenshot({ path: path.join(SCREENSHOTS, 'system.png') });

    // --- the child's events read as sentences: the fork's diff and the backend note ---------
    await page.getByTestId('nav-runs').click();
    await page.getByTestId(`run-row-${childId}`).click();
    await page.waitForFunction((id) => document.querySelector('[data-testid=dashboard-title]')?.textContent?.startsWith(`#${id} `), childId);
    const events = page.getByTestId('run-events');
    expect(await events.locator('[data-kind=fork] [data-testid=event-text]').textContent()).toMatch(
      new RegExp(`^from #${parentId} at epoch \\d+: .*optimizer\\.lr: \\S+ → 0\\.005`),
    );
    expect(await events.locator('[data-kind=note] [data-testid=event-text]').first().textContent()).toMatch(/^backend cpu — \S/);

    // checkpoint files of both runs, as the checkpoints view lists them (files still on disk)
    const files = async (runId: number): Promise<string[]> => {
      await page.getByTestId('nav-checkpoints').click();
      await page.getByTestId('run-picker').selectOption(String(runId));
      await page.getByTestId('checkpoint-row').first().waitFor();
      const paths = await page.locator('[data-testid=checkpoint-row]:not(.gone) td[title]').evaluateAll((els) => els.map((e) => e.getAttribute('title') ?? ''));
      return paths.filter((p) => fs.existsSync(p));
    };
    const childFiles = await files(childId);
    const parentFiles = await files(parentId);
    expect(childFiles.length).toBeGreaterThan(0);
    expect(parentFiles.length).toBeGreaterThan(0);
    for (const f of [...childFiles, ...parentFiles]) expect(f.startsWith(dataDir + path.sep), f).toBe(true);

    // --- a parent with a child: the service refuses, the message shows where the user asked --
    await page.getByTestId('nav-runs').click();
    await page.getByTestId(`btn-delete-run-${parentId}`).click();
    await page.getByTestId('delete-run-confirm').waitFor();
    await page.getByTestId('btn-delete-run-keep-files').click();
    const refusal = page.getByTestId('delete-run-error');
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(new RegExp(`child runs \\(#${childId}\\b`));
    expect(await page.getByTestId(`run-row-${parentId}`).count()).toBe(1);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'runs-delete.png') });
    await page.getByTestId('btn-delete-run-cancel').click();
    expect(await page.getByTestId('delete-run-confirm').count()).toBe(0);

    // --- the child, keeping its files: the row goes, the checkpoint files stay --------------
    // select the child first: deleting the selected run moves the selection to the next one
    await page.getByTestId(`run-row-${childId}`).click();
    await page.getByTestId('nav-runs').click();
    await page.getByTestId(`btn-delete-run-${childId}`).click();
    await page.getByTestId('btn-delete-run-keep-files').click();
    await page.getByTestId(`run-row-${childId}`).waitFor({ state: 'detached' });
    for (const f of childFiles) expect(fs.existsSync(f), f).toBe(true);
    expect(await page.evaluate(() => location.hash)).toBe(`#/runs/${parentId}`);
    await page.getByTestId(`run-row-${parentId}`).and(page.locator('.selected')).waitFor();

    // --- the parent (no children now), with its files: the row and the files go ------------
    await page.getByTestId(`btn-delete-run-${parentId}`).click();
    await page.getByTestId('btn-delete-run-files').click();
    await page.getByTestId(`run-row-${parentId}`).waitFor({ state: 'detached' });
    for (const f of parentFiles) expect(fs.existsSync(f), f).toBe(false);
    await page.getByTestId('empty-runs').waitFor();
  });

  it('the new-run form refuses a missing dataset before creating anything, keeps its draft, offers presets with a time estimate; a run that fails anyway explains itself; a lost service shows a banner', async () => {
    await page.getByTestId('nav-new').click();
    await page.getByTestId('btn-tiny-preset').click();
    await page.getByTestId('dataset-folder').check();
    // an empty folder field is caught before anything is sent
    await page.getByTestId('error-data.root').waitFor();
    expect(await page.getByTestId('btn-start-run').isDisabled()).toBe(true);
    const missing = path.join(tempDir('ws-e2e-missing-'), 'no-such-imagenet');
    await page.getByTestId('input-root').fill(missing);
    await page.getByTestId('input-name').fill('e2e-missing-data');
    // Start waits for a dataset check of this folder, and a failed check keeps it disabled
    expect(await page.getByTestId('btn-start-run').isDisabled()).toBe(true);
    expect(await page.getByTestId('start-needs-dataset').textContent()).toContain('Check the dataset folder first');
    await page.getByRole('button', { name: 'Check folder' }).click();
    await page.waitForFunction(() => /no-such-imagenet/.test(document.querySelector('[data-testid=dataset-summary]')?.textContent ?? ''));
    expect(await page.getByTestId('btn-start-run').isDisabled()).toBe(true);
    expect(await page.getByTestId('start-needs-dataset').textContent()).toContain('The dataset check failed');
    // an empty name reads as a person would say it
    await page.getByTestId('input-name').fill('');
    expect(await page.getByTestId('error-name').textContent()).toBe('Required');
    await page.getByTestId('input-name').fill('e2e-draft');
    // the draft survives looking elsewhere
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('nav-new').click();
    expect(await page.getByTestId('input-name').inputValue()).toBe('e2e-draft');
    expect(await page.getByTestId('input-root').inputValue()).toBe(missing);
    // presets, with the time an epoch takes on the backend chosen; Fast 16 lists what it sets beyond the form
    await page.getByTestId('btn-fast16-preset').click();
    expect(await page.getByTestId('input-name').inputValue()).toMatch(/^fast-16ep: FFCV/);
    const extras = (await page.getByTestId('preset-extras').textContent()) ?? '';
    expect(extras).toContain('data.valTta = "flip"');
    expect(extras).toContain('data.trainSizeSchedule = [{"epoch":13,"size":192}]');
    await page.getByTestId('btn-drop-preset-extras').click();
    expect(await page.getByTestId('preset-extras').count()).toBe(0);
    await page.getByTestId('btn-seed-preset').click();
    await page.getByTestId('input-backend').selectOption('cpu');
    await page.getByTestId('input-root').fill(missing);
    await page.getByRole('button', { name: 'Check folder' }).click();
    await page.getByTestId('btn-tiny-preset').click(); // the demo dataset: checked by itself
    await page.getByTestId('input-backend').selectOption('cpu');
    const estimate = page.getByTestId('epoch-estimate');
    await estimate.waitFor();
    expect(await estimate.textContent()).toMatch(/^\s*About \d+(m \d+)?s? ?\d*s? per epoch on the pure-JS CPU backend/);
    expect(await estimate.getAttribute('class')).not.toContain('warn');
    // measured on this machine: real steps of this config, no run created
    await page.getByTestId('btn-step-probe').click();
    const probe = page.getByTestId('step-probe-result');
    await probe.waitFor({ timeout: 120_000 });
    expect(await probe.getAttribute('data-backend')).toBe('cpu');
    expect(Number(await probe.getAttribute('data-seconds-per-step'))).toBeGreaterThan(0);
    expect((await probe.textContent())?.replace(/\s+/g, ' ')).toMatch(
      /Measured on cpu: [\d.]+ s per step of 32 at 32 px \(\d+ % waiting for data\) → about .+ for the 94 training steps of an epoch, plus validation \(19 batches\)\. First step [\d.]+ s\./,
    );
    // a change in the form hides the figure measured for the old config
    await page.getByTestId('input-width').fill('0.125');
    expect(await probe.count()).toBe(0);
    // the seed's full ResNet-50 at 224 px, batch 128, on the pure-JS backend: not offered (a step takes hours)
    await page.getByTestId('input-width').fill('1');
    await page.getByTestId('input-train-size').fill('224');
    await page.getByTestId('input-batch-size').fill('128');
    await page.getByTestId('step-probe-too-slow').waitFor();
    expect(await page.getByTestId('btn-step-probe').isDisabled()).toBe(true);
    await page.getByTestId('btn-start-run').waitFor();
    expect(await page.getByTestId('btn-start-run').isDisabled()).toBe(false);
    await page.getByTestId('btn-discard-draft').click();
    expect(await page.getByTestId('input-name').inputValue()).toBe('resnet50');

    // a run whose folder is missing can still come from the API or CLI: it fails and says why
    const { connectWs } = await import('../../src-main/common/ws-client');
    const u = new URL(serve.url);
    const link = await connectWs({ host: u.hostname, port: Number(u.port), token: u.searchParams.get('token') ?? '' });
    let failedId: number;
    try {
      failedId = (
        await link.call('runs.start', {
          config: {
            name: 'e2e-missing-data',
            backend: 'cpu',
            model: { widthMultiplier: 0.0625 },
            data: { root: missing, trainSize: 32, valSize: 32, valResize: 36 },
          },
        })
      ).id;
    } finally {
      link.close();
    }
    await page.evaluate((id) => (location.hash = `#/dashboard/${id}`), failedId);
    await page.waitForFunction(() => /e2e-missing-data/.test(document.querySelector('[data-testid=dashboard-title]')?.textContent ?? ''));
    await waitStatus('failed');
    const note = page.getByTestId('run-error');
    await note.waitFor();
    // the service's message names the folder; the note says what to do about it
    expect(await note.textContent()).toContain('no-such-imagenet');
    expect(await note.textContent()).toMatch(/Check the dataset path/);

    // the service goes away: the page says so instead of failing silently
    await serve.stop();
    await page.getByTestId('banner-disconnected').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('connection-state').getAttribute('data-state')).not.toBe('open');
  });

  it(
    'checkpoints mid-epoch: the dashboard shows the newest, a fork keeps a live augmentation change, resumes and a crash read as sentences and are marked',
    { timeout: 600_000 },
    async () => {
      // its own service (the test before stopped the shared one), driven through the API for the
      // run and through the page for what the user sees
      const { connectWs } = await import('../../src-main/common/ws-client');
      const dir = tempDir('ws-e2e-midepoch-');
      const own = await startServe({ dbPath: path.join(dir, 'ws.db'), dataDir: path.join(dir, 'data') });
      const u = new URL(own.url);
      const link = await connectWs({ host: u.hostname, port: Number(u.port), token: u.searchParams.get('token') ?? '' });
      // the service started after the crash below
      let again: Serve | undefined;
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const tab = await context.newPage();
      tab.on('pageerror', (e) => console.error('[page error]', e.message));
      try {
        const until = async (what: string, ok: () => Promise<boolean>, timeout = T): Promise<void> => {
          const end = Date.now() + timeout;
          while (!(await ok())) {
            if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${own.output().slice(-3000)}`);
            await new Promise((r) => setTimeout(r, 100));
          }
        };
        const status = async (runId: number) => (await link.call('runs.get', { runId })).run.status;

        // a tiny CPU run, a mid-epoch checkpoint every 2 steps of a 30-step epoch; it is paused at the
        // first mid-epoch checkpoint past `pauseAfter`, so the epoch (and its epoch checkpoint) never ends
        let runId = 0;
        let pauseAfter: number | null = 0;
        const midEpoch: { globalStep: number | null; stepInEpoch: number | null }[] = [];
        link.on('checkpoint.saved', (c) => {
          if (c.runId !== runId || c.kind !== 'mid-epoch') return;
          midEpoch.push(c);
          if (pauseAfter !== null && (c.globalStep ?? 0) > pauseAfter) {
            pauseAfter = null;
            void link.call('runs.pause', { runId }).catch((e: Error) => console.error('[pause]', e.message));
          }
        });
        const run = await link.call('runs.start', {
          config: {
            name: 'e2e-mid-epoch',
            seed: 3,
            backend: 'cpu',
            model: { numClasses: 10, widthMultiplier: 0.03125 },
            data: { root: null, trainSize: 32, valSize: 32, valResize: 36, maxStepsPerEpoch: 30, maxValSteps: 1, workers: 1 },
            train: { epochs: 1, batchSize: 8, logEverySteps: 1 },
            optimizer: { lr: 0.01 },
            schedule: { policy: 'constant' },
            checkpoint: { everySteps: 2, keepLast: 2 },
          },
        });
        runId = run.id;
        await until('the first mid-epoch checkpoint and the pause', async () => midEpoch.length > 0 && (await status(runId)) === 'paused');

        // a live change while paused; the next mid-epoch checkpoint holds it, and the run pauses there
        const { effectiveFromStep } = await link.call('runs.updateAugment', { runId, patch: { colorJitter: { brightness: 0.9, p: 1 } } });
        pauseAfter = effectiveFromStep;
        await link.call('runs.resume', { runId });
        await until('a mid-epoch checkpoint after the change', async () => pauseAfter === null && (await status(runId)) === 'paused');
        const after = midEpoch.filter((c) => (c.globalStep ?? 0) > effectiveFromStep);
        expect(after.length).toBeGreaterThan(0);

        // --- dashboard: the newest checkpoint is mid-epoch, with its step in the epoch and its age ---
        await tab.goto(`${own.url}#/dashboard/${runId}`);
        const newest = tab.getByTestId('newest-checkpoint');
        await tab.waitForFunction(() => document.querySelector('[data-testid=newest-checkpoint]')?.getAttribute('data-kind') === 'mid-epoch', null, {
          timeout: 60_000,
        });
        expect(await newest.textContent()).toMatch(/mid-epoch\s+epoch 1 · step \d+\/30\s+(just now|\d+ min ago)/);

        // --- checkpoints: mid-epoch rows say so; the fork form shows the augmentation in effect there ---
        await tab.getByTestId('nav-checkpoints').click();
        const midRow = tab.locator('[data-testid=checkpoint-row][data-kind=mid-epoch]:not(.gone)').last();
        await midRow.waitFor({ timeout: 60_000 });
        expect(await midRow.getByTestId('checkpoint-where').textContent()).toMatch(/^epoch 1 · step \d+\/30$/);
        expect(await midRow.textContent()).toContain('mid-epoch');
        // the mid-epoch checkpoints it replaced (files removed) are hidden until asked for
        expect(await tab.locator('[data-testid=checkpoint-row].gone').count()).toBe(0);
        await tab.getByTestId('show-replaced').check();
        expect(await tab.locator('[data-testid=checkpoint-row][data-kind=mid-epoch].gone').count()).toBeGreaterThan(0);
        await tab.getByTestId('show-replaced').uncheck();
        await midRow.getByTestId('btn-resume-checkpoint').click();
        const inEffect = tab.getByTestId('fork-augment');
        await inEffect.waitFor({ timeout: 30_000 });
        const effectText = (await inEffect.textContent()) ?? '';
        expect(effectText).toMatch(/Colour jitter in effect at this checkpoint: brightness 0\.9, contrast 0\.2, saturation 0\.2, hue 0\.05, p 1\b/);
        expect(await tab.getByTestId('fork-live-changes').textContent()).toMatch(/colorJitter\.brightness: 0\.2 → 0\.9.*colorJitter\.p: 0\.5 → 1/s);
        await tab.screenshot({ path: path.join(SCREENSHOTS, 'checkpoints-mid-epoch.png') });

        // the child starts from that checkpoint; it waits (the paused parent holds the trainer), so the
        // checkpoint is needed by it
        await tab.getByTestId('fork-name').fill('e2e-mid-child');
        // long enough to be still training when the service is killed below
        await tab.getByTestId('fork-epochs').fill('3');
        let childCheckpointed = false;
        link.on('checkpoint.saved', (c) => (childCheckpointed ||= c.runId !== runId && c.kind === 'mid-epoch'));
        await tab.getByTestId('fork-submit').click();
        await tab.waitForFunction((pid) => {
          const m = document.querySelector('[data-testid=dashboard-title]')?.textContent?.match(/#(\d+)/);
          return m !== null && m !== undefined && Number(m[1]) !== pid;
        }, runId);
        const childId = Number(((await tab.getByTestId('dashboard-title').textContent()) ?? '').match(/#(\d+)/)?.[1]);
        const forkText = tab.locator('[data-testid=run-events] [data-kind=fork] [data-testid=event-text]');
        await forkText.waitFor();
        expect(await forkText.textContent()).toMatch(new RegExp(`^from #${runId} at epoch 1 step \\d+: `));
        await tab.getByTestId('nav-checkpoints').click();
        await tab.getByTestId('run-picker').selectOption(String(runId));
        await tab.getByTestId('checkpoint-dependents').waitFor({ timeout: 30_000 });
        expect(await tab.getByTestId('checkpoint-dependents').textContent()).toMatch(new RegExp(`needed by\\s*run ${childId}\\b`));

        // --- stop the parent, then resume it by hand: the resume reads as a sentence and is marked ---
        await tab.evaluate((id) => (location.hash = `#/dashboard/${id}`), runId);
        await tab.getByTestId('btn-stop').click();
        await tab.waitForFunction(
          () => document.querySelector('[data-testid=view-dashboard] header [data-testid=run-status]')?.textContent?.trim() === 'stopped',
          null,
          {
            timeout: T,
          },
        );
        await tab.getByTestId('btn-resume').click();
        // (newest first; the in-place resume after the live change is further down)
        const fromCheckpoint = tab
          .locator('[data-testid=run-events] [data-kind=resume] [data-testid=event-text]')
          .filter({ hasText: /^Resumed from the mid-epoch checkpoint at epoch 1 step \d+ \(it was stopped\)$/ });
        await fromCheckpoint.waitFor({ timeout: 30_000 });
        await tab.waitForFunction(() => Number(document.querySelector('[data-testid=chart-loss]')?.getAttribute('data-markers')) >= 1, null, {
          timeout: 30_000,
        });

        // --- a crash: the service is killed once the child has a mid-epoch checkpoint of its own; the
        // next service finds it interrupted and resumes it by itself from that checkpoint ---------
        await until('the child to write a mid-epoch checkpoint', async () => childCheckpointed);
        const pid = own.proc.pid;
        const exited = new Promise((r) => own.proc.once('exit', r));
        own.proc.kill('SIGKILL');
        await exited;
        again = await startServe({ dbPath: path.join(dir, 'ws.db'), dataDir: path.join(dir, 'data') });
        await tab.goto(`${again.url}#/dashboard/${childId}`);
        const events = tab.getByTestId('run-events');
        const interrupted = events.locator('[data-kind=interrupted] [data-testid=event-text]');
        await interrupted.waitFor({ timeout: 60_000 });
        expect(await interrupted.textContent()).toMatch(
          new RegExp(`^Interrupted: the process training this run stopped .*\\bpid ${pid}, last heard of \\d\\d:\\d\\d:\\d\\d\\)$`),
        );
        await events
          .locator('[data-kind=resume] [data-testid=event-text]')
          .filter({ hasText: /^Resumed automatically after a crash from the mid-epoch checkpoint at epoch 1 step \d+$/ })
          .waitFor({ timeout: 30_000 });
        // both on the charts (beside the fork's marker), and in the lineage panel's list
        await tab.waitForFunction(() => Number(document.querySelector('[data-testid=chart-loss]')?.getAttribute('data-markers')) >= 3, null, {
          timeout: 30_000,
        });
        const autoMarker = tab.locator('[data-testid=lineage-marker][data-kind=resume]').filter({ hasText: 'auto-resumed' });
        await autoMarker.waitFor({ timeout: 30_000 });
        expect(await autoMarker.textContent()).toContain(`run #${childId}`);
        // the parent's own resume (after its stop) and live change are in the child's lineage too
        await tab.locator('[data-testid=lineage-marker][data-kind=augment]').waitFor({ timeout: 30_000 });
        expect(await tab.locator('[data-testid=lineage-marker][data-kind=resume]').allTextContents()).toContainEqual(
          expect.stringMatching(new RegExp(`^resumed.*run #${runId}.*Resumed from the mid-epoch checkpoint`)),
        );
        await tab.getByTestId('lineage-panel').scrollIntoViewIfNeeded();
        await tab.screenshot({ path: path.join(SCREENSHOTS, 'auto-resumed.png') });
      } finally {
        link.close();
        await context.close();
        await own.stop();
        await again?.stop();
      }
    },
  );

  it('a tab whose token the service no longer accepts says so and how to get a new URL, instead of reconnecting forever', { timeout: T }, async () => {
    const dir = tempDir('ws-e2e-token-');
    const first = await startServe({ dbPath: path.join(dir, 'ws.db'), dataDir: path.join(dir, 'data') });
    const port = Number(new URL(first.url).port);
    const context = await browser.newContext({ viewport: { width: 1200, height: 700 } });
    let second: Serve | null = null;
    try {
      const tab = await context.newPage();
      await tab.goto(first.url);
      await tab.getByTestId('nav-runs').waitFor();
      await first.stop();
      // the service comes back on the same port with a new token (what a restart of `serve` does)
      second = await startServe({ dbPath: path.join(dir, 'ws.db'), dataDir: path.join(dir, 'data'), port, token: 'a-brand-new-token-0123456789' });
      const stale = tab.getByTestId('banner-stale-token');
      await stale.waitFor({ timeout: 60_000 });
      expect(await stale.textContent()).toContain('Open the URL that `workstation serve` printed this time');
      // it stays that way: no flicker back to "Reconnecting…"
      await tab.waitForTimeout(1500);
      expect(await tab.getByTestId('banner-stale-token').count()).toBe(1);
      // and the new URL works
      await tab.goto(second.url);
      await tab.getByTestId('nav-runs').waitFor();
      expect(await tab.getByTestId('banner-disconnected').count()).toBe(0);
    } finally {
      await context.close();
      await first.stop();
      await second?.stop();
    }
  });

  it('evaluates a checkpoint from the Checkpoints view: per-class table, confusions and the mistakes gallery with images', { timeout: 600_000 }, async () => {
    // its own service (an earlier test stops the shared one); the run through the API, the evaluation through the page
    const { connectWs } = await import('../../src-main/common/ws-client');
    const dir = tempDir('ws-e2e-eval-');
    const own = await startServe({ dbPath: path.join(dir, 'ws.db'), dataDir: path.join(dir, 'data') });
    const u = new URL(own.url);
    const link = await connectWs({ host: u.hostname, port: Number(u.port), token: u.searchParams.get('token') ?? '' });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const tab = await context.newPage();
    tab.on('pageerror', (e) => console.error('[page error]', e.message));
    try {
      // a tiny CPU run validated on the whole demo validation split (600 images)
      const run = await link.call('runs.start', {
        config: {
          name: 'e2e-eval',
          seed: 7,
          backend: 'cpu',
          // the demo preset's recipe, shortened: about 65 % val top-1 after 3 short epochs, so the
          // gallery shows real mistakes between the classes
          model: { numClasses: 10, widthMultiplier: 0.0625 },
          data: { root: null, trainSize: 32, valSize: 32, valResize: 32, maxStepsPerEpoch: 25, maxValSteps: null, workers: 1 },
          augment: { randomResizedCrop: { enabled: true, scale: [0.35, 1] }, colorJitter: { p: 0 } },
          train: { epochs: 3, batchSize: 32, valBatchSize: 50, logEverySteps: 5 },
          optimizer: { lr: 0.1, weightDecay: 0.0005 },
          schedule: { policy: 'onecycle', maxLr: 0.2, pctStart: 0.25 },
        },
      });
      const end = Date.now() + T;
      while ((await link.call('runs.get', { runId: run.id })).run.status !== 'completed') {
        if (Date.now() > end) throw new Error(`run ${run.id} did not complete\n${own.output().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const epochs = (await link.call('runs.get', { runId: run.id })).epochs;

      // --- Checkpoints → Evaluate ----------------------------------------------------------------
      await tab.goto(`${own.url}#/checkpoints/${run.id}`);
      await tab.getByTestId('checkpoint-row').first().waitFor({ timeout: 60_000 });
      // the newest (last) checkpoint
      const evaluated = Number(await tab.getByTestId('checkpoint-row').last().getAttribute('data-epoch'));
      const valTop1 = epochs.find((e) => e.epoch === evaluated)?.valTop1 as number;
      await tab.getByTestId('btn-evaluate-checkpoint').last().click();
      await tab.getByTestId('view-evaluation').waitFor();
      expect(await tab.getByTestId('eval-checkpoint').locator('option:checked').textContent()).toContain(`epoch ${evaluated}`);
      await tab.getByTestId('eval-none').waitFor();
      expect(await tab.getByTestId('eval-protocol').inputValue()).toBe('run');
      await tab.getByTestId('btn-eval-start').click();
      await tab.waitForFunction(() => document.querySelector('[data-testid=eval-job]')?.getAttribute('data-state') === 'completed', null, { timeout: T });
      expect(await tab.getByTestId('eval-job-images').textContent()).toContain('600 / 600 images');
      // the stored result is shown: with the run's own protocol, the trainer's validation top-1
      await tab.getByTestId('eval-summary').waitFor();
      expect(await tab.getByTestId('eval-top1').textContent()).toBe(`${valTop1.toFixed(2)}%`);
      expect(await tab.getByTestId('eval-result-row').count()).toBe(1);

      // --- the per-class table, sortable by accuracy (class names from the synset mapping) ---------
      const rows = tab.getByTestId('eval-class-row');
      expect(await rows.count()).toBe(10);
      expect(await tab.getByTestId('eval-class-table').textContent()).toContain('circle');
      const top1s = async () => await rows.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-top1'))));
      const asc = await top1s();
      expect(asc).toEqual([...asc].sort((a, b) => a - b));
      await tab.getByTestId('sort-top1').click();
      const desc = await top1s();
      expect(desc).toEqual([...asc].sort((a, b) => b - a));

      // --- the top confusion → its mistakes, most confident first, with their images --------------
      const pair = tab.getByTestId('eval-confusion-row').first();
      await pair.waitFor();
      await pair.click();
      expect(await tab.getByTestId('mistakes-title').textContent()).toMatch(/Mistakes: \S.* → \S/);
      const gallery = tab.getByTestId('mistake');
      expect(await gallery.count()).toBeGreaterThan(0);
      const confidences = await gallery.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-confidence'))));
      expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
      // the thumbnails load through the dataset-root file endpoint
      await tab.waitForFunction(
        () => {
          const imgs = Array.from(document.querySelectorAll('[data-testid=mistake-img]')) as HTMLImageElement[];
          return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
        },
        null,
        { timeout: 30_000 },
      );
      expect(await tab.getByTestId('mistake-img').first().getAttribute('src')).toMatch(/^\/api\/file\?path=/);
      // a class's mistakes, from the table
      await rows.first().click();
      expect(await tab.getByTestId('mistakes-title').textContent()).not.toContain('→');
      await pair.click();
      // the view scrolls inside <main>: a tall window shows the table, the confusions and the gallery at once
      await tab.setViewportSize({ width: 1400, height: 1500 });
      await tab.screenshot({ path: path.join(SCREENSHOTS, 'evaluation.png') });
      await tab.setViewportSize({ width: 1400, height: 900 });

      // click to enlarge, Escape to close
      await gallery.first().click();
      await tab.getByTestId('mistake-lightbox').waitFor();
      await tab.waitForFunction(() => {
        const i = document.querySelector('[data-testid=lightbox-img]') as HTMLImageElement | null;
        return i !== null && i.complete && i.naturalWidth > 0;
      });
      expect(await tab.getByTestId('mistake-lightbox').textContent()).toMatch(/true class .* predicted .*%/s);
      await tab.keyboard.press('Escape');
      await tab.getByTestId('mistake-lightbox').waitFor({ state: 'detached' });

      // the result is kept: a reload shows it again
      await tab.reload();
      await tab.getByTestId('eval-summary').waitFor({ timeout: 30_000 });
      expect(await tab.getByTestId('eval-top1').textContent()).toBe(`${valTop1.toFixed(2)}%`);
    } finally {
      link.close();
      await context.close();
      await own.stop();
    }
  });

  it(
    'compares runs: two runs overlaid with the hyperparameter diff and a CSV, smoothing on every chart, notes and tags edited and filtered, desktop notifications',
    { timeout: 600_000 },
    async () => {
      const { connectWs } = await import('../../src-main/common/ws-client');
      const dir = tempDir('ws-e2e-compare-');
      const own = await startServe({ dbPath: path.join(dir, 'ws.db'), dataDir: path.join(dir, 'data') });
      const u = new URL(own.url);
      const link = await connectWs({ host: u.hostname, port: Number(u.port), token: u.searchParams.get('token') ?? '' });
      const context = await browser.newContext({ viewport: { width: 1400, height: 1250 }, acceptDownloads: true });
      // the browser's Notification, recorded: the page shows a notice once the user allowed it
      await context.addInitScript(() => {
        const seen: { title: string; body: string }[] = [];
        class RecordedNotification {
          static permission = 'granted';
          static requestPermission = () => Promise.resolve('granted');
          onclick: (() => void) | null = null;
          constructor(title: string, opts?: { body?: string }) {
            seen.push({ title, body: opts?.body ?? '' });
          }
        }
        Object.assign(window, { Notification: RecordedNotification, __notices: seen });
      });
      const tab = await context.newPage();
      tab.on('pageerror', (e) => console.error('[page error]', e.message));
      try {
        await tab.goto(own.url);
        await tab.getByTestId('empty-runs').waitFor({ timeout: 60_000 });
        // two tiny CPU runs that differ in lr (one trains at a time: the second queues)
        const cfg = (name: string, lr: number) => ({
          name,
          seed: 3,
          backend: 'cpu',
          model: { numClasses: 10, widthMultiplier: 0.03125 },
          data: { root: null, trainSize: 32, valSize: 32, valResize: 36, maxStepsPerEpoch: 6, maxValSteps: 1, workers: 1 },
          train: { epochs: 2, batchSize: 8, logEverySteps: 1 },
          optimizer: { lr },
          schedule: { policy: 'constant' },
        });
        const a = await link.call('runs.start', { config: cfg('e2e-lr-high', 0.02) });
        const b = await link.call('runs.start', { config: cfg('e2e-lr-low', 0.005) });
        const end = Date.now() + T;
        while ((await link.call('runs.list', {})).some((r) => r.status !== 'completed')) {
          if (Date.now() > end) throw new Error(`the runs did not complete\n${own.output().slice(-3000)}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        // --- desktop notifications: one per completed run, from the service's notices -------------
        await tab.waitForFunction(() => (window as unknown as { __notices: unknown[] }).__notices.length >= 2, null, { timeout: 30_000 });
        const shown = await tab.evaluate(() => (window as unknown as { __notices: { title: string; body: string }[] }).__notices);
        expect(shown.map((n) => n.title)).toEqual([`Run #${a.id} e2e-lr-high completed`, `Run #${b.id} e2e-lr-low completed`]);
        expect(shown[0].body).toMatch(/^epoch 2\/2, best val top-1 \d+\.\d %$/);

        // --- notes and tags, edited in the runs list, then filtered -----------------------------
        await tab.getByTestId(`run-row-${a.id}`).waitFor();
        const label = async (runId: number, notes: string, tags: string) => {
          await tab.getByTestId(`btn-edit-labels-${runId}`).click();
          const editor = tab.getByTestId(`labels-editor-${runId}`);
          await editor.getByTestId('notes-input').fill(notes);
          await editor.getByTestId('tags-input').fill(tags);
          await editor.getByTestId('btn-save-labels').click();
          await editor.waitFor({ state: 'detached' });
        };
        await label(a.id, 'higher lr: a faster start, noisier val\nsecond line', 'lr-sweep, baseline');
        await label(b.id, '', 'lr-sweep');
        expect(await tab.getByTestId(`run-tags-${a.id}`).textContent()).toBe('baselinelr-sweep');
        expect(await tab.getByTestId(`run-notes-${a.id}`).textContent()).toBe('higher lr: a faster start, noisier val');
        expect((await link.call('runs.get', { runId: a.id })).run).toMatchObject({
          tags: ['baseline', 'lr-sweep'],
          notes: 'higher lr: a faster start, noisier val\nsecond line',
        });
        await tab.getByTestId('tag-filter-baseline').click();
        await tab.getByTestId(`run-row-${b.id}`).waitFor({ state: 'detached' });
        expect(await tab.getByTestId('runs-shown').textContent()).toBe('1 of 2 runs');
        await tab.getByTestId('tag-filter-baseline').click();
        await tab.getByTestId(`run-row-${b.id}`).waitFor();
        await tab.getByTestId('runs-filter').fill('noisier');
        await tab.getByTestId(`run-row-${b.id}`).waitFor({ state: 'detached' });
        await tab.getByTestId('btn-clear-filter').click();
        await tab.getByTestId(`run-row-${b.id}`).waitFor();

        // --- compare: both runs on one epoch axis, only the differing hyperparameter -----------
        await tab.getByTestId(`compare-pick-${a.id}`).check();
        await tab.getByTestId(`compare-pick-${b.id}`).check();
        const panel = tab.getByTestId('compare-panel');
        await tab.waitForFunction(() => document.querySelector('[data-testid=compare-panel]')?.getAttribute('data-runs') === '2', null, { timeout: 30_000 });
        expect(await panel.getByTestId('diff-field').allTextContents()).toEqual(['optimizer.lr']);
        expect(await tab.getByTestId(`diff-row-${a.id}`).textContent()).toContain('0.02');
        expect(await tab.getByTestId(`diff-row-${b.id}`).textContent()).toContain('0.005');
        const [da, db] = await Promise.all([link.call('runs.get', { runId: a.id }), link.call('runs.get', { runId: b.id })]);
        const best = (d: typeof da) => Math.max(...d.epochs.map((m) => m.valTop1 ?? -1));
        expect(await tab.getByTestId(`diff-row-${a.id}`).getByTestId('diff-best').textContent()).toBe(`${best(da).toFixed(1)}%`);
        expect(await tab.getByTestId(`diff-row-${b.id}`).getByTestId('diff-last').textContent()).toBe(`${db.epochs.at(-1)!.valTop1!.toFixed(1)}%`);
        // every stored step sample of both runs (full resolution) plus their val losses per epoch
        expect(da.steps.length).toBe(12);
        const lossPoints = da.steps.length + db.steps.length + da.epochs.length + db.epochs.length;
        await waitNumberIn(tab, '[data-testid=compare-loss]', 'data-points', lossPoints);
        expect(await tab.getByTestId('compare-lr').getAttribute('data-points')).toBe(String(da.steps.length + db.steps.length));
        expect(await tab.getByTestId('compare-top1').getAttribute('data-datasets')).toBe('4');

        // smoothing: the slider on the chart smooths every curve and keeps each raw one faint behind
        await tab.getByTestId('compare-loss-smoothing').fill('0.8');
        await tab.waitForFunction(() => document.querySelector('[data-testid=compare-loss]')?.getAttribute('data-smoothing') === '0.8');
        expect(await tab.getByTestId('compare-loss').getAttribute('data-datasets')).toBe('8');
        expect(await tab.getByTestId('compare-top1').getAttribute('data-datasets')).toBe('4'); // each chart has its own

        // the comparison as CSV (a browser download)
        const [dl] = await Promise.all([tab.waitForEvent('download', { timeout: 30_000 }), tab.getByTestId('btn-compare-csv').click()]);
        const csv = parseCsv(fs.readFileSync(await dl.path(), 'utf8'));
        expect(csv[0]).toEqual([...CSV_COLUMNS, 'best_val_top1', 'last_val_top1', 'optimizer.lr']);
        expect(csv.slice(1).map((r) => [Number(r[0]), Number(r[2]), r[csv[0].indexOf('optimizer.lr')], r[csv[0].indexOf('run_tags')]])).toEqual([
          [a.id, 1, '0.02', 'baseline; lr-sweep'],
          [a.id, 2, '0.02', 'baseline; lr-sweep'],
          [b.id, 1, '0.005', 'lr-sweep'],
          [b.id, 2, '0.005', 'lr-sweep'],
        ]);
        // the runs list with its tags and notes above the comparison
        await tab.getByTestId('runs-filters').scrollIntoViewIfNeeded();
        await tab.screenshot({ path: path.join(SCREENSHOTS, 'compare.png') });

        // --- the run's own dashboard charts have the slider too ---------------------------------
        await tab.getByTestId(`run-row-${a.id}`).click();
        await tab.getByTestId('chart-loss').waitFor();
        const before = Number(await tab.getByTestId('chart-loss').getAttribute('data-datasets'));
        await tab.getByTestId('chart-loss-smoothing').fill('0.6');
        await tab.waitForFunction((n) => Number(document.querySelector('[data-testid=chart-loss]')?.getAttribute('data-datasets')) === 2 * n, before);

        // --- the new-run form's learning-rate range test fills the OneCycle max lr -------------
        await tab.getByTestId('nav-new').click();
        await tab.getByTestId('btn-tiny-preset').click();
        await tab.getByTestId('input-backend').selectOption('cpu');
        await tab.getByTestId('input-policy').selectOption('constant');
        await tab.getByTestId('lr-find-steps').fill('30');
        await tab.getByTestId('lr-find-min').fill('0.0001');
        await tab.getByTestId('lr-find-max').fill('10');
        const runsBefore = (await link.call('runs.list', {})).length;
        await tab.getByTestId('btn-lr-find').click();
        await tab.getByTestId('lr-find-result').waitFor({ timeout: T });
        const points = Number(await tab.getByTestId('chart-lr-find').getAttribute('data-points'));
        expect(points).toBeGreaterThan(1);
        expect(points).toBeLessThanOrEqual(30);
        const suggested = Number(await tab.getByTestId('chart-lr-find').getAttribute('data-suggested'));
        expect(suggested).toBeGreaterThanOrEqual(0.0001);
        expect(suggested).toBeLessThanOrEqual(10);
        await tab.getByTestId('btn-use-max-lr').click();
        expect(await tab.getByTestId('input-policy').inputValue()).toBe('onecycle');
        expect(Number(await tab.getByTestId('input-max-lr').inputValue())).toBe(Number(suggested.toPrecision(3)));
        await tab.getByTestId('lr-find-panel').scrollIntoViewIfNeeded();
        await tab.screenshot({ path: path.join(SCREENSHOTS, 'lr-find.png') });
        // the range test created no run
        expect((await link.call('runs.list', {})).length).toBe(runsBefore);
      } finally {
        link.close();
        await context.close();
        await own.stop();
      }
    },
  );
});
