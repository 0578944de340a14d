/** Who may call: bearer keys, the admin key and its namespace header, dashboard sessions. No services. */
import { beforeEach, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../gateway/dashboard-session.ts';
import { ADMIN_KEY, PLATFORM_KEY, TENANT_KEY, bearer, createFakeGateway, expectError, type FakeGateway } from './fake-deps.ts';

let g: FakeGateway;
beforeEach(async () => {
  g = await createFakeGateway();
});

describe('health', () => {
  it('answers GET /healthz without a key on both origins', async () => {
    for (const app of [g.app, g.functionApp]) {
      const res = await app.request('/healthz');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
    }
  });

  it('answers an unknown route 404 RouteNotFound', async () => {
    await expectError(await g.app.request('/nope'), 404, 'RouteNotFound');
    await expectError(await g.app.request('/v1/nope', { headers: bearer(PLATFORM_KEY) }), 404, 'RouteNotFound');
    await expectError(await g.functionApp.request('/v1/functions'), 404, 'RouteNotFound');
  });
});

describe('bearer keys', () => {
  const protectedRoutes: Array<[string, string]> = [
    ['GET', '/v1/functions'],
    ['GET', '/v1/functions/f'],
    ['PUT', '/v1/functions/f'],
    ['DELETE', '/v1/functions/f'],
    ['POST', '/v1/functions/f/invoke'],
    ['POST', '/v1/functions/f/rollback'],
    ['GET', '/v1/functions/f/versions'],
    ['GET', '/v1/functions/f/metrics'],
    ['GET', '/v1/functions/f/logs'],
    ['GET', '/v1/functions/f/invocations'],
    ['GET', '/v1/invocations/00000000-0000-4000-8000-000000000000'],
    ['GET', '/v1/invocations/00000000-0000-4000-8000-000000000000/logs'],
    ['GET', '/v1/metrics/summary'],
    ['GET', '/v1/workers'],
    ['GET', '/v1/namespaces'],
    ['POST', '/v1/namespaces'],
    ['PATCH', '/v1/namespaces/acme'],
    ['DELETE', '/v1/namespaces/acme'],
    ['POST', '/v1/namespaces/acme/keys'],
    ['GET', '/v1/namespaces/acme/keys'],
    ['DELETE', '/v1/namespaces/acme/keys/00000000-0000-4000-8000-000000000000'],
    ['POST', '/v1/session'],
    ['GET', '/metrics'],
  ];

  it.each(protectedRoutes)('%s %s without a key is 401 Unauthorized', async (method, path) => {
    await expectError(await g.app.request(path, { method }), 401, 'Unauthorized');
  });

  it.each([
    ['a wrong key', 'Bearer not-a-key'],
    ['a key of the namespace-key shape that matches none', 'Bearer hk_0000000000000000000000000000000X'],
    ['another scheme', `Basic ${Buffer.from(`x:${PLATFORM_KEY}`).toString('base64')}`],
    ['no token', 'Bearer'],
    ['two tokens', `Bearer ${PLATFORM_KEY} ${PLATFORM_KEY}`],
    ['an empty header', ''],
    ['a very long token', `Bearer ${'a'.repeat(8000)}`],
  ])('refuses %s with 401', async (_what, authorization) => {
    await expectError(await g.app.request('/v1/functions', { headers: { Authorization: authorization } }), 401, 'Unauthorized');
  });

  it('accepts the platform, admin and namespace keys, each in its namespace', async () => {
    g.functions.seed('default', 'in-default');
    g.functions.seed('acme', 'in-acme');
    const names = async (key: string) => ((await (await g.app.request('/v1/functions', { headers: bearer(key) })).json()) as { functions: Array<{ name: string }> }).functions.map((f) => f.name);
    expect(await names(PLATFORM_KEY)).toEqual(['in-default']);
    expect(await names(ADMIN_KEY)).toEqual(['in-default']);
    expect(await names(TENANT_KEY)).toEqual(['in-acme']);
  });

  it('stops accepting a namespace key once it is revoked', async () => {
    await g.tenants.revokeKey('acme', g.tenantKeyId);
    await expectError(await g.app.request('/v1/functions', { headers: bearer(TENANT_KEY) }), 401, 'Unauthorized');
  });
});

describe('the admin key and X-Hearth-Namespace', () => {
  it('acts in the namespace the header names', async () => {
    g.functions.seed('acme', 'in-acme');
    const res = await g.app.request('/v1/functions', { headers: bearer(ADMIN_KEY, { 'X-Hearth-Namespace': 'acme' }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { functions: Array<{ name: string }> }).functions.map((f) => f.name)).toEqual(['in-acme']);
  });

  it.each([
    ['a namespace that does not exist', 'nowhere'],
    ['a name that is not a DNS label', 'Not_A_Label'],
    ['a very long name', 'a'.repeat(300)],
    ['an empty name', ''],
  ])('answers 404 NamespaceNotFound for %s', async (_what, namespace) => {
    await expectError(await g.app.request('/v1/functions', { headers: bearer(ADMIN_KEY, { 'X-Hearth-Namespace': namespace }) }), 404, 'NamespaceNotFound');
  });

  it('ignores the header for a namespace key: a tenant stays in its own namespace', async () => {
    g.functions.seed('default', 'in-default');
    const res = await g.app.request('/v1/functions', { headers: bearer(TENANT_KEY, { 'X-Hearth-Namespace': 'default' }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { functions: unknown[] }).functions).toEqual([]);
  });
});

describe('admin-only routes', () => {
  const adminRoutes: Array<[string, string, string?]> = [
    ['GET', '/metrics'],
    ['GET', '/v1/workers'],
    ['GET', '/v1/namespaces'],
    ['POST', '/v1/namespaces', '{"name":"x"}'],
    ['PATCH', '/v1/namespaces/acme', '{"concurrencyQuota":1}'],
    ['DELETE', '/v1/namespaces/acme'],
    ['POST', '/v1/namespaces/acme/keys', '{}'],
    ['GET', '/v1/namespaces/acme/keys'],
    ['DELETE', '/v1/namespaces/acme/keys/00000000-0000-4000-8000-000000000000'],
  ];

  it.each(adminRoutes)('%s %s with a namespace key is 403 Forbidden', async (method, path, body) => {
    const init = { method, headers: bearer(TENANT_KEY, { 'Content-Type': 'application/json' }), ...(body ? { body } : {}) };
    await expectError(await g.app.request(path, init), 403, 'Forbidden');
  });

  it.each(adminRoutes)('%s %s with the platform key (an admin key is configured) is 403 Forbidden', async (method, path, body) => {
    const init = { method, headers: bearer(PLATFORM_KEY, { 'Content-Type': 'application/json' }), ...(body ? { body } : {}) };
    await expectError(await g.app.request(path, init), 403, 'Forbidden');
  });

  it('serves GET /metrics and GET /v1/workers to the admin key', async () => {
    const metrics = await g.app.request('/metrics', { headers: bearer(ADMIN_KEY) });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('hearth_gateway_requests_total');
    const { workerReport } = await import('./fake-deps.ts');
    g.workers.push(workerReport('w-1'));
    const workers = await g.app.request('/v1/workers', { headers: bearer(ADMIN_KEY) });
    expect(workers.status).toBe(200);
    expect(await workers.json()).toMatchObject({ workers: [{ workerId: 'w-1', load: 0.25, containers: { warm: 1 } }] });
  });
});

describe('dashboard sessions', () => {
  const cookieOf = (res: Response) => /hearth_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];

  async function signIn(key = PLATFORM_KEY): Promise<string> {
    const res = await g.app.request('/v1/session', { method: 'POST', headers: bearer(key) });
    expect(res.status).toBe(200);
    const cookie = cookieOf(res);
    expect(cookie).toBeDefined();
    return cookie!;
  }

  it('GET /v1/session without credentials says signed out, not 401', async () => {
    const res = await g.app.request('/v1/session');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ signedIn: false });
  });

  it('signs in with a key and then accepts the cookie with the dashboard header', async () => {
    const res = await g.app.request('/v1/session', { method: 'POST', headers: bearer(TENANT_KEY) });
    expect(await res.json()).toEqual({ signedIn: true, namespace: 'acme', admin: false });
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Path=\/v1/);
    const who = await g.app.request('/v1/session', { headers: { Cookie: `${SESSION_COOKIE}=${cookieOf(res)}`, 'X-Hearth-Dashboard': '1' } });
    expect(await who.json()).toEqual({ signedIn: true, namespace: 'acme', admin: false });
    const list = await g.app.request('/v1/functions', { headers: { Cookie: `${SESSION_COOKIE}=${cookieOf(res)}`, 'X-Hearth-Dashboard': '1', 'Sec-Fetch-Site': 'same-origin' } });
    expect(list.status).toBe(200);
  });

  it('POST /v1/session with a cookie but no bearer key is 400 BearerKeyRequired', async () => {
    const cookie = await signIn();
    const res = await g.app.request('/v1/session', { method: 'POST', headers: { Cookie: `${SESSION_COOKIE}=${cookie}`, 'X-Hearth-Dashboard': '1' } });
    await expectError(res, 400, 'BearerKeyRequired');
  });

  it('POST /v1/session with a wrong key is 401', async () => {
    await expectError(await g.app.request('/v1/session', { method: 'POST', headers: bearer('wrong') }), 401, 'Unauthorized');
  });

  it.each([
    ['without the dashboard header', (c: string) => ({ Cookie: `${SESSION_COOKIE}=${c}` })],
    ['with the header set to something else', (c: string) => ({ Cookie: `${SESSION_COOKIE}=${c}`, 'X-Hearth-Dashboard': 'yes' })],
    ['from another site', (c: string) => ({ Cookie: `${SESSION_COOKIE}=${c}`, 'X-Hearth-Dashboard': '1', 'Sec-Fetch-Site': 'cross-site' })],
    ['twice (a planted cookie)', (c: string) => ({ Cookie: `${SESSION_COOKIE}=${c}; ${SESSION_COOKIE}=${c}`, 'X-Hearth-Dashboard': '1' })],
    ['altered', (c: string) => ({ Cookie: `${SESSION_COOKIE}=${c.slice(0, 20)}${c[20] === 'A' ? 'B' : 'A'}${c.slice(21)}`, 'X-Hearth-Dashboard': '1' })],
    ['not base64url', () => ({ Cookie: `${SESSION_COOKIE}=%%%`, 'X-Hearth-Dashboard': '1' })],
    ['huge', () => ({ Cookie: `${SESSION_COOKIE}=${'A'.repeat(5000)}`, 'X-Hearth-Dashboard': '1' })],
    ['empty', () => ({ Cookie: `${SESSION_COOKIE}=`, 'X-Hearth-Dashboard': '1' })],
  ])('refuses the session cookie %s with 401', async (_what, headers) => {
    const cookie = await signIn();
    await expectError(await g.app.request('/v1/functions', { headers: headers(cookie) }), 401, 'Unauthorized');
  });

  it('refuses a session whose key was revoked', async () => {
    const cookie = await signIn(TENANT_KEY);
    await g.tenants.revokeKey('acme', g.tenantKeyId);
    await expectError(await g.app.request('/v1/functions', { headers: { Cookie: `${SESSION_COOKIE}=${cookie}`, 'X-Hearth-Dashboard': '1' } }), 401, 'Unauthorized');
  });

  it('DELETE /v1/session clears the cookie, with or without credentials', async () => {
    const res = await g.app.request('/v1/session', { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(res.headers.get('set-cookie') ?? '').toMatch(/hearth_session=;.*Max-Age=0/i);
  });

  it('never lets a session cookie call a function on the function origin', async () => {
    g.functions.seed('default', 'private-fn');
    const cookie = await signIn();
    const res = await g.functionApp.request('/fn/private-fn', { headers: { Cookie: `${SESSION_COOKIE}=${cookie}`, 'X-Hearth-Dashboard': '1' } });
    await expectError(res, 401, 'Unauthorized');
  });
});
