/// <reference lib="dom" />
// A new user's first run, end to end: the app's Demo preset (src-shared/config/demo-preset.ts)
// started from the empty state's "demo run" button in Chromium against a real `workstation serve`,
// trained to its end on the pure-JS backend, learns visibly: validation top-1 on the 600 demo
// validation images ends far above chance (10 classes: 10 %) and above where it started. Keeps the
// README's screenshot of the demo learning (docs/screenshots/demo-learning.png). How far and how
// fast it gets is measured by `npm run bench:demo` (docs/BENCHMARKS.md), not here.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { DEMO_PRESET } from '../../src-shared/config/demo-preset';
import { tempDir } from '../helpers/samples';
import { SCREENSHOTS, ensureRendererBuilt, launchChromium, parseCsv, startServe } from './helpers';
import type { Serve } from './helpers';

let serve: Serve;
let browser: Browser;

describe('the demo preset in the app', () => {
  beforeAll(async () => {
    ensureRendererBuilt();
    const dir = tempDir('ws-e2e-demo-');
    serve = await startServe({ dbPath: path.join(dir, 'ws.db'), dataDir: path.join(dir, 'data') });
    browser = await launchChromium();
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('trains from the empty state to its last epoch and learns far above chance, rising as it goes', { timeout: 900_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('[page error]', e.message));
    await page.goto(serve.url);
    await page.getByTestId('btn-demo-run').click();
    await page.getByTestId('view-new-run').waitFor();
    // the Demo preset as shipped, on the pure-JS backend (auto would pick tfjs-node where installed)
    expect(await page.getByTestId('input-name').inputValue()).toBe(DEMO_PRESET.name);
    expect(Number(await page.getByTestId('input-epochs').inputValue())).toBe(DEMO_PRESET.train?.epochs);
    await page.getByTestId('input-backend').selectOption('cpu');
    const start = page.getByTestId('btn-start-run');
    await page.waitForFunction(() => !(document.querySelector('[data-testid=btn-start-run]') as HTMLButtonElement | null)?.disabled, null, {
      timeout: 120_000,
    });
    await start.click();
    await page.getByTestId('view-dashboard').waitFor();
    const epochs = DEMO_PRESET.train?.epochs ?? 0;
    await page.waitForFunction(
      () => document.querySelector('[data-testid=view-dashboard] header [data-testid=run-status]')?.textContent?.trim() === 'completed',
      null,
      {
        timeout: 840_000,
        polling: 500,
      },
    );
    // the numbers the dashboard drew from, read back from the service's CSV export
    const runId = Number(((await page.getByTestId('dashboard-title').textContent()) ?? '').match(/#(\d+)/)?.[1]);
    const res = await page.request.get(`${serve.origin}/api/export.csv?runId=${runId}`);
    expect(res.status()).toBe(200);
    const [head, ...rows] = parseCsv(await res.text()).filter((r) => r.length > 1);
    const valTop1 = rows.map((r) => Number(r[head.indexOf('val_top1')]));
    expect(rows.length).toBe(epochs);
    expect(valTop1.every(Number.isFinite)).toBe(true);
    // 600 validation images, 10 classes: chance is 10 % (± 5 points at 4σ); the demo measures ≥ 80 %
    expect(valTop1[valTop1.length - 1]).toBeGreaterThan(50);
    expect(valTop1[valTop1.length - 1]).toBeGreaterThan(valTop1[0]);
    expect(await page.getByTestId('chart-accuracy').getAttribute('data-points')).not.toBe('0');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'demo-learning.png') });
    await context.close();
  });
});
