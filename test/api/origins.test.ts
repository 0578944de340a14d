/** The two origins keep to their own: `/fn` only on the function origin, no service workers, the dashboard's files, function endpoints' caller mistakes. */
import { beforeEach, describe, expect, it } from 'vitest';
import { FUNCTION_CSP } from '../../gateway/routes/http-endpoint.ts';
import { ADMIN_KEY, PLATFORM_KEY, TENANT_KEY, bearer, createFakeGateway, expectError, succeeded, type FakeGateway } from './fake-deps.ts';

let g: FakeGateway;
beforeEach(async () => {
  g = await createFakeGateway();
});

describe('the API origin', () => {
  it.each(['GET', 'POST', 'PUT', 'DELETE'])('answers %s /fn/* with 421 WrongOrigin, naming the function origin', async (method) => {
    const res = await g.app.request('http://gw.example:8080/fn/hello/a/b?x=1', { method, headers: bearer(PLATFORM_KEY) });
    const error = await expectError(res, 421, 'WrongOrigin');
    expect(error.functionUrl).toBe('http://gw.example:8081/fn/hello/a/b?x=1');
    expect(res.headers.get('location')).toBeNull();
  });

  it('answers /fn/* 421 even without a key (no redirect that would carry one)', async () => {
    await expectError(await g.app.request('/fn/hello'), 421, 'WrongOrigin');
  });

  it.each(['/', '/ui/dashboard.js', '/v1/functions', '/v1/session', '/metrics'])('refuses a service-worker script fetch of %s with 403', async (path) => {
    await expectError(await g.app.request(path, { headers: bearer(ADMIN_KEY, { 'Service-Worker': 'script' }) }), 403, 'ServiceWorkerRefused');
  });

  it('serves the dashboard page and its listed files with their security headers', async () => {
    const page = await g.app.request('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const script = await g.app.request('/ui/dashboard.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    const vendor = await g.app.request('/ui/vendor/uPlot.min.css');
    expect(vendor.status).toBe(200);
  });

  it.each(['/ui/nope.js', '/ui/..%2fapp.ts', '/ui/%2e%2e%2f%2e%2e%2fpackage.json', '/ui/vendor/nope.js', '/ui/vendor/..%2f..%2fpackage.json', '/ui/constructor', '/ui/__proto__', '/ui/hasOwnProperty'])(
    'answers GET %s 404 AssetNotFound, never a file outside the list',
    async (path) => {
      await expectError(await g.app.request(path), 404);
    },
  );
});

describe('the function origin', () => {
  it('answers only /fn and /healthz', async () => {
    await expectError(await g.functionApp.request('/'), 404, 'RouteNotFound');
    await expectError(await g.functionApp.request('/v1/functions', { headers: bearer(PLATFORM_KEY) }), 404, 'RouteNotFound');
  });

  it('sandboxes its own error answers too', async () => {
    const res = await g.functionApp.request('/fn/nope');
    await expectError(res, 401, 'Unauthorized');
    expect(res.headers.get('content-security-policy')).toContain(FUNCTION_CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('refuses a service-worker script fetch with 403', async () => {
    g.functions.seed('default', 'open', { public: true });
    await expectError(await g.functionApp.request('/fn/open/sw.js', { headers: { 'Service-Worker': 'script' } }), 403, 'ServiceWorkerRefused');
  });

  it('answers a public function without a key, and hides a private one behind the same 401 as a missing one', async () => {
    g.functions.seed('default', 'open', { public: true });
    g.functions.seed('default', 'closed');
    g.queue.respond = (job) => succeeded(job, JSON.stringify({ statusCode: 200, body: 'hi' }));
    const open = await g.functionApp.request('/fn/open/path?q=1');
    expect(open.status).toBe(200);
    expect(await open.text()).toBe('hi');
    const closed = await expectError(await g.functionApp.request('/fn/closed'), 401, 'Unauthorized');
    const missing = await expectError(await g.functionApp.request('/fn/missing'), 401, 'Unauthorized');
    expect(closed.message).toBe(missing.message);
  });

  it('calls a private function with its namespace key', async () => {
    g.functions.seed('acme', 'closed');
    g.queue.respond = (job) => succeeded(job, JSON.stringify({ statusCode: 201, body: 'made' }));
    const res = await g.functionApp.request('/fn/closed', { method: 'POST', headers: bearer(TENANT_KEY), body: 'x' });
    expect(res.status).toBe(201);
    // The key never reaches the function.
    expect(g.queue.enqueued[0]!.event).not.toContain(TENANT_KEY);
  });

  it.each([
    ['a name that is not a DNS label', '/fn/Bad_Name'],
    ['a name too long', `/fn/${'a'.repeat(64)}`],
    ['a name with a leading dash', '/fn/-x'],
  ])('answers %s with 400 InvalidName', async (_what, path) => {
    await expectError(await g.functionApp.request(path, { headers: bearer(PLATFORM_KEY) }), 400, 'InvalidName');
  });

  it('answers /fn/ with no name 404', async () => {
    await expectError(await g.functionApp.request('/fn/', { headers: bearer(PLATFORM_KEY) }), 404);
  });

  it("answers a tenant's call into another namespace 404, as if absent", async () => {
    g.functions.seed('default', 'theirs');
    await expectError(await g.functionApp.request('/fn/@default/theirs', { headers: bearer(TENANT_KEY) }), 404, 'FunctionNotFound');
  });

  it('answers a wrong key 401 even for a public function', async () => {
    g.functions.seed('default', 'open', { public: true });
    await expectError(await g.functionApp.request('/fn/open', { headers: bearer('wrong') }), 401, 'Unauthorized');
  });

  it('answers a body over 6 MB (declared) with 413', async () => {
    g.functions.seed('default', 'open', { public: true });
    const res = await g.functionApp.request('/fn/open', { method: 'POST', headers: { 'Content-Length': String(7 * 1024 * 1024) }, body: 'x' });
    await expectError(res, 413, 'PayloadTooLarge');
  });

  it('answers a function that does not exist 404 for a caller with a key', async () => {
    await expectError(await g.functionApp.request('/fn/missing', { headers: bearer(PLATFORM_KEY) }), 404, 'FunctionNotFound');
  });

  it('answers 502 (not 500) when the function returns something that cannot be sent', async () => {
    g.functions.seed('default', 'odd', { public: true });
    g.queue.respond = (job) => succeeded(job, JSON.stringify({ statusCode: 99999 }));
    const res = await g.functionApp.request('/fn/odd');
    expect(res.status).toBe(502);
    expect(g.errors).toEqual([]);
  });
});
