/** Namespaces and their keys (admin key only): caller mistakes and happy paths. No services. */
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_KEY, TENANT_KEY, bearer, createFakeGateway, expectError, jsonRequest, type FakeGateway } from './fake-deps.ts';

let g: FakeGateway;
beforeEach(async () => {
  g = await createFakeGateway();
});

const admin = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  g.app.request(path, body === undefined ? { method, headers: bearer(ADMIN_KEY, headers) } : jsonRequest(method, ADMIN_KEY, body, headers));
const cursorOf = (text: string) => Buffer.from(text).toString('base64url');
const badLimits = ['0', '-1', '1.5', 'abc', '', '1001', '1e400', '99999999999999999999'];

/** JSON bodies every JSON route refuses, and the code each gets. */
const badJson: Array<[string, string, string]> = [
  ['broken JSON', '{"name":', 'InvalidJson'],
  ['a bare word', 'namespace', 'InvalidJson'],
];

describe('POST /v1/namespaces', () => {
  it('creates a namespace, announces it, and refuses it twice with 409', async () => {
    const res = await admin('POST', '/v1/namespaces', { name: 'team-a', concurrencyQuota: 5 });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ name: 'team-a', concurrencyQuota: 5 });
    expect(g.announced).toContainEqual({ type: 'namespace-changed', namespace: 'team-a' });
    await expectError(await admin('POST', '/v1/namespaces', { name: 'team-a' }), 409, 'NamespaceExists');
  });

  it.each([
    ['no name', {}],
    ['a number', { name: 5 }],
    ['upper case', { name: 'Team' }],
    ['an empty name', { name: '' }],
    ['an empty body (taken as {})', ''],
    ['64 characters', { name: 'a'.repeat(64) }],
    ['a NUL', { name: 'a\u0000' }],
    ['a trailing newline', { name: 'team\n' }],
  ])('answers a name of %s with 400 InvalidName', async (_what, body) => {
    await expectError(await admin('POST', '/v1/namespaces', body), 400, 'InvalidName');
  });

  it.each([
    ['0', 0],
    ['negative', -1],
    ['fractional', 1.5],
    ['past its limit', 100_001],
    ['huge', 1e308],
    ['a string', '5'],
    ['true', true],
  ])('answers a concurrencyQuota %s with 400 InvalidParameter', async (_what, concurrencyQuota) => {
    await expectError(await admin('POST', '/v1/namespaces', { name: 'team-b', concurrencyQuota }), 400, 'InvalidParameter');
  });

  it.each(['[]', '"team"', 'null', '5'])('answers the body %j with 400 InvalidParameter', async (body) => {
    await expectError(await admin('POST', '/v1/namespaces', body), 400, 'InvalidParameter');
  });

  it.each(badJson)('answers %s with 400', async (_what, body, code) => {
    await expectError(await admin('POST', '/v1/namespaces', body), 400, code);
  });

  it('answers a body over 16 KiB with 413 and a multipart body with 415', async () => {
    await expectError(await admin('POST', '/v1/namespaces', { name: 'x', pad: 'x'.repeat(17 * 1024) }), 413, 'PayloadTooLarge');
    const form = new FormData();
    form.append('name', 'x');
    await expectError(await g.app.request('/v1/namespaces', { method: 'POST', headers: bearer(ADMIN_KEY), body: form }), 415, 'UnsupportedMediaType');
  });
});

describe('GET /v1/namespaces', () => {
  it('lists namespaces by name, paged', async () => {
    await g.tenants.createNamespace('zeta', null);
    const page1 = (await (await admin('GET', '/v1/namespaces?limit=2')).json()) as { namespaces: Array<{ name: string }>; nextCursor: string };
    expect(page1.namespaces.map((n) => n.name)).toEqual(['acme', 'default']);
    const page2 = (await (await admin('GET', `/v1/namespaces?limit=2&cursor=${page1.nextCursor}`)).json()) as typeof page1;
    expect(page2.namespaces.map((n) => n.name)).toEqual(['zeta']);
    expect(page2.nextCursor).toBeNull();
  });

  it.each(badLimits)('answers ?limit=%s with 400 InvalidParameter', async (limit) => {
    await expectError(await admin('GET', `/v1/namespaces?limit=${encodeURIComponent(limit)}`), 400, 'InvalidParameter');
  });

  it.each([
    ['garbage', '!!'],
    ['a functions cursor', cursorOf('f:acme')],
    ['a bad name', cursorOf('n:Bad')],
    ['a NUL', cursorOf('n:a\u0000')],
  ])('answers a cursor of %s with 400 InvalidParameter', async (_what, cursor) => {
    await expectError(await admin('GET', `/v1/namespaces?cursor=${encodeURIComponent(cursor)}`), 400, 'InvalidParameter');
  });
});

describe('PATCH /v1/namespaces/{ns}', () => {
  it('changes the quotas it is given, keeps the rest, and announces it', async () => {
    const res = await admin('PATCH', '/v1/namespaces/acme', { concurrencyQuota: 3, maxFunctions: 10, maxCodeBytes: null });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: 'acme', concurrencyQuota: 3, maxFunctions: 10, maxCodeBytes: null });
    expect(g.announced).toContainEqual({ type: 'namespace-changed', namespace: 'acme' });
  });

  it('sets and clears its own record retention, in days', async () => {
    expect(await (await admin('PATCH', '/v1/namespaces/acme', { recordRetentionDays: 30 })).json()).toMatchObject({ recordRetentionDays: 30 });
    expect(await (await admin('PATCH', '/v1/namespaces/acme', { recordRetentionDays: null })).json()).toMatchObject({ recordRetentionDays: null });
  });

  it.each([
    ['an empty object', {}],
    ['only unknown fields', { colour: 'blue' }],
    ['an unknown field beside a known one', { concurrencyQuota: 1, colour: 'blue' }],
    ['__proto__', JSON.parse('{"concurrencyQuota":1,"__proto__":{"x":1}}')],
    ['an array', [1]],
    ['null', null],
    ['a string', 'x'],
    ['concurrencyQuota 0', { concurrencyQuota: 0 }],
    ['concurrencyQuota as text', { concurrencyQuota: '3' }],
    ['provisionedMemoryMb negative', { provisionedMemoryMb: -1 }],
    ['provisionedMemoryMb past its limit', { provisionedMemoryMb: 10_000_001 }],
    ['maxFunctions negative', { maxFunctions: -1 }],
    ['maxVersions 1', { maxVersions: 1 }],
    ['maxFunctions fractional', { maxFunctions: 2.5 }],
    ['maxVersions past int4', { maxVersions: 2 ** 31 }],
    ['maxCodeBytes past int4 range', { maxCodeBytes: 1e20 }],
    ['maxUploadBytes as text', { maxUploadBytes: '1' }],
    ['maxUploadBytes negative', { maxUploadBytes: -5 }],
    ['recordRetentionDays 0', { recordRetentionDays: 0 }],
    ['recordRetentionDays fractional', { recordRetentionDays: 1.5 }],
    ['recordRetentionDays past ten years', { recordRetentionDays: 3651 }],
    ['recordRetentionDays as text', { recordRetentionDays: '7d' }],
  ])('answers %s with 400 InvalidParameter', async (_what, body) => {
    await expectError(await admin('PATCH', '/v1/namespaces/acme', JSON.stringify(body)), 400, 'InvalidParameter');
  });

  it.each(badJson)('answers %s with 400', async (_what, body, code) => {
    await expectError(await admin('PATCH', '/v1/namespaces/acme', body), 400, code);
  });

  it('answers a namespace that does not exist, or a name that cannot be one, with 404 NamespaceNotFound', async () => {
    await expectError(await admin('PATCH', '/v1/namespaces/nowhere', { concurrencyQuota: 1 }), 404, 'NamespaceNotFound');
    await expectError(await admin('PATCH', '/v1/namespaces/Bad_Name', { concurrencyQuota: 1 }), 404, 'NamespaceNotFound');
    await expectError(await admin('PATCH', `/v1/namespaces/${'a'.repeat(64)}`, { concurrencyQuota: 1 }), 404, 'NamespaceNotFound');
  });
});

describe('DELETE /v1/namespaces/{ns}', () => {
  it('deletes an empty namespace and revokes its keys', async () => {
    const res = await admin('DELETE', '/v1/namespaces/acme');
    expect(res.status).toBe(204);
    expect(g.announced.some((m) => m.type === 'key-revoked')).toBe(true);
    await expectError(await g.app.request('/v1/functions', { headers: bearer(TENANT_KEY) }), 401, 'Unauthorized');
  });

  it('refuses a namespace that holds functions with 409, unless ?force=true', async () => {
    const fn = g.functions.seed('acme', 'f');
    const refused = await expectError(await admin('DELETE', '/v1/namespaces/acme'), 409, 'NamespaceNotEmpty');
    expect(refused.functions).toBe(1);
    expect((await admin('DELETE', '/v1/namespaces/acme?force=true')).status).toBe(204);
    expect(g.queue.deletedFunctions).toEqual([fn.id]);
  });

  it('refuses the default namespace with 400', async () => {
    await expectError(await admin('DELETE', '/v1/namespaces/default'), 400, 'InvalidParameter');
  });

  it.each(['yes', '1', 'TRUE', ''])('answers ?force=%s with 400 InvalidParameter', async (force) => {
    await expectError(await admin('DELETE', `/v1/namespaces/acme?force=${force}`), 400, 'InvalidParameter');
  });

  it('answers a namespace that does not exist with 404', async () => {
    await expectError(await admin('DELETE', '/v1/namespaces/nowhere'), 404, 'NamespaceNotFound');
    await expectError(await admin('DELETE', '/v1/namespaces/nowhere?force=true'), 404, 'NamespaceNotFound');
    await expectError(await admin('DELETE', '/v1/namespaces/Bad'), 404, 'NamespaceNotFound');
  });
});

describe('namespace keys', () => {
  it('creates a key that is shown once and then works in its namespace', async () => {
    const res = await admin('POST', '/v1/namespaces/acme/keys', { name: 'ci' });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; key: string; name: string; lambdaAccessKeyId: string };
    expect(created.key).toMatch(/^hk_[A-Za-z0-9_-]{32}$/);
    expect(created.lambdaAccessKeyId).toMatch(/^HK[0-9A-F]{32}$/);
    const session = await g.app.request('/v1/session', { method: 'POST', headers: bearer(created.key) });
    expect(await session.json()).toMatchObject({ namespace: 'acme', admin: false });
    const list = (await (await admin('GET', '/v1/namespaces/acme/keys')).json()) as { keys: Array<Record<string, unknown>> };
    expect(list.keys.map((k) => k.name)).toEqual(['test', 'ci']);
    expect(list.keys.every((k) => !('key' in k))).toBe(true);
  });

  it('creates a key with the default name from an empty body', async () => {
    const res = await g.app.request('/v1/namespaces/acme/keys', { method: 'POST', headers: bearer(ADMIN_KEY) });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ name: 'key' });
  });

  it('revokes a key, which then stops working', async () => {
    const res = await admin('DELETE', `/v1/namespaces/acme/keys/${g.tenantKeyId.toUpperCase()}`);
    expect(res.status).toBe(204);
    expect(g.announced.some((m) => m.type === 'key-revoked')).toBe(true);
    await expectError(await g.app.request('/v1/functions', { headers: bearer(TENANT_KEY) }), 401, 'Unauthorized');
    await expectError(await admin('DELETE', `/v1/namespaces/acme/keys/${g.tenantKeyId}`), 404, 'KeyNotFound');
  });

  it.each([
    ['an empty name', { name: '' }],
    ['a name of 101 characters', { name: 'k'.repeat(101) }],
    ['a control character', { name: 'a\tb' }],
    ['a NUL', { name: 'a\u0000b' }],
    ['a number', { name: 5 }],
    ['null (not left out)', { name: null }],
  ])('answers a key name of %s with 400 InvalidParameter', async (_what, body) => {
    if (body.name === null) {
      // `?? 'key'` takes null as absent: a key named "key" is made, which is a fair reading.
      expect((await admin('POST', '/v1/namespaces/acme/keys', body)).status).toBe(201);
      return;
    }
    await expectError(await admin('POST', '/v1/namespaces/acme/keys', body), 400, 'InvalidParameter');
  });

  it.each(['[]', '"k"', '7'])('answers the body %s with 400 InvalidParameter', async (body) => {
    await expectError(await admin('POST', '/v1/namespaces/acme/keys', body), 400, 'InvalidParameter');
  });

  it.each(badJson)('answers %s with 400', async (_what, body, code) => {
    await expectError(await admin('POST', '/v1/namespaces/acme/keys', body), 400, code);
  });

  it('answers a namespace that does not exist with 404 on every key route', async () => {
    await expectError(await admin('POST', '/v1/namespaces/nowhere/keys', {}), 404, 'NamespaceNotFound');
    await expectError(await admin('GET', '/v1/namespaces/nowhere/keys'), 404, 'NamespaceNotFound');
    await expectError(await admin('DELETE', `/v1/namespaces/nowhere/keys/${randomUUID()}`), 404, 'KeyNotFound');
    await expectError(await admin('GET', '/v1/namespaces/No_Such/keys'), 404, 'NamespaceNotFound');
  });

  it.each(['nope', '1', `${randomUUID()}x`, '%00'])('answers DELETE of key id %s with 404 KeyNotFound', async (id) => {
    await expectError(await admin('DELETE', `/v1/namespaces/acme/keys/${id}`), 404, 'KeyNotFound');
  });

  it('does not revoke a key through another namespace', async () => {
    await expectError(await admin('DELETE', `/v1/namespaces/default/keys/${g.tenantKeyId}`), 404, 'KeyNotFound');
  });

  it.each(badLimits)('answers GET keys ?limit=%s with 400 InvalidParameter', async (limit) => {
    await expectError(await admin('GET', `/v1/namespaces/acme/keys?limit=${encodeURIComponent(limit)}`), 400, 'InvalidParameter');
  });

  it.each([
    ['garbage', '!!'],
    ['a name where an id belongs', cursorOf('k:acme')],
    ['a namespaces cursor', cursorOf(`n:${randomUUID()}`)],
  ])('answers GET keys with a cursor of %s with 400 InvalidParameter', async (_what, cursor) => {
    await expectError(await admin('GET', `/v1/namespaces/acme/keys?cursor=${encodeURIComponent(cursor)}`), 400, 'InvalidParameter');
  });

  it('pages keys', async () => {
    await admin('POST', '/v1/namespaces/acme/keys', { name: 'second' });
    const page1 = (await (await admin('GET', '/v1/namespaces/acme/keys?limit=1')).json()) as { keys: Array<{ name: string }>; nextCursor: string };
    expect(page1.keys.map((k) => k.name)).toEqual(['test']);
    const page2 = (await (await admin('GET', `/v1/namespaces/acme/keys?limit=1&cursor=${page1.nextCursor}`)).json()) as typeof page1;
    expect(page2.keys.map((k) => k.name)).toEqual(['second']);
  });
});
