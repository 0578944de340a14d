/**
 * Aliases through the REST API, in memory: create, replace, read, delete;
 * calls through an alias, its weighted split and sticky routing keys; the
 * version an alias points at cannot be deleted. No services.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { PLATFORM_KEY, bearer, createFakeGateway, expectError, type FakeGateway } from './fake-deps.ts';

let g: FakeGateway;
beforeEach(async () => {
  g = await createFakeGateway();
  g.functions.seed('default', 'echo', {}, 3);
});

const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  g.app.request(path, {
    method,
    headers: bearer(PLATFORM_KEY, { 'Content-Type': 'application/json', ...headers }),
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
const putAlias = (alias: string, body: unknown, fn = 'echo') => send('PUT', `/v1/functions/${fn}/aliases/${alias}`, body);
const invoke = (query: string, headers: Record<string, string> = {}) => send('POST', `/v1/functions/echo/invoke${query}`, '{}', headers);

describe('alias CRUD', () => {
  it('creates (201), replaces (200), reads and lists aliases, latest among them', async () => {
    const created = await putAlias('live', { version: 1, description: 'production' });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/v1/functions/echo/aliases/live');
    expect(await created.json()).toMatchObject({ name: 'live', version: 1, weights: {}, description: 'production', minWarm: null });

    const replaced = await putAlias('live', { version: 2, weights: { '3': 0.25 }, minWarm: 1 });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ name: 'live', version: 2, weights: { '3': 0.25 }, description: '', minWarm: 1 });

    const one = await (await send('GET', '/v1/functions/echo/aliases/live')).json();
    expect(one).toMatchObject({ version: 2, weights: { '3': 0.25 } });
    const list = (await (await send('GET', '/v1/functions/echo/aliases')).json()) as { aliases: Array<{ name: string; version: number }> };
    expect(list.aliases.map((a) => [a.name, a.version])).toEqual([
      ['latest', 3],
      ['live', 2],
    ]);
    const fn = (await (await send('GET', '/v1/functions/echo')).json()) as { aliases: Array<{ name: string }> };
    expect(fn.aliases.map((a) => a.name)).toEqual(['latest', 'live']);
  });

  it('answers 404 for a missing function, alias or version', async () => {
    await expectError(await putAlias('live', { version: 1 }, 'nope'), 404, 'FunctionNotFound');
    await expectError(await putAlias('live', { version: 9 }), 404, 'VersionNotFound');
    await expectError(await putAlias('live', { version: 1, weights: { '9': 0.5 } }), 404, 'VersionNotFound');
    await expectError(await send('GET', '/v1/functions/echo/aliases/live'), 404, 'AliasNotFound');
    await expectError(await send('GET', '/v1/functions/nope/aliases/live'), 404, 'FunctionNotFound');
    await expectError(await send('GET', '/v1/functions/nope/aliases'), 404, 'FunctionNotFound');
    await expectError(await send('DELETE', '/v1/functions/echo/aliases/live'), 404, 'AliasNotFound');
  });

  it.each([
    [{ version: 1, weights: { '2': 1.5 } }],
    [{ version: 1, weights: { '2': -0.1 } }],
    [{ version: 1, weights: { '2': '0.1' } }],
    [{ version: 1, weights: { '2': 0.1, '3': 0.1 } }],
    [{ version: 1, weights: { x: 0.1 } }],
    [{ version: 1, weights: { '02': 0.1 } }],
    [{ version: 1, weights: { '1': 0.1 } }],
    [{ version: 1, weights: [] }],
    [{ version: 1, minWarm: -1 }],
    [{ version: 1, description: 'x'.repeat(257) }],
    [{ version: 1, description: 'nul \u0000 byte' }],
    [{ version: 1, description: 'line\nbreak' }],
    [{ version: 1, extra: true }],
    [{ weights: {} }],
  ])('refuses the body %j with 400 InvalidParameter', async (body) => {
    await expectError(await putAlias('live', body), 400, 'InvalidParameter');
  });

  it.each(['Live', '1live', '-x', 'a'.repeat(64), 'a_b'])('refuses the alias name %s with 400 InvalidParameter', async (alias) => {
    await expectError(await putAlias(alias, { version: 1 }), 400, 'InvalidParameter');
  });

  it('never deletes latest (409 AliasProtected), and deletes other aliases (204)', async () => {
    await expectError(await send('DELETE', '/v1/functions/echo/aliases/latest'), 409, 'AliasProtected');
    await putAlias('live', { version: 1 });
    expect((await send('DELETE', '/v1/functions/echo/aliases/live')).status).toBe(204);
    await expectError(await send('GET', '/v1/functions/echo/aliases/live'), 404, 'AliasNotFound');
  });

  it('refuses to delete a version an alias points at (409 VersionInUse naming the aliases), and deletes it once free', async () => {
    await putAlias('live', { version: 2, weights: { '1': 0.1 } });
    const inUse = await expectError(await send('DELETE', '/v1/functions/echo/versions/1'), 409, 'VersionInUse');
    expect(inUse.message).toContain('"live"');
    await expectError(await send('DELETE', '/v1/functions/echo/versions/3'), 409, 'VersionInUse');
    await putAlias('live', { version: 2 });
    expect((await send('DELETE', '/v1/functions/echo/versions/1')).status).toBe(204);
    await expectError(await send('DELETE', '/v1/functions/echo/versions/1'), 404, 'VersionNotFound');
  });

  it('holds at most 100 aliases per function (409 QuotaExceeded), replacing one still works', async () => {
    for (let i = 1; i < 100; i++) expect((await putAlias(`a${i}`, { version: 1 })).status).toBe(201);
    const refused = await expectError(await putAlias('one-more', { version: 1 }), 409, 'QuotaExceeded');
    expect(refused).toMatchObject({ quota: 'aliases', limit: 100 });
    expect((await putAlias('a1', { version: 2 })).status).toBe(200);
  });

  it('announces every change so caches drop', async () => {
    await putAlias('live', { version: 1 });
    await send('DELETE', '/v1/functions/echo/aliases/live');
    expect(g.announced.filter((m) => m.type === 'function-changed')).toHaveLength(2);
  });
});

describe('calls through an alias', () => {
  it('runs the alias\'s version, answered in X-Function-Version and recorded on the job', async () => {
    await putAlias('live', { version: 1 });
    const res = await invoke('?alias=live');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-function-version')).toBe('1');
    expect(g.queue.enqueued.at(-1)).toMatchObject({ version: 1, alias: 'live' });
    // Unqualified calls go through latest; pinned calls name no alias.
    await invoke('');
    expect(g.queue.enqueued.at(-1)).toMatchObject({ version: 3, alias: 'latest' });
    await invoke('?version=2');
    expect(g.queue.enqueued.at(-1)).toMatchObject({ version: 2, alias: null });
  });

  it('answers 404 AliasNotFound for an alias the function lacks, and 400 for both a version and an alias', async () => {
    await expectError(await invoke('?alias=nope'), 404, 'AliasNotFound');
    await expectError(await send('POST', '/v1/functions/nope/invoke?alias=live', '{}'), 404, 'FunctionNotFound');
    await expectError(await invoke('?alias=live&version=1'), 400, 'InvalidParameter');
  });

  it('splits calls by the weight, and an async call says which version it was given', async () => {
    await putAlias('canary', { version: 1, weights: { '2': 0.3 } });
    const versions: string[] = [];
    for (let i = 0; i < 400; i++) versions.push((await invoke('?alias=canary')).headers.get('x-function-version')!);
    const onTwo = versions.filter((v) => v === '2').length;
    expect(new Set(versions)).toEqual(new Set(['1', '2']));
    expect(onTwo).toBeGreaterThan(80);
    expect(onTwo).toBeLessThan(160);
    const queued = await invoke('?alias=canary&async=true');
    expect(queued.status).toBe(202);
    expect(['1', '2']).toContain(queued.headers.get('x-function-version'));
  });

  it('keeps a caller with a routing key on one side of the split, and on the canary as its weight grows', async () => {
    await putAlias('canary', { version: 1, weights: { '2': 0.2 } });
    const sideOf = async (key: string) => (await invoke('?alias=canary', { 'X-Routing-Key': key })).headers.get('x-function-version');
    const keys = Array.from({ length: 60 }, (_, i) => `user-${i}`);
    const first = await Promise.all(keys.map(sideOf));
    expect(await Promise.all(keys.map(sideOf))).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['1', '2']));
    await putAlias('canary', { version: 1, weights: { '2': 0.6 } });
    const later = await Promise.all(keys.map(sideOf));
    keys.forEach((_, i) => {
      if (first[i] === '2') expect(later[i]).toBe('2');
    });
    await expectError(await invoke('?alias=canary', { 'X-Routing-Key': 'x'.repeat(256) }), 400, 'InvalidParameter');
  });

  it('calls an alias on the function origin as /fn/{name}@{alias}', async () => {
    await putAlias('live', { version: 1 });
    const res = await g.functionApp.request('/fn/echo@live/path', { method: 'GET', headers: bearer(PLATFORM_KEY) });
    expect(res.headers.get('x-function-version')).toBe('1');
    expect(g.queue.enqueued.at(-1)).toMatchObject({ version: 1, alias: 'live', mode: 'http' });
    const bad = await g.functionApp.request('/fn/echo@Bad_Alias/', { headers: bearer(PLATFORM_KEY) });
    await expectError(bad, 400, 'InvalidParameter');
    await expectError(await g.functionApp.request('/fn/echo@nope/', { headers: bearer(PLATFORM_KEY) }), 404, 'AliasNotFound');
  });
});

describe('keyless calls through an alias', () => {
  it('run a public version only while the function\'s latest version is public too', async () => {
    g.functions.seed('default', 'site', { public: true }, 1);
    await putAlias('prod', { version: 1 }, 'site');
    expect((await g.functionApp.request('/fn/site@prod/')).status).toBe(200);
    // A deploy without public=true (or deleting the Lambda function URL) closes every door, old aliases included.
    g.functions.seed('default', 'site', { public: false }, 1);
    expect((await g.functionApp.request('/fn/site/')).status).toBe(401);
    expect((await g.functionApp.request('/fn/site@prod/')).status).toBe(401);
    // With a key it still runs.
    expect((await g.functionApp.request('/fn/site@prod/', { headers: bearer(PLATFORM_KEY) })).status).toBe(200);
  });

  it('refuses an X-Routing-Key the invoke API would refuse', async () => {
    await putAlias('live', { version: 1 });
    await expectError(await g.functionApp.request('/fn/echo@live/', { headers: bearer(PLATFORM_KEY, { 'X-Routing-Key': 'x'.repeat(256) }) }), 400, 'InvalidParameter');
  });
});

describe('deploys and latest', () => {
  it('moves latest with each deploy unless moveLatest is false; rollback moves latest alone', async () => {
    const deployed = await g.functions.createVersion('default', 'echo', g.functions.rows.values().next().value!.versions[0]!, {
      sha256: 'a'.repeat(64),
      tarGz: Buffer.from('x'),
      format: 'file',
      fileCount: 1,
      unpackedBytes: 1,
    }, { moveLatest: false });
    expect(deployed).toMatchObject({ createdVersion: 4, latestVersion: 3 });
    expect(((await (await send('GET', '/v1/functions/echo/aliases/latest')).json()) as { version: number }).version).toBe(3);
    await putAlias('latest', { version: 3, weights: { '4': 0.5 } });
    expect((await send('POST', '/v1/functions/echo/rollback', { version: 2 })).status).toBe(200);
    expect(await (await send('GET', '/v1/functions/echo/aliases/latest')).json()).toMatchObject({ version: 2, weights: {} });
  });
});
