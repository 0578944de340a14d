/**
 * The dashboard's triggers in a real browser against a real platform: a
 * function page lists its triggers with their type, state (each its own
 * colour), what they read, the next tick or lag and the last run; a trigger
 * whose Redis broker the test stops shows the error state with the error's
 * text; pause and resume from the page reach the API; the destinations are
 * shown; invocations say their mode and trigger. Hostile text (a stream
 * name and an error holding markup) is shown as text, never as markup.
 */
import { mkdir } from 'node:fs/promises';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStreamKit, type BrokerKit } from '../helpers/broker-kits.ts';
import { launchChromium } from '../helpers/browser.ts';
import { deploy, invoke, uniqueName } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

const CODE = `exports.handler = async (event) => ({ ok: true });`;
const HOSTILE_STREAM = '<img/src=x/onerror=window.__pwned=1>';
const HOSTILE_ERROR = `broker said <img src=y onerror="window.__pwned = 2"><b id="injected">bold</b><script>window.__pwned = 3</script>`;
const RED = 'rgb(201, 60, 60)';
const GREEN = 'rgb(34, 128, 77)';

describe('web dashboard: triggers and destinations', () => {
  let platform: Platform;
  let browser: Browser;
  let kit: BrokerKit;
  const name = uniqueName('triggered');
  const other = uniqueName('outcomes');

  const api = (path: string, method = 'GET', body?: unknown) =>
    platform.api(`/v1/functions/${name}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const putTrigger = async (trigger: string, body: object) => {
    const res = await api(`/triggers/${trigger}`, 'PUT', body);
    expect(res.status, await res.clone().text()).toBe(201);
  };
  const statusOf = async (trigger: string) => (await (await api(`/triggers/${trigger}`)).json()).status;

  beforeAll(async () => {
    kit = await redisStreamKit();
    platform = await startPlatform({ outboundAllowHosts: ['127.0.0.1'] });
    for (const fn of [name, other]) expect((await deploy(platform, fn, { bytes: Buffer.from(CODE), filename: 'index.js' }, { runtime: 'nodejs20' })).status).toBe(201);
    // A stream whose name is markup: a stream, queue or subject name is the tenant's text.
    const broker = new Redis(kit.server!.url);
    await broker.xgroup('CREATE', HOSTILE_STREAM, 'bootstrap', '$', 'MKSTREAM');
    broker.disconnect();

    // Crons, not rates: a new rate schedule ticks at once, and these must not tick during the test.
    await putTrigger('nightly', { type: 'schedule', schedule: 'cron(0 3 * * ? *)' });
    await putTrigger('orders', { type: 'redis-stream', ...kit.settings });
    await putTrigger('marked-up', { type: 'redis-stream', url: kit.server!.url, stream: HOSTILE_STREAM });
    await putTrigger('broken', { type: 'schedule', schedule: 'cron(0 4 1 1 ? *)' });
    // The status as a runner writes it, holding an error that is markup.
    const { rows } = await platform.database.pool.query('select t.id from triggers t join functions f on f.id = t.function_id where f.name = $1 and t.name = $2', [name, 'broken']);
    const redis = new Redis(platform.redisUrl);
    await redis.hset(`${platform.prefix}:trigger-status:${rows[0].id}`, 'state', JSON.stringify('error'), 'lastError', JSON.stringify({ message: HOSTILE_ERROR, at: Date.now() }));
    redis.disconnect();
    expect((await api('/destinations', 'PUT', { onSuccess: { type: 'function', name: other, alias: 'latest' }, onFailure: { type: 'webhook', url: 'http://127.0.0.1:9/hook', secret: '0123456789abcdef' } })).status).toBe(200);
    await waitFor('the stream triggers to run', async () => (await statusOf('orders')).state === 'running' && (await statusOf('marked-up')).state === 'running', 30_000, 200);
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    for (const fn of [name, other]) await platform?.api(`/v1/functions/${fn}`, { method: 'DELETE' });
    await platform?.stop();
    await kit?.close();
  });

  async function openPage(): Promise<{ page: Page; problems: string[]; close(): Promise<void> }> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('dialog', (d) => problems.push(`dialog: ${d.message()}`));
    await page.goto(`${platform.url}/`);
    await page.fill('#api-key', platform.apiKey);
    await page.click('#login-submit');
    await page.waitForSelector('#functions');
    await page.goto(`${platform.url}/#/functions/${name}`);
    await page.waitForSelector('#triggers[data-loaded] tr[data-trigger="nightly"]');
    return { page, problems, close: () => context.close() };
  }

  /** A trigger's row as shown: each field's text, the badge's colour, when its next tick and last run are. */
  const rowOf = async (page: Page, trigger: string) => {
    const selector = `#triggers-table tr[data-trigger="${trigger}"]`;
    const colour = await page.evaluate(`getComputedStyle(document.querySelector(${JSON.stringify(`${selector} .trigger-state`)})).color`);
    const shown = await page.$eval(selector, (tr) => {
      const field = (f: string) => tr.querySelector(`[data-field="${f}"]`);
      return {
        state: tr.getAttribute('data-state'),
        badge: tr.querySelector('.trigger-state')?.textContent,
        type: field('type')?.textContent,
        source: field('source')?.textContent,
        next: field('next')?.textContent,
        nextAt: field('next')?.getAttribute('data-at'),
        lastRun: field('lastRun')?.textContent,
        lastError: field('lastError')?.textContent,
        action: tr.querySelector('button')?.getAttribute('data-action'),
      };
    });
    return { ...shown, colour };
  };

  it('lists each trigger with its state, source and next tick; a broker that went away shows its error; hostile text stays text', { timeout: 120_000 }, async () => {
    const { page, problems, close } = await openPage();
    const nightly = await rowOf(page, 'nightly');
    const nextRunAt = (await statusOf('nightly')).nextRunAt as number;
    expect(nightly).toMatchObject({ state: 'running', badge: 'running', colour: GREEN, type: 'schedule', source: 'cron(0 3 * * ? *)', lastRun: 'never', lastError: '', action: 'pause' });
    expect(nightly.next).toMatch(/^next in (\d+h|\d+m|\d+s)$/);
    expect(nightly.nextAt).toBe(new Date(nextRunAt).toISOString());
    expect(await rowOf(page, 'orders')).toMatchObject({ state: 'running', type: 'redis-stream', source: `stream ${kit.settings.stream} @ 127.0.0.1:${kit.server!.port}` });

    // Hostile text: the stream's name and the error are their own text, and nothing in them ran or became an element.
    expect((await rowOf(page, 'marked-up')).source).toBe(`stream ${HOSTILE_STREAM} @ 127.0.0.1:${kit.server!.port}`);
    expect(await rowOf(page, 'broken')).toMatchObject({ state: 'error', badge: 'error', colour: RED, lastError: HOSTILE_ERROR });
    expect(await page.$$eval('#triggers img, #triggers script, #injected', (els) => els.length)).toBe(0);

    // Destinations: type and target.
    expect(await page.textContent('#destinations [data-destination="onSuccess"]')).toBe(`function ${other}@latest`);
    expect(await page.textContent('#destinations [data-destination="onFailure"]')).toBe('webhook http://127.0.0.1:9/hook (signed with its own secret)');

    // The broker goes away: the row turns to the error state, with the reason the platform gives.
    await kit.server!.stop();
    await waitFor('the API to show the error', async () => (await statusOf('orders')).state === 'error', 30_000, 200);
    await page.waitForSelector('#triggers-table tr[data-trigger="orders"][data-state="error"]', { timeout: 20_000 });
    const why = (await statusOf('orders')).lastError.message as string;
    await expect.poll(async () => (await rowOf(page, 'orders')).lastError, { timeout: 10_000 }).toBe(why);
    expect(await rowOf(page, 'orders')).toMatchObject({ badge: 'error', colour: RED });
    expect(why).toContain(String(kit.server!.port));
    await mkdir('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/dashboard-triggers.png', fullPage: true });
    await kit.server!.start();
    await page.waitForSelector('#triggers-table tr[data-trigger="orders"][data-state="running"]', { timeout: 60_000 });

    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(problems).toEqual([]);
    await close();
  });

  it('pauses and resumes a trigger from its button', { timeout: 60_000 }, async () => {
    const { page, problems, close } = await openPage();
    await page.click('#triggers-table tr[data-trigger="nightly"] button[data-action="pause"]');
    await page.waitForSelector('#triggers-table tr[data-trigger="nightly"][data-state="paused"]');
    expect((await (await api('/triggers/nightly')).json()).enabled).toBe(false);
    expect(await rowOf(page, 'nightly')).toMatchObject({ badge: 'paused', next: '—', action: 'resume' });

    await page.click('#triggers-table tr[data-trigger="nightly"] button[data-action="resume"]');
    await page.waitForSelector('#triggers-table tr[data-trigger="nightly"][data-state="running"]');
    expect((await (await api('/triggers/nightly')).json()).enabled).toBe(true);
    expect((await rowOf(page, 'nightly')).next).toMatch(/^next in (\d+h|\d+m|\d+s)$/);
    expect(problems).toEqual([]);
    await close();
  });

  it('shows the mode of each invocation, and the trigger that made it', { timeout: 90_000 }, async () => {
    const res = await invoke(platform, name, {});
    expect(res.status).toBe(200);
    const syncId = res.headers.get('x-invocation-id')!;
    await putTrigger('ticker', { type: 'schedule', schedule: 'rate(1 second)' });
    let tickId = '';
    await waitFor('a tick to be recorded', async () => {
      const { rows } = await platform.database.pool.query(`select id from invocations where function_name = $1 and trigger = 'ticker' limit 1`, [name]);
      tickId = rows[0]?.id ?? '';
      return tickId !== '';
    }, 30_000, 250);
    expect((await api('/triggers/ticker', 'DELETE')).status).toBe(204);

    const { page, problems, close } = await openPage();
    const modeOf = (id: string) =>
      page.$eval(`#invocations-table tr[data-invocation-id="${id}"] [data-field="mode"]`, (td) => ({ mode: td.getAttribute('data-mode'), trigger: td.getAttribute('data-trigger'), text: td.textContent }));
    await page.waitForSelector(`#invocations-table tr[data-invocation-id="${tickId}"]`, { timeout: 20_000 });
    expect(await modeOf(syncId)).toEqual({ mode: 'sync', trigger: '', text: 'sync' });
    expect(await modeOf(tickId)).toEqual({ mode: 'schedule', trigger: 'ticker', text: 'scheduleticker' });
    expect(problems).toEqual([]);
    await close();
  });
});
