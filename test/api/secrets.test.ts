/**
 * The secrets API in memory: set, list and delete a namespace's secrets;
 * deploys that reference them (by a `secrets` list and by env values
 * `{"secret": name}`); what never comes back (the value, in any answer or
 * message) and what a deploy may not reference (another namespace's).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { PLATFORM_KEY, SECRETS_KEY, TENANT_KEY, bearer, createFakeGateway, expectError, jsonRequest, type FakeGateway } from './fake-deps.ts';
import { createSealer, parseKeyring, secretContext } from '../../worker/common/secret-sealing.ts';

let g: FakeGateway;
beforeEach(async () => {
  g = await createFakeGateway();
});

const VALUE = 'postgres://app:s3cr3t-Zq8v@db.internal/app';
const put = (name: string, body: unknown, key = PLATFORM_KEY) => g.app.request(`/v1/secrets/${name}`, jsonRequest('PUT', key, body));
const list = (key = PLATFORM_KEY) => g.app.request('/v1/secrets', { headers: bearer(key) });
const remove = (name: string, key = PLATFORM_KEY) => g.app.request(`/v1/secrets/${name}`, { method: 'DELETE', headers: bearer(key) });

function deploy(name: string, fields: Record<string, string>, key = PLATFORM_KEY) {
  const form = new FormData();
  form.append('code', new Blob(['exports.handler = async () => process.env;\n']), 'index.js');
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return g.app.request(`/v1/functions/${name}`, { method: 'PUT', headers: bearer(key), body: form });
}

describe('PUT /v1/secrets/{name}', () => {
  it('creates version 1 (201), then writes version 2 (200), answering metadata only', async () => {
    const first = await put('db-url', { value: VALUE });
    expect(first.status).toBe(201);
    const created = (await first.json()) as { createdAt: string };
    expect(created).toEqual({ name: 'db-url', version: 1, createdAt: expect.any(String), updatedAt: expect.any(String) });
    const second = await put('db-url', { value: `${VALUE}-2` });
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ name: 'db-url', version: 2, createdAt: created.createdAt });
    expect(g.announced).toEqual([
      { type: 'secret-changed', namespace: 'default', name: 'db-url', version: 1 },
      { type: 'secret-changed', namespace: 'default', name: 'db-url', version: 2 },
    ]);
  });

  it('hands the store only the value sealed for this namespace and name', async () => {
    await put('db-url', { value: VALUE });
    const row = g.secrets.rows.get('default/db-url')!;
    expect(row.valueSealed).not.toContain(VALUE);
    expect(row.valueSealed).toMatch(/^hs1\.[0-9a-f]{12}\./);
    const sealer = createSealer(() => parseKeyring(SECRETS_KEY));
    expect(sealer.open(secretContext('default', 'db-url'), row.valueSealed)).toBe(VALUE);
    expect(() => sealer.open(secretContext('acme', 'db-url'), row.valueSealed)).toThrow(/does not open/);
  });

  it.each([
    ['a name with capitals', 'DB', { value: 'x' }],
    ['a name starting with a dot', '.env', { value: 'x' }],
    ['a name of 64 characters', 'a'.repeat(64), { value: 'x' }],
    ['an empty value', 'ok', { value: '' }],
    ['a value over 16 KiB', 'ok', { value: 'x'.repeat(16 * 1024 + 1) }],
    ['a value with NUL', 'ok', { value: `${VALUE}\u0000` }],
    ['a value that is not a string', 'ok', { value: 42 }],
  ])('refuses %s with 400 InvalidSecret, never quoting the value', async (_what, name, body) => {
    const error = await expectError(await put(name, body), 400, 'InvalidSecret');
    expect(JSON.stringify(error)).not.toContain(VALUE);
    expect(g.secrets.rows.size).toBe(0);
  });

  it('refuses a lone surrogate and fields besides value, without echoing the value', async () => {
    await expectError(await put('ok', `{"value":"${VALUE}\\ud800"}`), 400, 'InvalidSecret');
    const extra = await expectError(await put('ok', { value: VALUE, also: 1 }), 400);
    expect(JSON.stringify(extra)).not.toContain(VALUE);
  });

  it('holds at most 100 secrets per namespace (409 QuotaExceeded "secrets"), counting each namespace alone', async () => {
    for (let i = 0; i < 100; i++) expect((await put(`s${i}`, { value: 'v' })).status).toBe(201);
    const refused = await expectError(await put('one-more', { value: 'v' }), 409, 'QuotaExceeded');
    expect(refused).toMatchObject({ quota: 'secrets', limit: 100, used: 100 });
    // A new version of one it holds is no new secret; another namespace has its own 100.
    expect((await put('s0', { value: 'w' })).status).toBe(200);
    expect((await put('one-more', { value: 'v' }, TENANT_KEY)).status).toBe(201);
  });
});

describe('GET /v1/secrets', () => {
  it("lists the caller's namespace's names, versions and users, never a value", async () => {
    await put('db-url', { value: VALUE });
    await put('api-token', { value: 'tok-9f8e7d' });
    await put('other', { value: 'v' }, TENANT_KEY);
    expect((await deploy('api', { runtime: 'nodejs20', env: JSON.stringify({ DB_URL: { secret: 'db-url' } }) })).status).toBe(201);
    const res = await list();
    const text = await res.clone().text();
    expect(text).not.toContain(VALUE);
    expect(text).not.toContain('tok-9f8e7d');
    expect(await res.json()).toEqual({
      secrets: [
        { name: 'api-token', version: 1, createdAt: expect.any(String), updatedAt: expect.any(String), usedBy: [] },
        { name: 'db-url', version: 1, createdAt: expect.any(String), updatedAt: expect.any(String), usedBy: [{ function: 'api', versions: [1], inUse: true }] },
      ],
    });
    expect(((await (await list(TENANT_KEY)).json()) as { secrets: Array<{ name: string }> }).secrets.map((s: { name: string }) => s.name)).toEqual(['other']);
  });
});

describe('deploys that reference secrets', () => {
  it('keeps references (env and files) in the version and the job, never values', async () => {
    await put('db-url', { value: VALUE });
    await put('tls-key', { value: 'PRIVATE KEY BYTES' });
    const res = await deploy('api', { runtime: 'nodejs20', env: JSON.stringify({ PLAIN: 'p', DB_URL: { secret: 'db-url' } }), secrets: '["tls-key"]' });
    expect(res.status).toBe(201);
    const fn = (await (await g.app.request('/v1/functions/api', { headers: bearer(PLATFORM_KEY) })).json()) as { latest: unknown };
    expect(fn.latest).toMatchObject({ env: { PLAIN: 'p' }, secretEnv: { DB_URL: 'db-url' }, secrets: ['db-url', 'tls-key'] });
    expect(JSON.stringify(fn)).not.toContain(VALUE);
    await g.app.request('/v1/functions/api/invoke?async=true', { method: 'POST', headers: bearer(PLATFORM_KEY), body: '{}' });
    await g.app.request('/v1/functions/api/invoke', { method: 'POST', headers: bearer(PLATFORM_KEY), body: '{}' });
    expect(g.queue.enqueued.length).toBeGreaterThan(0);
    for (const job of g.queue.enqueued) {
      expect(job.secrets).toEqual([
        { name: 'db-url', env: ['DB_URL'] },
        { name: 'tls-key', env: [] },
      ]);
      expect(JSON.stringify(job)).not.toContain(VALUE);
      expect(JSON.stringify(job)).not.toContain('PRIVATE KEY');
    }
  });

  it("answers 404 SecretNotFound for a name the caller's namespace lacks, another namespace's included", async () => {
    await put('db-url', { value: VALUE }, TENANT_KEY);
    const missing = await expectError(await deploy('api', { runtime: 'nodejs20', secrets: '["db-url"]' }), 404, 'SecretNotFound');
    expect(missing.message).toContain('"db-url"');
    await expectError(await deploy('api', { runtime: 'nodejs20', env: '{"X":{"secret":"db-url"}}' }), 404, 'SecretNotFound');
    expect((await deploy('api', { runtime: 'nodejs20', secrets: '["db-url"]' }, TENANT_KEY)).status).toBe(201);
  });

  it.each([
    ['secrets that is not an array', { secrets: '{"a":1}' }],
    ['a secret name that is not one', { secrets: '["Bad Name"]' }],
    ['a name listed twice', { secrets: '["a","a"]' }],
    ['more than 32 secrets', { secrets: JSON.stringify(Array.from({ length: 33 }, (_, i) => `s${i}`)) }],
    ['an env reference with another key', { env: '{"X":{"secret":"a","b":1}}' }],
    ['an env reference to a bad name', { env: '{"X":{"secret":"../etc"}}' }],
    ['an env object that is no reference', { env: '{"X":{"value":"a"}}' }],
  ])('refuses %s with 400 InvalidParameter', async (_what, fields) => {
    await expectError(await deploy('api', { runtime: 'nodejs20', ...fields }), 400, 'InvalidParameter');
  });
});

describe('DELETE /v1/secrets/{name}', () => {
  it('refuses (409 SecretInUse) while an aliased version references it, then deletes once none does', async () => {
    await put('db-url', { value: VALUE });
    await deploy('api', { runtime: 'nodejs20', secrets: '["db-url"]' });
    const refused = await expectError(await remove('db-url'), 409, 'SecretInUse');
    expect(refused.message).toContain('api (version 1)');
    expect(refused.functions).toEqual([{ function: 'api', versions: [1] }]);
    // Version 2 no longer names it: version 1 still does, but no alias points at it.
    await deploy('api', { runtime: 'nodejs20' });
    expect((await remove('db-url')).status).toBe(204);
    expect(g.announced.at(-1)).toEqual({ type: 'secret-changed', namespace: 'default', name: 'db-url', version: 0 });
    await expectError(await remove('db-url'), 404, 'SecretNotFound');
    expect(((await (await list()).json()) as { secrets: unknown[] }).secrets).toEqual([]);
  });

  it("cannot delete another namespace's secret", async () => {
    await put('db-url', { value: VALUE }, TENANT_KEY);
    await expectError(await remove('db-url'), 404, 'SecretNotFound');
    expect(g.secrets.rows.has('acme/db-url')).toBe(true);
  });
});
