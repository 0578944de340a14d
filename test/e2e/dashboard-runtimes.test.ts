/**
 * The dashboard's Runtimes panel in a real browser against a real platform:
 * one row per runtime, saying what GET /v1/runtimes says, whatever images
 * this machine has.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIME_NAMES } from '../../runtime-images/runtimes.ts';
import { launchChromium } from '../helpers/browser.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

describe('dashboard runtimes panel', () => {
  let platform: Platform;
  let browser: Browser;
  beforeAll(async () => {
    [platform, browser] = await Promise.all([startPlatform(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('lists every runtime with its availability, versions and Lambda names, as the API does', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const listing = async (): Promise<any[]> => (await (await platform.api('/v1/runtimes')).json()).runtimes;
    await waitFor('versions reported', async () => (await listing()).filter((r) => r.available).every((r) => Object.keys(r.versions).length > 0), 30_000);
    const runtimes = await listing();

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    await page.goto(`${platform.url}/`);
    await page.fill('#api-key', platform.apiKey);
    await page.click('#login-submit');
    await page.locator('#runtimes tr[data-runtime="java17"]').waitFor();

    const rows = await page.$$eval('#runtimes tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows.map((r) => r[0])).toEqual(RUNTIME_NAMES);
    for (const [i, r] of runtimes.entries()) {
      const versions = Object.entries(r.versions as Record<string, string>).map(([c, v]) => `${c} ${v}`).join(', ') || '—';
      expect(rows[i]).toEqual([r.name, r.available ? `yes · ${r.workers}` : 'no', versions, r.imageSizeBytes === null ? '—' : `${(r.imageSizeBytes / 1048576).toFixed(1)} MiB`, r.lambdaRuntimes.join(' ')]);
    }
    expect(rows.find((r) => r[0] === 'nodejs20')?.[2]).toMatch(/^node 20\.\d+\.\d+$/);
    expect(problems).toEqual([]);
    await context.close();
  });
});
