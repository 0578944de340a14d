/** Invoking, and reading what calls left behind: invocations, logs, history, metrics. No services. */
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_KEY, PLATFORM_KEY, TENANT_KEY, bearer, createFakeGateway, expectError, invocationRow, succeeded, type FakeGateway } from './fake-deps.ts';

let g: FakeGateway;
beforeEach(async () => {
  g = await createFakeGateway();
});

const invoke = (path: string, body: RequestInit['body'] | undefined, headers: Record<string, string> = {}, key = PLATFORM_KEY) =>
  g.app.request(path, { method: 'POST', headers: bearer(key, { 'Content-Type': 'application/json', ...headers }), ...(body !== undefined ? { body } : {}) });
const get = (path: string, key = PLATFORM_KEY) => g.app.request(path, { headers: bearer(key) });

describe('POST /v1/functions/{name}/invoke', () => {
  beforeEach(() => {
    g.functions.seed('default', 'echo', {}, 2);
  });

  it('runs a sync call and answers its result with the invocation headers', async () => {
    const res = await invoke('/v1/functions/echo/invoke', '{"a":1}');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ a: 1 });
    expect(res.headers.get('x-function-version')).toBe('2');
    expect(res.headers.get('x-invocation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('takes an empty body as {}', async () => {
    expect(await (await invoke('/v1/functions/echo/invoke', undefined)).json()).toEqual({});
  });

  it('pins ?version=N', async () => {
    const res = await invoke('/v1/functions/echo/invoke?version=1', '{}');
    expect(res.headers.get('x-function-version')).toBe('1');
    for (const latest of ['latest', '$LATEST', '']) {
      expect((await invoke(`/v1/functions/echo/invoke?version=${encodeURIComponent(latest)}`, '{}')).headers.get('x-function-version')).toBe('2');
    }
  });

  it('queues an async call and answers 202 with where to look', async () => {
    for (const [query, headers] of [['?async=true', {}], ['?async=1', {}], ['', { 'X-Invocation-Type': 'Event' }]] as const) {
      const res = await invoke(`/v1/functions/echo/invoke${query}`, '{}', headers);
      expect(res.status).toBe(202);
      const { invocationId } = (await res.json()) as { invocationId: string };
      expect(res.headers.get('location')).toBe(`/v1/invocations/${invocationId}`);
    }
    expect(g.queue.enqueued.filter((j) => j.mode === 'async')).toHaveLength(3);
  });

  it('answers a repeated Idempotency-Key with the first call\'s id, queueing nothing', async () => {
    const first = (await (await invoke('/v1/functions/echo/invoke?async=true', '{}', { 'Idempotency-Key': 'k-1' })).json()) as { invocationId: string };
    g.queue.states.set(first.invocationId, 'queued');
    const again = await invoke('/v1/functions/echo/invoke?async=true', '{}', { 'Idempotency-Key': 'k-1' });
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ invocationId: first.invocationId, repeated: true });
    expect(g.queue.enqueued).toHaveLength(1);
  });

  it.each(['0', '-1', '1.5', 'abc', '2147483648', '99999999999999999999', '1e3', ' 1', '0x1', 'LATEST'])('answers ?version=%s with 400 InvalidParameter', async (version) => {
    await expectError(await invoke(`/v1/functions/echo/invoke?version=${encodeURIComponent(version)}`, '{}'), 400, 'InvalidParameter');
  });

  it('answers a version that does not exist with 404 VersionNotFound', async () => {
    await expectError(await invoke('/v1/functions/echo/invoke?version=9', '{}'), 404, 'VersionNotFound');
  });

  it('answers a function that does not exist (or is another namespace\'s) with 404 FunctionNotFound', async () => {
    await expectError(await invoke('/v1/functions/nope/invoke', '{}'), 404, 'FunctionNotFound');
    await expectError(await invoke('/v1/functions/echo/invoke', '{}', {}, TENANT_KEY), 404, 'FunctionNotFound');
    await expectError(await invoke('/v1/functions/echo/invoke?async=true', '{}', {}, TENANT_KEY), 404, 'FunctionNotFound');
  });

  it.each(['yes', 'TRUE', '2', 'on'])('answers ?async=%s with 400 InvalidParameter', async (value) => {
    await expectError(await invoke(`/v1/functions/echo/invoke?async=${value}`, '{}'), 400, 'InvalidParameter');
  });

  it.each(['Async', 'DryRun', '', 'Event,Event'])('answers X-Invocation-Type: %s with 400 InvalidParameter', async (type) => {
    await expectError(await invoke('/v1/functions/echo/invoke', '{}', { 'X-Invocation-Type': type }), 400, 'InvalidParameter');
  });

  it.each([
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['with a space', 'a b'],
    ['non-ASCII (as Latin-1 bytes)', 'caf\u00e9'],
  ])('answers an Idempotency-Key %s with 400 InvalidParameter', async (_what, key) => {
    await expectError(await invoke('/v1/functions/echo/invoke?async=true', '{}', { 'Idempotency-Key': key }), 400, 'InvalidParameter');
  });

  it.each([
    ['broken JSON', '{"a":'],
    ['two values', '{} {}'],
    ['a bare word', 'hello'],
    ['a trailing comma', '[1,]'],
  ])('answers %s with 400 InvalidJson', async (_what, body) => {
    await expectError(await invoke('/v1/functions/echo/invoke', body), 400, 'InvalidJson');
  });

  it('answers a body that is not UTF-8 with 400 InvalidJson', async () => {
    await expectError(await invoke('/v1/functions/echo/invoke', new Uint8Array([0x22, 0xc3, 0x28, 0x22])), 400, 'InvalidJson');
  });

  it('takes deep nesting without a stack overflow', async () => {
    const res = await invoke('/v1/functions/echo/invoke', `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(res.status).toBe(200);
  });

  it('answers a multipart body with 415 UnsupportedMediaType', async () => {
    const form = new FormData();
    form.append('a', '1');
    const res = await g.app.request('/v1/functions/echo/invoke', { method: 'POST', headers: bearer(PLATFORM_KEY), body: form });
    await expectError(res, 415, 'UnsupportedMediaType');
  });

  it('answers an event over 6 MB with 413, declared or streamed', async () => {
    await expectError(await invoke('/v1/functions/echo/invoke', '{}', { 'Content-Length': String(6 * 1024 * 1024 + 1) }), 413, 'PayloadTooLarge');
    await expectError(await invoke('/v1/functions/echo/invoke', `"${'x'.repeat(6 * 1024 * 1024)}"`), 413, 'PayloadTooLarge');
  });

  it.each(['Bad', 'a_b', '-a', 'a'.repeat(64)])('answers the name %s with 400 InvalidName', async (name) => {
    await expectError(await invoke(`/v1/functions/${name}/invoke`, '{}'), 400, 'InvalidName');
  });

  it('answers a function failure as the function\'s outcome (502), not a platform 500', async () => {
    g.queue.respond = (job) => ({
      ...succeeded(job),
      status: 'failed',
      result: null,
      error: { code: 'FunctionError', type: 'TypeError', message: 'boom' },
    });
    await expectError(await invoke('/v1/functions/echo/invoke', '{}'), 502, 'FunctionError');
  });

  it('answers a throttled call 429 with Retry-After', async () => {
    g.functions.seed('default', 'gated', { maxConcurrency: 1 });
    g.queue.respond = () => 'throttled';
    const res = await invoke('/v1/functions/gated/invoke', '{}');
    expect(res.headers.get('retry-after')).toBe('1');
    await expectError(res, 429, 'Throttled');
  });
});

describe('GET /v1/invocations/{id} and /logs', () => {
  function record(namespace = 'default', fields: Parameters<typeof invocationRow>[0] extends infer T ? Partial<T> : never = {}) {
    const fn = g.functions.seed(namespace, 'f');
    const row = invocationRow({ id: randomUUID(), namespace, functionId: fn.id, functionName: 'f', ...fields });
    g.records.set(row.id, row);
    return row;
  }

  it('reads a finished invocation, also by its id in upper case', async () => {
    const row = record();
    for (const id of [row.id, row.id.toUpperCase()]) {
      const res = await get(`/v1/invocations/${id}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ invocationId: row.id, status: 'succeeded', result: 'ok' });
    }
  });

  it('says a call still in the queue is queued or running', async () => {
    const id = randomUUID();
    g.queue.states.set(id, 'running');
    expect(await (await get(`/v1/invocations/${id}`)).json()).toEqual({ invocationId: id, status: 'running' });
  });

  it('reads an invocation\'s logs', async () => {
    const row = record();
    const res = await get(`/v1/invocations/${row.id}/logs`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ invocationId: row.id, logs: 'hello\n', logsTruncated: false });
  });

  it.each(['nope', '00000000-0000-0000-0000-00000000000', 'g0000000-0000-4000-8000-000000000000', '%00', 'a'.repeat(300)])('answers the id %s with 404 InvocationNotFound', async (id) => {
    await expectError(await get(`/v1/invocations/${id}`), 404, 'InvocationNotFound');
    await expectError(await get(`/v1/invocations/${id}/logs`), 404, 'InvocationNotFound');
  });

  it('answers another namespace\'s invocation 404, as if absent', async () => {
    const row = record('default');
    await expectError(await get(`/v1/invocations/${row.id}`, TENANT_KEY), 404, 'InvocationNotFound');
    await expectError(await get(`/v1/invocations/${row.id}/logs`, TENANT_KEY), 404, 'InvocationNotFound');
  });
});

describe('GET /v1/functions/{name}/logs and /invocations', () => {
  let functionId: string;
  beforeEach(() => {
    functionId = g.functions.seed('default', 'f').id;
    for (let i = 0; i < 3; i++) {
      const row = invocationRow({ id: randomUUID(), namespace: 'default', functionId, functionName: 'f', queuedAt: new Date(Date.UTC(2025, 0, 1, 0, i)) });
      g.records.set(row.id, row);
    }
  });

  it.each(['logs', 'invocations'])('pages %s newest first', async (what) => {
    const page1 = (await (await get(`/v1/functions/f/${what}?limit=2`)).json()) as { items: Array<{ time: string }>; nextCursor: string | null };
    expect(page1.items.map((i) => i.time)).toEqual(['2025-01-01T00:02:00.000Z', '2025-01-01T00:01:00.000Z']);
    const page2 = (await (await get(`/v1/functions/f/${what}?limit=2&cursor=${page1.nextCursor}`)).json()) as typeof page1;
    expect(page2.items.map((i) => i.time)).toEqual(['2025-01-01T00:00:00.000Z']);
    expect(page2.nextCursor).toBeNull();
  });

  it('filters invocations by status and since', async () => {
    expect(((await (await get('/v1/functions/f/invocations?status=failed')).json()) as { items: unknown[] }).items).toEqual([]);
    expect(((await (await get('/v1/functions/f/invocations?since=2025-01-01T00:00:30Z')).json()) as { items: unknown[] }).items).toHaveLength(2);
    expect((await get('/v1/functions/f/logs?since=15m')).status).toBe(200);
    expect((await get(`/v1/functions/f/logs?since=${Date.UTC(2025, 0, 1)}`)).status).toBe(200);
  });

  const cursorOf = (text: string) => Buffer.from(text).toString('base64url');

  describe.each(['logs', 'invocations'])('%s', (what) => {
    it.each(['0', '-1', '1.5', 'abc', '', '501', '1e400', '99999999999999999999'])('answers ?limit=%s with 400 InvalidParameter', async (limit) => {
      await expectError(await get(`/v1/functions/f/${what}?limit=${encodeURIComponent(limit)}`), 400, 'InvalidParameter');
    });

    it.each([
      ['a word', 'yesterday'],
      ['a year past 9999', '10000-01-01T00:00:00Z'],
      ['a negative epoch before year 1', '-62200000000000'],
      ['epoch past year 9999', '99999999999999999'],
      ['a huge duration', '99999999999999999999d'],
      ['a duration reaching before year 1', '800000d'],
      ['an unknown unit', '5w'],
      ['a negative duration', '-5m'],
    ])('answers since= %s with 400 InvalidParameter', async (_what, since) => {
      await expectError(await get(`/v1/functions/f/${what}?since=${encodeURIComponent(since)}`), 400, 'InvalidParameter');
    });

    it.each([
      ['garbage', 'zzz'],
      ['a time without an id', cursorOf('2025-01-01T00:00:00.000Z')],
      ['an id that is not a uuid', cursorOf('2025-01-01T00:00:00.000Z|nope')],
      ['a bad time', cursorOf(`nope|${randomUUID()}`)],
      ['a time past year 9999', cursorOf(`+275760-01-01T00:00:00.000Z|${randomUUID()}`)],
      ['a NUL', cursorOf(`2025-01-01T00:00:00.000Z|\u0000`)],
    ])('answers a cursor of %s with 400 InvalidParameter', async (_what, cursor) => {
      await expectError(await get(`/v1/functions/f/${what}?cursor=${encodeURIComponent(cursor)}`), 400, 'InvalidParameter');
    });

    it('answers a missing function 404 and a bad name 400', async () => {
      await expectError(await get(`/v1/functions/nope/${what}`), 404, 'FunctionNotFound');
      await expectError(await get(`/v1/functions/f/${what}`, TENANT_KEY), 404, 'FunctionNotFound');
      await expectError(await get(`/v1/functions/Bad/${what}`), 400, 'InvalidName');
    });
  });

  it.each(['ok', 'SUCCEEDED', 'queued', '', 'succeeded,failed'])('answers ?status=%s with 400 InvalidParameter', async (status) => {
    await expectError(await get(`/v1/functions/f/invocations?status=${encodeURIComponent(status)}`), 400, 'InvalidParameter');
  });
});

describe('metrics', () => {
  beforeEach(() => {
    g.functions.seed('default', 'f');
  });

  it.each(['5m', '1h', '24h', '7d'])('answers GET /v1/functions/{name}/metrics?window=%s', async (window) => {
    const res = await get(`/v1/functions/f/metrics?window=${window}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ window });
  });

  it('answers GET /v1/metrics/summary, with the pool only for the admin key', async () => {
    const { workerReport } = await import('./fake-deps.ts');
    g.workers.push(workerReport('w-1'));
    expect(await (await get('/v1/metrics/summary')).json()).toMatchObject({ functions: [], pool: null });
    expect(await (await get('/v1/metrics/summary', ADMIN_KEY)).json()).toMatchObject({ pool: { totals: { warm: 1 } } });
  });

  it.each(['1m', '1H', '', '2h', 'constructor', '__proto__', 'toString', 'hasOwnProperty'])('answers ?window=%s with 400 InvalidParameter', async (window) => {
    await expectError(await get(`/v1/functions/f/metrics?window=${encodeURIComponent(window)}`), 400, 'InvalidParameter');
    await expectError(await get(`/v1/metrics/summary?window=${encodeURIComponent(window)}`), 400, 'InvalidParameter');
  });

  it('answers a missing function 404 and a bad name 400', async () => {
    await expectError(await get('/v1/functions/nope/metrics'), 404, 'FunctionNotFound');
    await expectError(await get('/v1/functions/Bad/metrics'), 400, 'InvalidName');
  });
});
