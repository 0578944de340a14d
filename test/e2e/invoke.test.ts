/**
 * Invoking through the public HTTP API, end to end on real Docker, Redis and
 * Postgres: sync, async and HTTP-endpoint calls, cold then warm, function
 * failures as results, and exactly one record per invocation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, invoke, uniqueName, zipOf } from '../helpers/packages.ts';
import { fetchWithoutKey, recordOf, startPlatform, type ApiResponse, type Platform } from '../helpers/platform.ts';

const NODE_APP = `
const lib = require('greeting-lib');
exports.handler = async (event, context) => {
  console.log('handling', event.who);
  console.error('to stderr');
  return {
    greeting: lib.greet(event.who),
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    requestId: context.awsRequestId,
    memory: context.memoryLimitInMB,
    remaining: context.getRemainingTimeInMillis(),
    env: process.env.GREETING_STYLE,
  };
};
`;

const FAILURES = `
exports.handler = async (event) => {
  switch (event.mode) {
    case 'throw': { const e = new TypeError('bad thing'); throw e; }
    case 'sleep': await new Promise((r) => setTimeout(r, 5000)); return 'late';
    case 'oom': { const keep = []; for (;;) keep.push(Buffer.alloc(8 * 1024 * 1024, 1)); }
    case 'exit': process.exit(3);
    default: return { ok: true };
  }
};
`;

const HTTP_APP = `
export const handler = async (event) => ({
  statusCode: 201,
  headers: { 'x-echo-method': event.requestContext.http.method, 'content-type': 'application/json' },
  cookies: ['a=1', 'wide=1; Path=/'],
  body: JSON.stringify({ path: event.rawPath, query: event.queryStringParameters, body: event.body, b64: event.isBase64Encoded }),
});
`;

const PYTHON_APP = `
import helperpkg

def handler(event, context):
    print("python says", event.get("who"))
    return {
        "greeting": helperpkg.shout(event.get("who", "nobody")),
        "function_name": context.function_name,
        "request_id": context.aws_request_id,
        "remaining_positive": context.get_remaining_time_in_millis() > 0,
    }
`;

describe('invoking functions', () => {
  let platform: Platform;
  const invocationIds: string[] = [];
  const track = (res: ApiResponse) => {
    const id = res.headers.get('x-invocation-id');
    if (id) invocationIds.push(id);
    return res;
  };

  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('runs a Node function with a bundled dependency: first call cold, second warm, logs and context captured', async () => {
    const name = uniqueName('greeter');
    const zip = await zipOf({
      'index.js': NODE_APP,
      'node_modules/greeting-lib/package.json': '{"name":"greeting-lib","main":"lib.js"}',
      'node_modules/greeting-lib/lib.js': 'exports.greet = (who) => `hello, ${who}`;',
    });
    const deployed = await deploy(platform, name, { bytes: zip, filename: 'app.zip' }, {
      runtime: 'nodejs20',
      memoryMb: 256,
      env: { GREETING_STYLE: 'warm' },
    });
    expect(deployed.status, await deployed.clone().text()).toBe(201);

    const first = track(await invoke(platform, name, { who: 'ada' }));
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cold-start')).toBe('true');
    expect(Number(first.headers.get('x-duration-ms'))).toBeGreaterThanOrEqual(0);
    const body = await first.json();
    expect(body).toMatchObject({
      greeting: 'hello, ada',
      functionName: name,
      functionVersion: '1',
      requestId: first.headers.get('x-invocation-id'),
      memory: '256',
      env: 'warm',
    });
    expect(body.remaining).toBeGreaterThan(0);
    expect(body.remaining).toBeLessThanOrEqual(3000);

    const second = track(await invoke(platform, name, { who: 'bob' }));
    expect(second.status).toBe(200);
    expect(second.headers.get('x-cold-start')).toBe('false');
    expect((await second.json()).greeting).toBe('hello, bob');

    const record = await recordOf(platform, second.headers.get('x-invocation-id'));
    expect(record).toMatchObject({ status: 'succeeded', coldStart: false, startKind: 'warm', mode: 'sync', version: 1 });
    expect(record.logs).toContain('handling bob');
    expect(record.logs).toContain('to stderr');
    expect(record.result.greeting).toBe('hello, bob');
  });

  it('runs a Python function with a package bundled in the archive root', async () => {
    const name = uniqueName('py');
    const zip = await zipOf({
      'main.py': PYTHON_APP,
      'helperpkg/__init__.py': 'def shout(s):\n    return s.upper() + "!"\n',
    });
    const deployed = await deploy(platform, name, { bytes: zip, filename: 'py.zip' }, { runtime: 'python3' });
    expect(deployed.status, await deployed.clone().text()).toBe(201);
    const first = track(await invoke(platform, name, { who: 'grace' }));
    expect(first.status, await first.clone().text()).toBe(200);
    expect(first.headers.get('x-cold-start')).toBe('true');
    expect(await first.json()).toEqual({
      greeting: 'GRACE!',
      function_name: name,
      request_id: first.headers.get('x-invocation-id'),
      remaining_positive: true,
    });
    const second = track(await invoke(platform, name, { who: 'linus' }));
    expect(second.headers.get('x-cold-start')).toBe('false');
    const record = await recordOf(platform, second.headers.get('x-invocation-id'));
    expect(record.logs).toContain('python says linus');
  });

  it('queues an async invocation and reports it through GET /v1/invocations/{id}', async () => {
    const name = uniqueName('async');
    await deploy(platform, name, { bytes: Buffer.from('exports.handler = async (e) => { console.log("async!"); return e.n * 2; };'), filename: 'index.js' }, { runtime: 'nodejs20' });
    const res = await invoke(platform, name, { n: 21 }, '?async=true');
    expect(res.status).toBe(202);
    const { invocationId } = await res.json();
    expect(invocationId).toMatch(/^[0-9a-f-]{36}$/);
    invocationIds.push(invocationId);
    const headerStyle = await platform.api(`/v1/functions/${name}/invoke`, {
      method: 'POST',
      headers: { 'x-invocation-type': 'Event' },
      body: '{"n":1}',
    });
    expect(headerStyle.status).toBe(202);
    invocationIds.push((await headerStyle.json()).invocationId);

    let record: { status: string; result?: unknown; logs?: string; coldStart?: boolean; timings?: Record<string, unknown> } = { status: 'queued' };
    const until = Date.now() + 15_000;
    while (!['succeeded', 'failed'].includes(record.status) && Date.now() < until) {
      const got = await platform.api(`/v1/invocations/${invocationId}`);
      expect(got.status).toBe(200);
      record = await got.json();
      expect(['queued', 'running', 'succeeded', 'failed']).toContain(record.status);
      if (record.status === 'queued' || record.status === 'running') await new Promise((r) => setTimeout(r, 50));
    }
    expect(record).toMatchObject({ status: 'succeeded', result: 42 });
    expect(record.logs).toContain('async!');
    expect(typeof record.coldStart).toBe('boolean');
    expect(record.timings).toHaveProperty('queueWaitMs');
  });

  it('serves a function over /fn/{name} with function-URL events and responses', async () => {
    const name = uniqueName('web');
    await deploy(platform, name, { bytes: Buffer.from(HTTP_APP), filename: 'index.mjs' }, { runtime: 'nodejs20' });
    const res = await platform.fn(`/fn/${name}/some/path?x=1&y=2`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello body',
    });
    invocationIds.push(res.headers.get('x-invocation-id')!);
    expect(res.status, await res.clone().text()).toBe(201);
    expect(res.headers.get('x-echo-method')).toBe('POST');
    // A function's cookies stay under its own path; one for the whole host is dropped.
    expect(res.headers.getSetCookie()).toEqual([`a=1; Path=/fn/${name}`]);
    expect(await res.json()).toEqual({ path: '/some/path', query: { x: '1', y: '2' }, body: 'hello body', b64: false });

    const binary = await platform.fn(`/fn/${name}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array([0, 1, 2, 255]),
    });
    invocationIds.push(binary.headers.get('x-invocation-id')!);
    const echoed = await binary.json();
    expect(echoed).toMatchObject({ path: '/', b64: true, body: Buffer.from([0, 1, 2, 255]).toString('base64') });
  });

  it('sends a plain return value from /fn as 200 JSON', async () => {
    const name = uniqueName('plain');
    await deploy(platform, name, { bytes: Buffer.from('exports.handler = async () => ({ just: "data" });'), filename: 'index.js' }, { runtime: 'nodejs20' });
    const res = await platform.fn(`/fn/${name}`);
    invocationIds.push(res.headers.get('x-invocation-id')!);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual({ just: 'data' });
  });

  describe('function failures are results, and the next call still works', () => {
    let name: string;
    beforeAll(async () => {
      name = uniqueName('fails');
      const res = await deploy(platform, name, { bytes: Buffer.from(FAILURES), filename: 'index.js' }, {
        runtime: 'nodejs20',
        timeoutMs: 1000,
        memoryMb: 128,
      });
      expect(res.status).toBe(201);
    });

    it('a thrown error answers 502 FunctionError with type and stack', async () => {
      const res = track(await invoke(platform, name, { mode: 'throw' }));
      expect(res.status).toBe(502);
      const { error } = await res.json();
      expect(error).toMatchObject({ code: 'FunctionError', type: 'TypeError', message: 'bad thing' });
      expect(error.stack).toContain('index.js');
      const next = track(await invoke(platform, name, { mode: 'ok' }));
      expect(next.status).toBe(200);
      // A thrown error does not poison the container: it stays warm.
      expect(next.headers.get('x-cold-start')).toBe('false');
    });

    it('running past the timeout answers 504 FunctionTimeout and the container is replaced', async () => {
      const res = track(await invoke(platform, name, { mode: 'sleep' }));
      expect(res.status).toBe(504);
      const { error } = await res.json();
      expect(error.code).toBe('FunctionTimeout');
      expect(error.message).toContain('1000 ms');
      const next = track(await invoke(platform, name, { mode: 'ok' }));
      expect(next.status).toBe(200);
      expect(next.headers.get('x-cold-start')).toBe('true');
    });

    it('allocating past the memory limit answers 502 FunctionOutOfMemory', async () => {
      const res = track(await invoke(platform, name, { mode: 'oom' }));
      expect(res.status).toBe(502);
      expect((await res.json()).error.code).toBe('FunctionOutOfMemory');
      const next = track(await invoke(platform, name, { mode: 'ok' }));
      expect(next.status).toBe(200);
    });

    it('exiting the process answers 502 FunctionCrashed', async () => {
      const res = track(await invoke(platform, name, { mode: 'exit' }));
      expect(res.status).toBe(502);
      const { error } = await res.json();
      expect(error.code).toBe('FunctionCrashed');
      expect(error.message).toContain('code 3');
      const next = track(await invoke(platform, name, { mode: 'ok' }));
      expect(next.status).toBe(200);
    });
  });

  it('answers 404 for an unknown function or version, and 400 for a bad event or version', async () => {
    const missing = await invoke(platform, 'no-such-function', {});
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('FunctionNotFound');

    const name = uniqueName('v');
    await deploy(platform, name, { bytes: Buffer.from('exports.handler = async () => 1;'), filename: 'index.js' }, { runtime: 'nodejs20' });
    const noVersion = await invoke(platform, name, {}, '?version=9');
    expect(noVersion.status).toBe(404);
    expect((await noVersion.json()).error.code).toBe('VersionNotFound');
    const badVersion = await invoke(platform, name, {}, '?version=abc');
    expect(badVersion.status).toBe(400);

    const badJson = await platform.api(`/v1/functions/${name}/invoke`, { method: 'POST', body: '{"unterminated' });
    expect(badJson.status).toBe(400);
    expect((await badJson.json()).error.code).toBe('InvalidJson');

    const tooBig = await platform.api(`/v1/functions/${name}/invoke`, {
      method: 'POST',
      body: JSON.stringify({ pad: 'x'.repeat(6 * 1024 * 1024 + 10) }),
    });
    expect(tooBig.status).toBe(413);
    expect((await tooBig.json()).error.code).toBe('PayloadTooLarge');

    const noKey = await fetchWithoutKey(`${platform.url}/v1/functions/${name}/invoke`, { method: 'POST', body: '{}' });
    expect(noKey.status).toBe(401);
    expect((await noKey.json()).error.code).toBe('Unauthorized');
  });

  it('refuses a result over 6 MB and headers over 16 KiB with clear errors', async () => {
    const name = uniqueName('big');
    await deploy(platform, name, { bytes: Buffer.from('exports.handler = async (e) => "x".repeat(e.n);'), filename: 'index.js' }, { runtime: 'nodejs20', memoryMb: 256 });
    const small = track(await invoke(platform, name, { n: 5 * 1024 * 1024 }));
    expect(small.status).toBe(200);
    const big = track(await invoke(platform, name, { n: 6 * 1024 * 1024 }));
    expect(big.status).toBe(502);
    expect((await big.json()).error).toMatchObject({ code: 'FunctionError', type: 'Runtime.ResponseSizeTooLarge' });
    const huge = await platform.api(`/v1/functions/${name}/invoke`, { method: 'POST', headers: { 'x-padding': 'p'.repeat(20_000) }, body: '{}' });
    expect(huge.status).toBe(431);
    expect((await huge.json()).error.code).toBe('HeadersTooLarge');
  });

  it('recorded every invocation exactly once', async () => {
    expect(invocationIds.length).toBeGreaterThanOrEqual(15);
    const query = () =>
      platform.database.pool.query<{ id: string; n: string }>(
        'select id, count(*) as n from invocations where id = any($1::uuid[]) group by id',
        [invocationIds],
      );
    // The last answers may be a moment ahead of their records.
    let { rows } = await query();
    for (let i = 0; i < 50 && rows.length < new Set(invocationIds).size; i++) {
      await new Promise((r) => setTimeout(r, 20));
      ({ rows } = await query());
    }
    expect(rows.length).toBe(new Set(invocationIds).size);
    for (const row of rows) expect(Number(row.n)).toBe(1);
  });
});
