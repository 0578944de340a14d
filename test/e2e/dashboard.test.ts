/**
 * The web dashboard in a real browser (Debian's Chromium) against a real
 * platform: a user signs in with the key, finds the function, opens it, and
 * sees exactly the numbers the metrics API gives, the recent invocations and
 * their logs. A wrong key brings the login back with an error.
 */
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.ts';
import { deploy, invoke, uniqueName } from '../helpers/packages.ts';
import { fetchWithoutKey, recordOf, startPlatform, type Platform } from '../helpers/platform.ts';

const APP = `
exports.handler = async (event) => {
  console.log('event', JSON.stringify(event));
  if (event.fail) throw new Error('asked to fail');
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  return 'ok';
};
`;

/** Every headline number the function page must show, by its path in the metrics JSON. */
const HEADLINE = [
  'invocations', 'errors.total', 'throttles', 'coldStarts.count', 'coldStarts.rate',
  'startKinds.cold', 'startKinds.prewarmed', 'startKinds.warm',
  ...['cold', 'prewarmed', 'warm'].flatMap((kind) => ['p50', 'p95', 'p99'].map((p) => `latencyMs.${kind}.${p}`)),
  'initMs.p50', 'initMs.p95', 'usage.gbSeconds', 'usage.billedMs', 'peakConcurrency',
];

const pick = (object: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((value, key) => (value == null ? undefined : (value as Record<string, unknown>)[key]), object) ?? null;

/** `[data-metric, data-raw, text]` of every bound number on the page. */
function shownMetrics(page: Page) {
  return page.$$eval('#view [data-metric]', (els) =>
    els.map((e) => [e.getAttribute('data-metric') ?? '', e.getAttribute('data-raw') ?? '', e.textContent ?? ''] as const),
  );
}

/**
 * Every number on the page equals the same field of the API answer at
 * `path(window)`, for the window the page says it shows (`data-window` on
 * `windowOf`), fetched at the same moment: retried briefly in case an
 * auto-refresh lands in between.
 */
async function expectNumbersOfApi(page: Page, platform: Platform, windowOf: string, path: (window: string | null) => string) {
  let api: Record<string, unknown> = {};
  let shown: Awaited<ReturnType<typeof shownMetrics>> = [];
  await expect
    .poll(
      async () => {
        const window = await page.getAttribute(windowOf, 'data-window');
        shown = await shownMetrics(page);
        api = await (await platform.api(path(window))).json();
        return shown
          .filter(([field, raw]) => raw !== JSON.stringify(pick(api, field)))
          .map(([field, raw]) => `${field}: shown ${raw}, API ${JSON.stringify(pick(api, field))}`);
      },
      { timeout: 10_000, interval: 250 },
    )
    .toEqual([]);
  return { api, shown };
}

describe('web dashboard', () => {
  let platform: Platform;
  let browser: Browser;
  let name: string;
  const ids: string[] = [];

  beforeAll(async () => {
    platform = await startPlatform();
    name = uniqueName('dashboard');
    const deployed = await deploy(platform, name, { bytes: Buffer.from(APP), filename: 'index.js' }, { runtime: 'nodejs20', memoryMb: 256 });
    expect(deployed.status).toBe(201);
    // The first call is cold; two fail; then enough warm calls to need a second page of history.
    const events = [{}, {}, { fail: true }, { sleepMs: 30 }, {}, { fail: true }, {}, ...Array.from({ length: 15 }, (_, i) => ({ n: i }))];
    for (const event of events) {
      const res = await invoke(platform, name, event);
      ids.push(res.headers.get('x-invocation-id')!);
    }
    for (const id of ids) await recordOf(platform, id);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('serves its pages without the key, with content types, and nothing outside its allow-list', async () => {
    const page = await fetchWithoutKey(`${platform.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<script type="module" src="/ui/dashboard.js">');
    for (const [path, type] of [
      ['/ui/dashboard.js', 'text/javascript; charset=utf-8'],
      ['/ui/dashboard.css', 'text/css; charset=utf-8'],
      ['/ui/vendor/uPlot.esm.js', 'text/javascript; charset=utf-8'],
      ['/ui/vendor/uPlot.min.css', 'text/css; charset=utf-8'],
    ]) {
      const res = await fetchWithoutKey(`${platform.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toBe(type);
    }
    for (const path of ['/ui/index.html', '/ui/..%2Fapp.ts', '/ui/vendor/..%2F..%2Fpackage.json', '/ui/%2E%2E/routes/dashboard.ts', '/ui/nope.js']) {
      expect((await fetchWithoutKey(`${platform.url}${path}`)).status, path).toBe(404);
    }
    // The data still needs the key.
    expect((await fetchWithoutKey(`${platform.url}/v1/functions`)).status).toBe(401);
  });

  it('shows the function, its numbers exactly as the API gives them, its invocations and their logs', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('request', (r) => !r.url().startsWith(platform.url) && problems.push(`external request: ${r.url()}`));

    await page.goto(`${platform.url}/`);
    await page.fill('#api-key', platform.apiKey);
    await page.click('#login-submit');

    // The functions list, with the invocation count of the summary.
    const row = page.locator(`#functions tr[data-function="${name}"]`);
    await row.waitFor();
    await expect.poll(() => row.locator('[data-field="invocations"]').getAttribute('data-raw')).toBe(String(ids.length));
    expect(await row.locator('[data-field="errors"]').textContent()).toBe('2');
    // The pool as the worker reports it (every couple of seconds; the page catches up on its next refresh).
    await expect.poll(() => page.getAttribute('[data-metric="pool.totals.warm"]', 'data-raw'), { timeout: 12_000 }).toBe('1');
    const poolRow = await page.$$eval('#pool tr[data-runtime="nodejs20"] td', (tds) => tds.map((td) => td.textContent));
    expect(poolRow).toEqual(['nodejs20', '0', '1', '0']); // busy, warm, pre-warmed
    const summary = await expectNumbersOfApi(page, platform, '#summary-headline', (w) => `/v1/metrics/summary?window=${w}`);
    expect(summary.shown.length).toBeGreaterThanOrEqual(8);
    await page.locator(`#functions tr[data-function="${name}"] .spark canvas`).waitFor();
    await mkdir('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/dashboard-functions.png', fullPage: true });

    await row.locator('a.fn-link').click();
    await page.waitForSelector('#fn-headline[data-window] [data-metric="invocations"][data-raw]');
    expect(page.url()).toBe(`${platform.url}/#/functions/${name}`);

    // Every bound number equals the same field of the API, in the window the page shows; then again after switching windows.
    expect(await page.getAttribute('#fn-headline', 'data-window')).toBe(await page.inputValue('#window'));
    let { api, shown } = await expectNumbersOfApi(page, platform, '#fn-headline', (w) => `/v1/functions/${name}/metrics?window=${w}`);
    expect(api.window).toBe('1h');
    await page.selectOption('#window', '5m');
    await page.waitForSelector('#fn-headline[data-window="5m"]');
    ({ api, shown } = await expectNumbersOfApi(page, platform, '#fn-headline', (w) => `/v1/functions/${name}/metrics?window=${w}`));
    expect(api.window).toBe('5m');
    for (const path of HEADLINE) expect(shown.map(([p]) => p), path).toContain(path);
    expect(api).toMatchObject({ invocations: ids.length, errors: { total: 2 }, coldStarts: { count: 1 } });
    // And formatted consistently: counts plain, rates with one decimal, milliseconds with up to two.
    const text = (path: string) => shown.find(([p]) => p === path)![2];
    const ms = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
    expect(text('invocations')).toBe(String(ids.length));
    expect(text('coldStarts.rate')).toBe(`${((pick(api, 'coldStarts.rate') as number) * 100).toFixed(1)}%`);
    expect(text('latencyMs.warm.p50')).toBe(`${ms.format(pick(api, 'latencyMs.warm.p50') as number)} ms`);
    expect(text('latencyMs.prewarmed.p50')).toBe('—');
    expect(await page.locator('#view .chart canvas').count()).toBeGreaterThanOrEqual(6);

    // Recent invocations: the API's newest page, then the older one through its cursor.
    const listed = () => page.$$eval('#invocations-table tr[data-invocation-id]', (rows) => rows.map((r) => r.getAttribute('data-invocation-id')));
    const first = await (await platform.api(`/v1/functions/${name}/invocations?limit=20`)).json();
    expect(first.items.map((i: { invocationId: string }) => i.invocationId)).toEqual([...ids].reverse().slice(0, 20));
    await expect.poll(listed).toEqual(first.items.map((i: { invocationId: string }) => i.invocationId));
    await page.click('#page-older');
    const older = await (await platform.api(`/v1/functions/${name}/invocations?limit=20&cursor=${first.nextCursor}`)).json();
    await expect.poll(listed).toEqual(older.items.map((i: { invocationId: string }) => i.invocationId));
    expect(older.items.map((i: { invocationId: string }) => i.invocationId)).toEqual([ids[1], ids[0]]);
    await page.click('#page-newest');
    await page.selectOption('#status-filter', 'failed');
    await expect.poll(listed).toEqual([ids[5], ids[2]]);

    // Clicking a row opens that invocation's logs and REPORT line.
    const failed = ids[5]!;
    await page.click(`#invocations-table tr[data-invocation-id="${failed}"]`);
    await page.waitForSelector(`#log-panel[data-loaded="${failed}"]`);
    const logs = await (await platform.api(`/v1/invocations/${failed}/logs`)).json();
    expect(await page.textContent('#log-report')).toBe(logs.report);
    expect(await page.textContent('#log-text')).toBe(logs.logs);
    expect(logs.logs).toContain('event {"fail":true}');

    await page.selectOption('#status-filter', '');
    await expect.poll(listed).toEqual(first.items.map((i: { invocationId: string }) => i.invocationId));
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: 'test-artifacts/dashboard.png', fullPage: true });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('brings the login back with an error when the key is wrong', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${platform.url}/`);
    await page.fill('#api-key', 'not-the-key');
    await page.click('#login-submit');
    await page.waitForSelector('#login-error:not([hidden])');
    expect(await page.textContent('#login-error')).toContain('not accepted');
    expect(await page.isVisible('#login')).toBe(true);
    expect(await page.evaluate('localStorage.getItem("hearth.apiKey")')).toBeNull();

    // A key an older dashboard left in localStorage is traded for a session on load and removed; one that no longer works brings the login back.
    await page.evaluate('localStorage.setItem("hearth.apiKey", "revoked-key")');
    await page.reload();
    await page.waitForSelector('#login-error:not([hidden])');
    expect(await page.isVisible('#login')).toBe(true);
    expect(await page.isVisible('#view table')).toBe(false);
    expect(await page.evaluate('localStorage.getItem("hearth.apiKey")')).toBeNull();
    await context.close();
  });
});
