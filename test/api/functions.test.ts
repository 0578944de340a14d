/** The function routes' caller mistakes and happy paths: list, read, versions, deploy, delete, rollback. No services. */
import { beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_KEY, PLATFORM_KEY, TENANT_KEY, bearer, createFakeGateway, expectError, jsonRequest, type FakeGateway } from './fake-deps.ts';

let g: FakeGateway;
beforeEach(async () => {
  g = await createFakeGateway();
});

const get = (path: string, key = PLATFORM_KEY) => g.app.request(path, { headers: bearer(key) });
const cursorOf = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** Bad `?limit=` values for a list whose largest page is `max`. */
const badLimits = (max: number) => ['0', '-1', '1.5', 'abc', '', ' ', String(max + 1), '1e400', '99999999999999999999', 'Infinity', 'NaN', '1,2'];

const badNames = [
  ['upper case', 'Hello'],
  ['an underscore', 'a_b'],
  ['a leading dash', '-a'],
  ['a trailing dash', 'a-'],
  ['64 characters', 'a'.repeat(64)],
  ['a dot', 'a.b'],
  ['percent-encoded NUL', 'a%00b'],
  ['a space', 'a%20b'],
  ['non-ASCII', '%C3%A9'],
];

describe('GET /v1/functions', () => {
  it('lists the namespace\'s functions by name, paged', async () => {
    for (const name of ['c', 'a', 'b']) g.functions.seed('default', name);
    g.functions.seed('acme', 'other');
    const first = await get('/v1/functions?limit=2');
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as { functions: Array<{ name: string }>; nextCursor: string | null };
    expect(page1.functions.map((f) => f.name)).toEqual(['a', 'b']);
    expect(page1.nextCursor).toBeTypeOf('string');
    const page2 = (await (await get(`/v1/functions?limit=2&cursor=${page1.nextCursor}`)).json()) as typeof page1;
    expect(page2.functions.map((f) => f.name)).toEqual(['c']);
    expect(page2.nextCursor).toBeNull();
  });

  it('lists an empty namespace as empty', async () => {
    expect(await (await get('/v1/functions', TENANT_KEY)).json()).toEqual({ functions: [], nextCursor: null });
  });

  it.each(badLimits(1000))('answers ?limit=%s with 400 InvalidParameter', async (limit) => {
    await expectError(await get(`/v1/functions?limit=${encodeURIComponent(limit)}`), 400, 'InvalidParameter');
  });

  it.each([
    ['garbage', 'not-a-cursor'],
    ['another list\'s cursor (namespaces)', cursorOf('n:default')],
    ['a cursor holding a name that is not a DNS label', cursorOf('f:Not_Valid')],
    ['a cursor holding NUL', cursorOf('f:a\u0000b')],
    ['a cursor of 500 characters', 'A'.repeat(500)],
    ['an empty key', cursorOf('f:')],
  ])('answers %s with 400 InvalidParameter', async (_what, cursor) => {
    await expectError(await get(`/v1/functions?cursor=${encodeURIComponent(cursor)}`), 400, 'InvalidParameter');
  });
});

describe('GET /v1/functions/{name}', () => {
  it('reads a function with its versions', async () => {
    g.functions.seed('default', 'f', {}, 3);
    const res = await get('/v1/functions/f');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { latestVersion: number; versions: Array<{ version: number }>; versionsNext: string | null };
    expect(body.latestVersion).toBe(3);
    expect(body.versions.map((v) => v.version)).toEqual([3, 2, 1]);
    expect(body.versionsNext).toBeNull();
  });

  it('answers a missing function 404 FunctionNotFound, and another namespace\'s the same', async () => {
    g.functions.seed('default', 'theirs');
    await expectError(await get('/v1/functions/nope'), 404, 'FunctionNotFound');
    await expectError(await get('/v1/functions/theirs', TENANT_KEY), 404, 'FunctionNotFound');
  });

  it.each(badNames)('answers a name with %s 400 InvalidName', async (_what, name) => {
    await expectError(await get(`/v1/functions/${name}`), 400, 'InvalidName');
  });
});

describe('GET /v1/functions/{name}/versions', () => {
  it('pages every version, newest first', async () => {
    g.functions.seed('default', 'f', {}, 5);
    const page1 = (await (await get('/v1/functions/f/versions?limit=2')).json()) as { items: Array<{ version: number }>; nextCursor: string | null };
    expect(page1.items.map((v) => v.version)).toEqual([5, 4]);
    const page2 = (await (await get(`/v1/functions/f/versions?limit=2&cursor=${page1.nextCursor}`)).json()) as typeof page1;
    expect(page2.items.map((v) => v.version)).toEqual([3, 2]);
  });

  it('answers a missing function 404', async () => {
    await expectError(await get('/v1/functions/nope/versions'), 404, 'FunctionNotFound');
  });

  it.each(badLimits(500))('answers ?limit=%s with 400 InvalidParameter', async (limit) => {
    g.functions.seed('default', 'f');
    await expectError(await get(`/v1/functions/f/versions?limit=${encodeURIComponent(limit)}`), 400, 'InvalidParameter');
  });

  it.each([
    ['garbage', 'zzz'],
    ['version 0', cursorOf('v0')],
    ['a negative version', cursorOf('v-1')],
    ['a version past int4', cursorOf('v2147483648')],
    ['a huge version', cursorOf(`v${'9'.repeat(30)}`)],
    ['a list cursor', cursorOf('f:abc')],
  ])('answers a cursor of %s with 400 InvalidParameter', async (_what, cursor) => {
    g.functions.seed('default', 'f');
    await expectError(await get(`/v1/functions/f/versions?cursor=${encodeURIComponent(cursor)}`), 400, 'InvalidParameter');
  });

  it.each(badNames)('answers a name with %s 400 InvalidName', async (_what, name) => {
    await expectError(await get(`/v1/functions/${name}/versions`), 400, 'InvalidName');
  });
});

/** A deploy request: the multipart form `fields` (a Blob is a file). */
function deploy(name: string, fields: Record<string, string | Blob>, key = PLATFORM_KEY, headers: Record<string, string> = {}) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Blob) form.append(k, v, k === 'code' ? 'index.js' : 'file.txt');
    else form.append(k, v);
  }
  return g.app.request(`/v1/functions/${name}`, { method: 'PUT', headers: bearer(key, headers), body: form });
}
const source = () => new Blob(['export const handler = async (e) => e;\n']);

describe('PUT /v1/functions/{name}', () => {
  it('deploys a single source file as version 1, then 2', async () => {
    const first = await deploy('hello', { runtime: 'nodejs20', code: source() });
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe('/v1/functions/hello');
    expect(await first.json()).toMatchObject({ name: 'hello', version: 1, latest: { runtime: 'nodejs20', handler: 'index.handler' } });
    const second = await deploy('hello', { runtime: 'nodejs20', memoryMb: '256', code: source() });
    expect(await second.json()).toMatchObject({ version: 2, latest: { memoryMb: 256 } });
    // Each deploy tells the workers which code to fetch ahead of the first call.
    expect(g.announced).toContainEqual({
      type: 'function-changed',
      namespace: 'default',
      name: 'hello',
      code: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/), runtime: 'nodejs20' },
    });
  });

  it.each([
    ['no content type', undefined],
    ['JSON', 'application/json'],
    ['multipart/form-data without parameters', 'multipart/form-data'],
    ['multipart/mixed', 'multipart/mixed; boundary=x'],
    ['text', 'text/plain'],
  ])('answers %s with 415 UnsupportedMediaType', async (_what, contentType) => {
    const headers = bearer(PLATFORM_KEY, contentType ? { 'Content-Type': contentType } : {});
    await expectError(await g.app.request('/v1/functions/hello', { method: 'PUT', headers, body: '{}' }), 415, 'UnsupportedMediaType');
  });

  it.each([
    ['without a boundary', 'multipart/form-data; charset=utf-8'],
    ['with an empty boundary', 'multipart/form-data; boundary='],
    ['with a boundary of 71 characters', `multipart/form-data; boundary=${'b'.repeat(71)}`],
    ['with a malformed parameter list', 'multipart/form-data; ;;=;'],
  ])('answers a multipart type %s with 400', async (_what, contentType) => {
    const res = await g.app.request('/v1/functions/hello', { method: 'PUT', headers: bearer(PLATFORM_KEY, { 'Content-Type': contentType }), body: 'x' });
    await expectError(res, 400);
  });

  it('answers a malformed multipart body with 400 InvalidMultipart', async () => {
    const res = await g.app.request('/v1/functions/hello', {
      method: 'PUT',
      headers: bearer(PLATFORM_KEY, { 'Content-Type': 'multipart/form-data; boundary=xyz' }),
      body: '--xyz\r\nContent-Disposition: form-data; name="runtime"\r\n\r\nnodejs20',
    });
    await expectError(res, 400, 'InvalidMultipart');
  });

  it('answers a declared length over the deploy limit with 413 before reading', async () => {
    const res = await g.app.request('/v1/functions/hello', {
      method: 'PUT',
      headers: bearer(PLATFORM_KEY, { 'Content-Type': 'multipart/form-data; boundary=xyz', 'Content-Length': String(1024 * 1024 * 1024) }),
      body: 'x',
    });
    await expectError(res, 413, 'PayloadTooLarge');
  });

  it.each(['abc', '-1', '1.5', '1e3', '9'.repeat(20)])('answers Content-Length: %s with 400', async (length) => {
    const res = await g.app.request('/v1/functions/hello', {
      method: 'PUT',
      headers: bearer(PLATFORM_KEY, { 'Content-Type': 'multipart/form-data; boundary=xyz', 'Content-Length': length }),
      body: 'x',
    });
    expect([400, 413]).toContain(res.status);
    await expectError(res, res.status);
  });

  it.each(badNames)('answers a name with %s 400 InvalidName', async (_what, name) => {
    await expectError(await deploy(name, { runtime: 'nodejs20', code: source() }), 400, 'InvalidName');
  });

  it('answers an unknown field with 400 InvalidParameter', async () => {
    await expectError(await deploy('hello', { runtime: 'nodejs20', colour: 'blue', code: source() }), 400, 'InvalidParameter');
  });

  it('answers a form without code with 400 MissingCode', async () => {
    await expectError(await deploy('hello', { runtime: 'nodejs20' }), 400, 'MissingCode');
    await expectError(await deploy('hello', { runtime: 'nodejs20', code: 'not a file' }), 400, 'MissingCode');
  });

  it('answers a text field sent as a file with 400 InvalidParameter', async () => {
    await expectError(await deploy('hello', { runtime: new Blob(['nodejs20']), code: source() }), 400, 'InvalidParameter');
  });

  it.each([
    ['no runtime', {}],
    ['an unknown runtime', { runtime: 'cobol' }],
    ['memoryMb 0', { runtime: 'nodejs20', memoryMb: '0' }],
    ['memoryMb huge', { runtime: 'nodejs20', memoryMb: '99999999999999999999' }],
    ['memoryMb not a number', { runtime: 'nodejs20', memoryMb: 'lots' }],
    ['timeoutMs negative', { runtime: 'nodejs20', timeoutMs: '-5' }],
    ['timeoutMs fractional', { runtime: 'nodejs20', timeoutMs: '1000.5' }],
    ['keepAliveMs past int4', { runtime: 'nodejs20', keepAliveMs: '2147483648' }],
    ['minWarm over maxConcurrency', { runtime: 'nodejs20', minWarm: '3', maxConcurrency: '2' }],
    ['maxConcurrency 0', { runtime: 'nodejs20', maxConcurrency: '0' }],
    ['network other', { runtime: 'nodejs20', network: 'host' }],
    ['public yes', { runtime: 'nodejs20', public: 'yes' }],
    ['a handler with ..', { runtime: 'nodejs20', handler: '../x.handler' }],
    ['a reserved handler function', { runtime: 'nodejs20', handler: 'index.constructor' }],
    ['env not JSON', { runtime: 'nodejs20', env: '{' }],
    ['env an array', { runtime: 'nodejs20', env: '[]' }],
    ['env a reserved key', { runtime: 'nodejs20', env: '{"HEARTH_X":"1"}' }],
    ['env a number value', { runtime: 'nodejs20', env: '{"A":1}' }],
    ['env a NUL value', { runtime: 'nodejs20', env: '{"A":"a\\u0000b"}' }],
    ['env __proto__', { runtime: 'nodejs20', env: '{"__proto__":"x"}' }],
    ['env over 4 KiB', { runtime: 'nodejs20', env: JSON.stringify({ A: 'x'.repeat(5000) }) }],
  ])('answers %s with 400 InvalidParameter', async (_what, fields) => {
    await expectError(await deploy('hello', { ...fields, code: source() }), 400, 'InvalidParameter');
  });

  // The env is stored as jsonb, and Postgres refuses a lone surrogate in JSON text (`"\ud800"`: "invalid input syntax for type json"):
  // it was a 500 until function-settings.ts checked it beside NUL.
  it('answers an env value holding a lone surrogate with 400, not 500', async () => {
    await expectError(await deploy('hello', { runtime: 'nodejs20', env: '{"A":"\\ud800"}', code: source() }), 400, 'InvalidParameter');
  });

  it('answers a handler whose file is not in the package with 400 HandlerNotFound', async () => {
    await expectError(await deploy('hello', { runtime: 'nodejs20', handler: 'main.handler', code: source() }), 400, 'HandlerNotFound');
  });

  it('answers a field over 64 KiB with 400', async () => {
    await expectError(await deploy('hello', { runtime: 'nodejs20', env: 'x'.repeat(70 * 1024), code: source() }), 400);
  });

  it('answers a repeated field with 400', async () => {
    const form = new FormData();
    form.append('runtime', 'nodejs20');
    form.append('runtime', 'python3');
    form.append('code', source(), 'index.js');
    await expectError(await g.app.request('/v1/functions/hello', { method: 'PUT', headers: bearer(PLATFORM_KEY), body: form }), 400);
  });

  it('answers an upload over the namespace\'s in-flight budget 429 TooManyUploads with Retry-After', async () => {
    const { UploadBudget } = await import('../../gateway/upload-budget.ts');
    g = await createFakeGateway({ uploads: new UploadBudget({ namespaceBytes: 100, gatewayBytes: 1000 }) });
    const res = await g.app.request('/v1/functions/hello', {
      method: 'PUT',
      headers: bearer(PLATFORM_KEY, { 'Content-Type': 'multipart/form-data; boundary=xyz', 'Content-Length': '500' }),
      body: 'x'.repeat(500),
    });
    expect(res.headers.get('retry-after')).toBe('5');
    await expectError(res, 429, 'TooManyUploads');
  });

  it('answers an empty code file with 400', async () => {
    await expectError(await deploy('hello', { runtime: 'nodejs20', code: new Blob([]) }), 400);
  });
});

describe('DELETE /v1/functions/{name}', () => {
  it('deletes a function: tombstone first, then the rows, then the broadcast', async () => {
    const fn = g.functions.seed('default', 'f');
    const res = await g.app.request('/v1/functions/f', { method: 'DELETE', headers: bearer(PLATFORM_KEY) });
    expect(res.status).toBe(204);
    expect(g.queue.deletedFunctions).toEqual([fn.id]);
    expect(g.announced).toContainEqual({ type: 'function-deleted', namespace: 'default', name: 'f', functionId: fn.id });
    await expectError(await get('/v1/functions/f'), 404, 'FunctionNotFound');
  });

  it('answers a missing function 404, and another namespace\'s the same', async () => {
    g.functions.seed('default', 'theirs');
    await expectError(await g.app.request('/v1/functions/nope', { method: 'DELETE', headers: bearer(PLATFORM_KEY) }), 404, 'FunctionNotFound');
    await expectError(await g.app.request('/v1/functions/theirs', { method: 'DELETE', headers: bearer(TENANT_KEY) }), 404, 'FunctionNotFound');
    expect(g.queue.deletedFunctions).toEqual([]);
  });

  it.each(badNames)('answers a name with %s 400 InvalidName', async (_what, name) => {
    await expectError(await g.app.request(`/v1/functions/${name}`, { method: 'DELETE', headers: bearer(PLATFORM_KEY) }), 400, 'InvalidName');
  });
});

describe('POST /v1/functions/{name}/rollback', () => {
  const rollback = (body: unknown, name = 'f', key = PLATFORM_KEY, headers: Record<string, string> = {}) =>
    g.app.request(`/v1/functions/${name}/rollback`, jsonRequest('POST', key, body, headers));

  it('points latest at an older version', async () => {
    g.functions.seed('default', 'f', {}, 3);
    const res = await rollback({ version: 1 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ latestVersion: 1 });
    expect(g.announced).toContainEqual({ type: 'function-changed', namespace: 'default', name: 'f' });
  });

  it.each([
    ['an empty body', ''],
    ['null', 'null'],
    ['an array', '[1]'],
    ['a string', '"1"'],
    ['version as a string', '{"version":"1"}'],
    ['version 0', '{"version":0}'],
    ['a negative version', '{"version":-1}'],
    ['a fractional version', '{"version":1.5}'],
    ['a version past int4', '{"version":2147483648}'],
    ['a huge version', '{"version":1e308}'],
    ['version null', '{"version":null}'],
    ['version true', '{"version":true}'],
  ])('answers %s with 400 InvalidParameter', async (_what, body) => {
    g.functions.seed('default', 'f', {}, 2);
    await expectError(await rollback(body), 400, 'InvalidParameter');
  });

  it.each([
    ['broken JSON', '{"version":'],
    ['trailing garbage', '{"version":1} x'],
    ['an unclosed string', '{"version":"1}'],
  ])('answers %s with 400 InvalidJson', async (_what, body) => {
    await expectError(await rollback(body), 400, 'InvalidJson');
  });

  it('answers a body that is not UTF-8 with 400 InvalidJson', async () => {
    const res = await g.app.request('/v1/functions/f/rollback', { method: 'POST', headers: bearer(PLATFORM_KEY), body: new Uint8Array([0x7b, 0xff, 0x7d]) });
    await expectError(res, 400, 'InvalidJson');
  });

  it('answers a multipart body with 415', async () => {
    const form = new FormData();
    form.append('version', '1');
    await expectError(await g.app.request('/v1/functions/f/rollback', { method: 'POST', headers: bearer(PLATFORM_KEY), body: form }), 415, 'UnsupportedMediaType');
  });

  it('answers a body over 64 KiB (declared) with 413', async () => {
    await expectError(await rollback('{"version":1}', 'f', PLATFORM_KEY, { 'Content-Length': String(65 * 1024) }), 413, 'PayloadTooLarge');
  });

  it('answers a body over 64 KiB (streamed) with 413', async () => {
    await expectError(await rollback(`{"version":1,"pad":"${'x'.repeat(70 * 1024)}"}`), 413, 'PayloadTooLarge');
  });

  it('answers a missing function 404 FunctionNotFound and a missing version 404 VersionNotFound', async () => {
    await expectError(await rollback({ version: 1 }, 'nope'), 404, 'FunctionNotFound');
    g.functions.seed('default', 'f');
    await expectError(await rollback({ version: 7 }), 404, 'VersionNotFound');
  });

  it.each(badNames)('answers a name with %s 400 InvalidName', async (_what, name) => {
    await expectError(await rollback({ version: 1 }, name), 400, 'InvalidName');
  });

  it('keeps a tenant out of another namespace', async () => {
    g.functions.seed('default', 'f', {}, 2);
    await expectError(await rollback({ version: 1 }, 'f', TENANT_KEY), 404, 'FunctionNotFound');
    await expectError(await rollback({ version: 1 }, 'f', ADMIN_KEY, { 'X-Hearth-Namespace': 'acme' }), 404, 'FunctionNotFound');
  });
});
