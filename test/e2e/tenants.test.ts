/**
 * Tenants end to end: namespaces and keys made by the admin key, each key
 * seeing only its own namespace, revocation, public endpoints, and a
 * namespace's concurrency quota.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, uniqueName } from '../helpers/packages.ts';
import { fetchWithoutKey, recordOf, startPlatform, type Platform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';
import { waitForBusy } from '../helpers/worker-state.ts';

const ADMIN = 'admin-key-0123456789abcdef';
const source = (text: string) => ({
  bytes: Buffer.from(`exports.handler = async (e) => { if (e.sleepMs) await new Promise((r) => setTimeout(r, e.sleepMs)); return ${JSON.stringify(text)}; };`),
  filename: 'index.js',
});

describe('tenants', () => {
  let platform: Platform;
  const tenant = uniqueName('acme');
  let tenantKey: string;
  let tenantKeyId: string;
  const as = (key: string) => (path: string, init: RequestInit = {}) =>
    platform.api(path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${key}` } });
  const admin = (path: string, init: RequestInit = {}) => as(ADMIN)(path, init);

  beforeAll(async () => {
    platform = await startPlatform({ adminKey: ADMIN, throttleWaitMs: 400 });
    const created = await admin('/v1/namespaces', { method: 'POST', body: JSON.stringify({ name: tenant }) });
    expect(created.status).toBe(201);
    const key = await admin(`/v1/namespaces/${tenant}/keys`, { method: 'POST', body: JSON.stringify({ name: 'ci' }) });
    expect(key.status).toBe(201);
    const body = await key.json();
    tenantKey = body.key;
    tenantKeyId = body.id;
    expect(tenantKey).toMatch(/^hk_[A-Za-z0-9_-]{32}$/);
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('shows a key once and stores only its hash', async () => {
    const listed = await (await admin(`/v1/namespaces/${tenant}/keys`)).json();
    expect(listed.keys).toHaveLength(1);
    expect(listed.keys[0]).toMatchObject({ id: tenantKeyId, name: 'ci', prefix: tenantKey.slice(0, 10), revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(tenantKey);
    const { rows } = await platform.database.pool.query('select key_hash from api_keys where id = $1', [tenantKeyId]);
    expect(rows[0].key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].key_hash).not.toContain(tenantKey);
  });

  it('keeps namespaces apart: same names, separate functions, and another tenant’s things are 404', async () => {
    const name = uniqueName('same');
    expect((await deploy(platform, name, source('default says hi'), { runtime: 'nodejs20' })).status).toBe(201);
    const form = new FormData();
    form.set('code', new Blob([source('acme says hi').bytes]), 'index.js');
    form.set('runtime', 'nodejs20');
    expect((await as(tenantKey)(`/v1/functions/${name}`, { method: 'PUT', body: form })).status).toBe(201);

    const mine = await as(tenantKey)(`/v1/functions/${name}/invoke`, { method: 'POST', body: '{}' });
    expect(await mine.json()).toBe('acme says hi');
    const theirs = await platform.api(`/v1/functions/${name}/invoke`, { method: 'POST', body: '{}' });
    expect(await theirs.json()).toBe('default says hi');

    // The tenant cannot see default's invocation, queued or finished, nor list its functions.
    const theirId = theirs.headers.get('x-invocation-id')!;
    await recordOf(platform, theirId);
    expect((await as(tenantKey)(`/v1/invocations/${theirId}`)).status).toBe(404);
    expect((await as(tenantKey)(`/v1/invocations/${theirId}/logs`)).status).toBe(404);
    const only = await (await as(tenantKey)('/v1/functions')).json();
    expect(only.functions.map((f: { name: string }) => f.name)).toEqual([name]);
    const other = uniqueName('defaults-only');
    await deploy(platform, other, source('x'), { runtime: 'nodejs20' });
    expect((await as(tenantKey)(`/v1/functions/${other}`)).status).toBe(404);
    expect((await as(tenantKey)(`/v1/functions/${other}/invoke`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await as(tenantKey)(`/v1/functions/${other}`, { method: 'DELETE' })).status).toBe(404);
    expect((await as(tenantKey)(`/v1/functions/${other}/metrics`)).status).toBe(404);
    expect((await platform.fn(`/fn/@default/${other}`, { headers: { authorization: `Bearer ${tenantKey}` } })).status).toBe(404);

    const queued = await platform.api(`/v1/functions/${other}/invoke?async=true`, { method: 'POST', body: '{"sleepMs": 500}' });
    const queuedId = (await queued.json()).invocationId;
    expect((await as(tenantKey)(`/v1/invocations/${queuedId}`)).status).toBe(404);
    expect((await platform.api(`/v1/invocations/${queuedId}`)).status).toBe(200);
  });

  it('keeps namespace management to the admin key', async () => {
    expect((await as(tenantKey)('/v1/namespaces', { method: 'POST', body: '{"name":"evil"}' })).status).toBe(403);
    expect((await platform.api('/v1/namespaces')).status).toBe(403);
    expect((await admin('/v1/namespaces', { method: 'POST', body: JSON.stringify({ name: tenant }) })).status).toBe(409);
    expect((await admin('/v1/namespaces', { method: 'POST', body: '{"name":"Bad_Name"}' })).status).toBe(400);
    expect((await admin('/v1/functions', { headers: { 'x-hearth-namespace': 'no-such-tenant' } })).status).toBe(404);
    const asTenant = await (await admin('/v1/functions', { headers: { 'x-hearth-namespace': tenant } })).json();
    expect(asTenant.functions.length).toBeGreaterThanOrEqual(1);
  });

  it('keeps platform-wide numbers (/metrics, /v1/workers) to the admin key', async () => {
    for (const path of ['/metrics', '/v1/workers']) {
      const tenantAnswer = await as(tenantKey)(path);
      expect(tenantAnswer.status, path).toBe(403);
      expect((await tenantAnswer.json()).error.code).toBe('Forbidden');
      // With a separate admin key, the platform key is the default namespace's, a tenant like any other.
      expect((await platform.api(path)).status, path).toBe(403);
      expect((await admin(path)).status, path).toBe(200);
    }
    expect(await (await admin('/metrics')).text()).toContain('# TYPE');
  });

  it('honours since= and the expired and dead-letter statuses in a function’s invocation history', async () => {
    const name = uniqueName('history');
    const form = new FormData();
    form.set('code', new Blob([source('logged').bytes]), 'index.js');
    form.set('runtime', 'nodejs20');
    expect((await as(tenantKey)(`/v1/functions/${name}`, { method: 'PUT', body: form })).status).toBe(201);
    const called = await as(tenantKey)(`/v1/functions/${name}/invoke`, { method: 'POST', body: '{}' });
    const id = called.headers.get('x-invocation-id');
    await waitFor('the record', async () => (await as(tenantKey)(`/v1/invocations/${id}`)).status === 200 && !['queued', 'running'].includes((await (await as(tenantKey)(`/v1/invocations/${id}`)).json()).status));
    const list = async (query: string) => {
      const res = await as(tenantKey)(`/v1/functions/${name}/invocations?${query}`);
      expect(res.status, query).toBe(200);
      return ((await res.json()).items as Array<{ invocationId: string }>).map((i) => i.invocationId);
    };
    expect(await list('since=1h')).toEqual([id]);
    expect(await list(`since=${new Date(Date.now() + 60_000).toISOString()}`)).toEqual([]);
    expect(await list('status=succeeded')).toEqual([id]);
    expect(await list('status=dead-letter')).toEqual([]);
    expect(await list('status=expired')).toEqual([]);
    expect((await as(tenantKey)(`/v1/functions/${name}/invocations?status=nope`)).status).toBe(400);
  });

  it('deletes a namespace once it holds no functions: its keys stop working and its history goes with it', async () => {
    const doomed = uniqueName('doomed');
    expect((await admin('/v1/namespaces', { method: 'POST', body: JSON.stringify({ name: doomed }) })).status).toBe(201);
    const key = (await (await admin(`/v1/namespaces/${doomed}/keys`, { method: 'POST', body: '{}' })).json()).key as string;
    const name = uniqueName('inside');
    const form = new FormData();
    form.set('code', new Blob([source('inside').bytes]), 'index.js');
    form.set('runtime', 'nodejs20');
    expect((await as(key)(`/v1/functions/${name}`, { method: 'PUT', body: form })).status).toBe(201);
    expect((await as(key)(`/v1/functions/${name}/invoke`, { method: 'POST', body: '{}' })).status).toBe(200);
    const records = async () =>
      (await platform.database.pool.query('select count(*)::int as n from invocations where namespace = $1', [doomed])).rows[0].n as number;
    await waitFor('the record', async () => (await records()) === 1);

    // Only the admin key deletes namespaces, never `default`, and never one that still holds functions.
    expect((await as(key)(`/v1/namespaces/${doomed}`, { method: 'DELETE' })).status).toBe(403);
    expect((await platform.api(`/v1/namespaces/${doomed}`, { method: 'DELETE' })).status).toBe(403);
    expect((await admin('/v1/namespaces/default', { method: 'DELETE' })).status).toBe(400);
    const busy = await admin(`/v1/namespaces/${doomed}`, { method: 'DELETE' });
    expect(busy.status).toBe(409);
    expect((await busy.json()).error).toMatchObject({ code: 'NamespaceNotEmpty', functions: 1 });
    expect((await as(key)('/v1/functions')).status).toBe(200);

    expect((await as(key)(`/v1/functions/${name}`, { method: 'DELETE' })).status).toBe(204);
    expect((await admin(`/v1/namespaces/${doomed}`, { method: 'DELETE' })).status).toBe(204);
    expect((await as(key)('/v1/functions')).status).toBe(401);
    expect((await admin(`/v1/namespaces/${doomed}/keys`)).status).toBe(404);
    expect((await admin('/v1/functions', { headers: { 'x-hearth-namespace': doomed } })).status).toBe(404);
    expect((await admin(`/v1/namespaces/${doomed}`, { method: 'DELETE' })).status).toBe(404);
    expect(await records()).toBe(0);
    const { rows } = await platform.database.pool.query('select count(*)::int as n from api_keys where namespace = $1', [doomed]);
    expect(rows[0].n).toBe(0);

    // The name can be taken again, and starts empty.
    expect((await admin('/v1/namespaces', { method: 'POST', body: JSON.stringify({ name: doomed }) })).status).toBe(201);
    expect((await (await admin('/v1/functions', { headers: { 'x-hearth-namespace': doomed } })).json()).functions).toEqual([]);
  });

  it('makes /fn public per function; everything else needs a key', async () => {
    const open = uniqueName('open');
    const form = new FormData();
    form.set('code', new Blob([source('hello, anyone').bytes]), 'index.js');
    form.set('runtime', 'nodejs20');
    form.set('public', 'true');
    expect((await as(tenantKey)(`/v1/functions/${open}`, { method: 'PUT', body: form })).status).toBe(201);
    const anonymous = await fetchWithoutKey(`${platform.fnUrl}/fn/@${tenant}/${open}/path`);
    expect(anonymous.status).toBe(200);
    expect(await anonymous.json()).toBe('hello, anyone');

    const closed = uniqueName('closed');
    await deploy(platform, closed, source('secret'), { runtime: 'nodejs20' });
    expect((await fetchWithoutKey(`${platform.fnUrl}/fn/${closed}`)).status).toBe(401);
    expect((await fetchWithoutKey(`${platform.fnUrl}/fn/@${tenant}/no-such-fn`)).status).toBe(401);
    expect((await fetchWithoutKey(`${platform.url}/v1/functions`)).status).toBe(401);
    expect((await fetchWithoutKey(`${platform.fnUrl}/fn/${closed}`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  });

  it('enforces a namespace concurrency quota with 429', async () => {
    const quota = await admin(`/v1/namespaces/${tenant}`, { method: 'PATCH', body: '{"concurrencyQuota": 1}' });
    expect((await quota.json()).concurrencyQuota).toBe(1);
    const [a, b] = [uniqueName('quota-a'), uniqueName('quota-b')];
    for (const name of [a, b]) {
      const form = new FormData();
      form.set('code', new Blob([source('done').bytes]), 'index.js');
      form.set('runtime', 'nodejs20');
      expect((await as(tenantKey)(`/v1/functions/${name}`, { method: 'PUT', body: form })).status).toBe(201);
      await as(tenantKey)(`/v1/functions/${name}/invoke`, { method: 'POST', body: '{}' });
    }
    const busy = as(tenantKey)(`/v1/functions/${a}/invoke`, { method: 'POST', body: '{"sleepMs": 1500}' });
    await waitForBusy(platform.worker, 1); // it holds the namespace's one slot
    const blocked = await as(tenantKey)(`/v1/functions/${b}/invoke`, { method: 'POST', body: '{}' });
    expect(blocked.status).toBe(429);
    expect((await blocked.json()).error.code).toBe('Throttled');
    expect((await busy).status).toBe(200);
    // Another namespace is not limited by this one's quota.
    const name = uniqueName('free');
    await deploy(platform, name, source('free'), { runtime: 'nodejs20' });
    expect((await platform.api(`/v1/functions/${name}/invoke`, { method: 'POST', body: '{}' })).status).toBe(200);
    await admin(`/v1/namespaces/${tenant}`, { method: 'PATCH', body: '{"concurrencyQuota": null}' });
  });

  it('revokes a key at once', async () => {
    expect((await as(tenantKey)('/v1/functions')).status).toBe(200);
    expect((await admin(`/v1/namespaces/${tenant}/keys/${tenantKeyId}`, { method: 'DELETE' })).status).toBe(204);
    expect((await as(tenantKey)('/v1/functions')).status).toBe(401);
    expect((await admin(`/v1/namespaces/${tenant}/keys/${tenantKeyId}`, { method: 'DELETE' })).status).toBe(404);
  });
});
