/// <reference lib="dom" />
// The new-run form on a machine with an NVIDIA GPU: the service finds one through nvidia-smi (a
// stand-in first on the served process's PATH prints the documented output for one A10G), so
// "auto" would train on it, and the pure-JS time estimate (which would call a full ResNet-50 at
// 224 px hours per epoch) is not shown for it; the form points to the measurement instead. With
// the cpu backend chosen the pure-JS estimate is back.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { tempDir } from '../helpers/samples';
import { ensureRendererBuilt, envWithPath, launchChromium, standInNvidiaSmi, startServe } from './helpers';
import type { Serve } from './helpers';

let serve: Serve;
let browser: Browser;

describe('the new-run form on a GPU machine', () => {
  beforeAll(async () => {
    ensureRendererBuilt();
    const dir = tempDir('ws-e2e-gpu-form-');
    const env = envWithPath(standInNvidiaSmi('0, NVIDIA A10G, GPU-4f6b1c1e-7d2a-3b9e-8c0a-1e2f3a4b5c6d, 535.104.05, 23028, 3, 0, 25.1, 30\n'));
    serve = await startServe({ dbPath: path.join(dir, 'ws.db'), dataDir: path.join(dir, 'data'), env });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('auto: no pure-JS estimate, the GPU named and the measurement offered; cpu: the pure-JS estimate', async () => {
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    page.on('pageerror', (e) => console.error('[page error]', e.message));
    await page.goto(serve.url);
    await page.getByTestId('nav-new').click();
    await page.getByTestId('btn-seed-preset').click();
    await page.getByTestId('dataset-demo').check();
    expect(await page.getByTestId('input-backend').inputValue()).toBe('auto');
    const gpu = page.getByTestId('epoch-estimate-gpu');
    await gpu.waitFor({ timeout: 60_000 });
    expect((await gpu.textContent())?.replace(/\s+/g, ' ')).toMatch(/^ ?auto trains on the GPU here \(.*NVIDIA A10G.*\): no measured figures for it yet/);
    expect(await page.getByTestId('epoch-estimate').count()).toBe(0);
    // the dataset check passes: the measurement is offered (a GPU step is not hours), not refused as too slow
    await page.getByTestId('btn-step-probe').waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('btn-step-probe').isDisabled()).toBe(false);
    expect(await page.getByTestId('step-probe-too-slow').count()).toBe(0);

    await page.getByTestId('input-backend').selectOption('cpu');
    await page.getByTestId('epoch-estimate').waitFor();
    expect(await page.getByTestId('epoch-estimate').getAttribute('class')).toContain('warn'); // ResNet-50 at 224 px on pure JS: hours
    expect(await gpu.count()).toBe(0);
    await page.getByTestId('step-probe-too-slow').waitFor();
  });
});
