/**
 * The dashboard signed in with a tenant's key, in a real browser against a
 * real platform: the summary gives a tenant no worker pool (platform-wide
 * numbers are the admin's), so the page shows the tenant's functions and
 * numbers without the pool panel, and without an error.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.ts';
import { uniqueName } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { waitUntil } from '../helpers/wait.ts';

const ADMIN = 'dashboard-admin-key-0123456789abcdef';

describe('web dashboard with a tenant key', () => {
  let platform: Platform;
  let browser: Browser;
  let key: string;
  const name = uniqueName('tenant-dash');

  beforeAll(async () => {
    platform = await startPlatform({ adminKey: ADMIN });
    const admin = (path: string, body: string) =>
      platform.api(path, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` }, body });
    const tenant = uniqueName('dash-tenant');
    expect((await admin('/v1/namespaces', JSON.stringify({ name: tenant }))).status).toBe(201);
    key = (await (await admin(`/v1/namespaces/${tenant}/keys`, '{}')).json()).key;
    const asTenant = (path: string, init: RequestInit) => platform.api(path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${key}` } });
    const form = new FormData();
    form.set('code', new Blob([Buffer.from('exports.handler = async () => "ok";\n')]), 'index.js');
    form.set('runtime', 'nodejs20');
    expect((await asTenant(`/v1/functions/${name}`, { method: 'PUT', body: form })).status).toBe(201);
    const called = await asTenant(`/v1/functions/${name}/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(called.status).toBe(200);
    const id = called.headers.get('x-invocation-id')!;
    await waitUntil(async () => (await (await asTenant(`/v1/invocations/${id}`, {})).json()).status === 'succeeded', 5000);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('lists the tenant’s function with its numbers and hides the pool panel', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));

    await page.goto(`${platform.url}/`);
    await page.fill('#api-key', key);
    await page.click('#login-submit');

    const row = page.locator(`#functions tr[data-function="${name}"]`);
    await row.waitFor();
    await expect.poll(() => row.locator('[data-field="invocations"]').getAttribute('data-raw')).toBe('1');
    await expect.poll(() => page.getAttribute('[data-metric="invocations"]', 'data-raw')).toBe('1');
    expect(await page.locator('#pool').isHidden()).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });
});
