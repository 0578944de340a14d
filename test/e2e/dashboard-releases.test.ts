/**
 * The dashboard's releases view in a real browser against a real platform:
 * a function page lists its aliases with their versions and weights, the
 * window split by version (exactly the metrics API's numbers, and the page
 * for one version when it is picked), and each alias's latest rollout as a
 * timeline of its steps with both versions' error rate and p99 side by
 * side; a rolled-back one says why. Finished rollouts are rows written
 * straight into Postgres, as the engine writes them; a live one is started
 * and aborted through the API on the real engine while the page watches. A
 * hostile alias description and rollout reason are shown as text, never as markup.
 */
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.ts';
import { deploy, invoke, uniqueName } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform } from '../helpers/platform.ts';

const CODE = (v: number) => `exports.handler = async (event) => { if (event.fail) throw new Error('v${v} failed'); return ${v}; };`;
const HOSTILE = `<img src=x onerror="window.__pwned = 1"><b id="injected">bold</b><script>window.__pwned = 2</script>`;
const REASON = `v2 error rate 40% > 1% (4 of 10 calls failed) <img src=y onerror="window.__pwned = 3">`;

const pick = (object: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((value, key) => (value == null ? undefined : (value as Record<string, unknown>)[key]), object) ?? null;

/** Numbers bound under `selector` (`attribute` names their path) that differ from the same field of `api`. */
async function mismatches(page: Page, selector: string, attribute: string, api: unknown) {
  const shown = await page.$$eval(`${selector} [${attribute}]`, (els, attr) => els.map((e) => [e.getAttribute(attr) ?? '', e.getAttribute('data-raw') ?? ''] as const), attribute);
  expect(shown.length).toBeGreaterThan(0);
  return shown.filter(([path, raw]) => raw !== JSON.stringify(pick(api, path))).map(([path, raw]) => `${path}: shown ${raw}, API ${JSON.stringify(pick(api, path))}`);
}

describe('web dashboard: aliases, versions and rollouts', () => {
  let platform: Platform;
  let browser: Browser;
  const name = uniqueName('releases');

  /** A finished rollout of `alias`, as the engine leaves one. */
  async function insertRollout(alias: string, status: 'completed' | 'rolled-back', stepIndex: number, reason: string | null, checks: object[]) {
    const { rows } = await platform.database.pool.query('select id from functions where namespace = $1 and name = $2', ['default', name]);
    await platform.database.pool.query(
      `insert into rollouts (function_id, namespace, function_name, alias, from_version, to_version, steps, step_ms, guard, status, step_index,
                             step_started_at, next_check_at, reason, history, created_at, updated_at, finished_at)
       values ($1, 'default', $2, $3, 1, 2, '[0.05, 0.25, 0.5, 1]', 60000, '{"maxErrorRate": 0.01, "maxP99Ratio": 1.5, "minCalls": 10}', $4, $5,
               now() - interval '1 minute', null, $6, $7, now() - interval '3 minutes', now(), now())`,
      [rows[0].id, name, alias, status, stepIndex, reason, JSON.stringify(checks)],
    );
  }

  const numbers = (version: number, calls: number, errors: number, p99Ms: number | null) => ({ version, calls, errors, errorRate: calls ? errors / calls : 0, p99Ms });
  const check = (stepIndex: number, weight: number, decision: string, reason: string, from: object, to: object) => ({
    at: new Date().toISOString(), stepIndex, weight, windowStart: new Date(Date.now() - 60_000).toISOString(), windowEnd: new Date().toISOString(), from, to, decision, reason,
  });

  beforeAll(async () => {
    platform = await startPlatform();
    for (const v of [1, 2]) expect((await deploy(platform, name, { bytes: Buffer.from(CODE(v)), filename: 'index.js' }, { runtime: 'nodejs20' })).status).toBe(201);
    for (const [version, event] of [[1, {}], [1, {}], [1, {}], [2, {}], [2, { fail: true }]] as const) {
      const res = await invoke(platform, name, event, `?version=${version}`);
      await recordOf(platform, res.headers.get('x-invocation-id'));
    }
    const put = (alias: string, body: object) => platform.api(`/v1/functions/${name}/aliases/${alias}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await put('live', { version: 1, weights: { '2': 0.1 }, description: HOSTILE })).status).toBe(201);
    expect((await put('stable', { version: 1, description: 'the safe one' })).status).toBe(201);
    await insertRollout('stable', 'rolled-back', 1, REASON, [
      check(0, 0.05, 'advance', 'v2 12 calls, error rate 0% ≤ 1%, p99 1.1× v1', numbers(1, 190, 1, 10.5), numbers(2, 12, 0, 11.6)),
      check(1, 0.25, 'rollback', REASON, numbers(1, 150, 0, 9.8), numbers(2, 10, 4, null)),
    ]);
    await insertRollout('latest', 'completed', 3, null, [0.05, 0.25, 0.5, 1].map((w, i) => check(i, w, i === 3 ? 'complete' : 'advance', `step ${i + 1} fine`, numbers(1, 100, 0, 10), numbers(2, 20 * (i + 1), 0, 11))));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('shows aliases, per-version numbers and rollout timelines, hostile text as text', async () => {
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
    await page.waitForSelector('#aliases[data-loaded] tr[data-alias="live"]');

    // Aliases: versions and weights as the API has them.
    const aliases = (await (await platform.api(`/v1/functions/${name}/aliases`)).json()).aliases as Array<{ name: string; version: number; weights: object }>;
    const rows = await page.$$eval('#aliases-table tbody tr', (trs) =>
      trs.map((tr) => ({
        alias: tr.getAttribute('data-alias'),
        version: tr.querySelector('[data-field="version"]')?.textContent,
        weights: tr.querySelector('[data-field="weights"]')?.getAttribute('data-raw'),
        label: tr.querySelector('.weight-label')?.textContent,
      })),
    );
    expect(rows).toEqual(aliases.map((a) => expect.objectContaining({ alias: a.name, version: `v${a.version}`, weights: JSON.stringify(a.weights) })));
    expect(rows.find((r) => r.alias === 'live')?.label).toBe('v1 90.0% · v2 10.0%');
    expect(rows.find((r) => r.alias === 'latest')?.label).toBe('v2 100.0%');

    // The hostile description is its own text, and nothing in it ran or became an element.
    expect(await page.textContent('#aliases-table tr[data-alias="live"] [data-field="description"]')).toBe(HOSTILE);
    expect(await page.$$eval('#aliases img, #aliases script, #injected', (els) => els.length)).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();

    // By version: exactly the metrics API's breakdown, newest version first, tagged with the aliases sending it calls.
    await page.waitForSelector('#versions-table tr[data-version="2"]');
    await expect.poll(async () => mismatches(page, '#versions-table', 'data-metric', await (await platform.api(`/v1/functions/${name}/metrics?window=${await page.inputValue('#window')}`)).json()), { timeout: 10_000 }).toEqual([]);
    expect(await page.$$eval('#versions-table tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-version')))).toEqual(['2', '1']);
    expect(await page.textContent('#versions-table tr[data-version="2"] th')).toBe('v2latestlive 10.0%');

    // The rolled-back rollout leads with why, and the numbers that decided it.
    const rolledBack = page.locator('.rollout[data-alias="stable"]');
    expect(await rolledBack.getAttribute('data-status')).toBe('rolled-back');
    expect(await rolledBack.locator('.reason-text').textContent()).toBe(REASON);
    expect(await rolledBack.locator('.reason-numbers').textContent()).toContain('v2: 4 of 10 calls failed (40.0%), p99 — · v1: 0 of 150 calls failed (0.0%), p99 9.8 ms');
    expect(await rolledBack.locator('.step').evaluateAll((steps) => steps.map((s) => s.getAttribute('data-state')))).toEqual(['done', 'failed', 'skipped', 'skipped']);
    const stableView = await (await platform.api(`/v1/functions/${name}/aliases/stable/rollout`)).json();
    expect(await mismatches(page, '.rollout[data-alias="stable"]', 'data-check-field', stableView)).toEqual([]);
    // Both versions side by side in each check: old, then new.
    const firstCheck = rolledBack.locator('.check[data-check="0"] table');
    expect(await firstCheck.locator('thead th').allTextContents()).toEqual(['', 'v1 (old)', 'v2 (new)']);
    expect(await firstCheck.locator('tbody tr').allInnerTexts()).toEqual(['Calls\t190\t12', 'Errors\t1\t0', 'Error rate\t0.5%\t0.0%', 'p99\t10.5 ms\t11.6 ms']);
    expect(await rolledBack.locator('.check[data-check="1"]').getAttribute('data-decision')).toBe('rollback');

    const completed = page.locator('.rollout[data-alias="latest"]');
    expect(await completed.getAttribute('data-status')).toBe('completed');
    expect(await completed.locator('.rollout-reason').count()).toBe(0);
    expect(await completed.locator('.step').evaluateAll((steps) => steps.map((s) => s.getAttribute('data-state')))).toEqual(['done', 'done', 'done', 'done']);
    expect(await page.$$eval('.rollouts img, .rollouts script', (els) => els.length)).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    await mkdir('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/dashboard-releases.png', fullPage: true });

    // Picking a version shows its calls alone, exactly as ?version= gives them.
    await page.click('#versions-table tr[data-version="2"]');
    await page.waitForSelector('#fn-headline[data-version="2"]');
    expect(await page.inputValue('#version-filter')).toBe('2');
    await expect.poll(async () => mismatches(page, '#fn-headline', 'data-metric', await (await platform.api(`/v1/functions/${name}/metrics?window=${await page.inputValue('#window')}&version=2`)).json()), { timeout: 10_000 }).toEqual([]);
    expect(await page.getAttribute('#fn-headline [data-metric="invocations"]', 'data-raw')).toBe('2');
    expect(await page.getAttribute('#fn-headline [data-metric="errors.total"]', 'data-raw')).toBe('1');
    await page.selectOption('#version-filter', '');
    await page.waitForSelector('#fn-headline[data-version="all"]');
    await expect.poll(() => page.getAttribute('#fn-headline [data-metric="invocations"]', 'data-raw')).toBe('5');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('follows a live rollout as it starts and is aborted, without a reload', { timeout: 60_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    await page.goto(`${platform.url}/`);
    await page.fill('#api-key', platform.apiKey);
    await page.click('#login-submit');
    await page.waitForSelector('#functions');
    await page.goto(`${platform.url}/#/functions/${name}`);
    await page.waitForSelector('.rollout[data-alias="stable"][data-status="rolled-back"]');

    const rollout = (action: string, body?: object) =>
      platform.api(`/v1/functions/${name}/aliases/stable/rollout${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    expect((await rollout('', { toVersion: 2, stepMs: 600_000 })).status).toBe(201);
    const running = page.locator('.rollout[data-alias="stable"][data-status="running"]');
    await running.waitFor({ timeout: 15_000 });
    expect(await running.locator('.step').evaluateAll((steps) => steps.map((s) => s.getAttribute('data-state')))).toEqual(['current', 'pending', 'pending', 'pending']);
    expect(await running.locator('.step[data-step="0"] .step-empty').textContent()).toMatch(/^first check at /);
    expect(await page.textContent('#aliases-table tr[data-alias="stable"] .weight-label')).toBe('v1 95.0% · v2 5.0%');
    // The active rollout is listed first.
    expect(await page.$$eval('.rollout', (els) => els.map((e) => e.getAttribute('data-status')))).toEqual(['running', 'completed']);

    expect((await rollout('/abort')).status).toBe(200);
    const aborted = page.locator('.rollout[data-alias="stable"][data-status="aborted"]');
    await aborted.waitFor({ timeout: 15_000 });
    const view = await (await platform.api(`/v1/functions/${name}/aliases/stable/rollout`)).json();
    expect(await aborted.locator('.rollout-reason .reason-text').textContent()).toBe(view.reason);
    expect(await aborted.locator('.step').evaluateAll((steps) => steps.map((s) => s.getAttribute('data-state')))).toEqual(['aborted', 'skipped', 'skipped', 'skipped']);
    await expect.poll(() => page.textContent('#aliases-table tr[data-alias="stable"] .weight-label')).toBe('v1 100.0%');
    expect(problems).toEqual([]);
    await context.close();
  });
});
