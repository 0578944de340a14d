/**
 * Destinations through the REST API, in memory: set, read, remove; secrets
 * sealed at rest and shown as ****; every malformed body a 400 in the house
 * shape; function destinations that name nothing refused; URLs the outbound
 * guard refuses (private, loopback, link-local, odd spellings, names that
 * resolve there, the platform's own services) refused at configuration;
 * X-Callback-Url checked and carried in the job; an invocation's chain and
 * deliveries in its lookup. No services: fake DNS, the real guard and sealer.
 */
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../gateway/app.ts';
import { openDestination, readStored } from '../../gateway/destinations/destination-config.ts';
import { createCallbackSecrets } from '../../gateway/destinations/webhook-signature.ts';
import { ADMIN_KEY, PLATFORM_KEY, TENANT_KEY, bearer, createFakeGateway, expectError, invocationRow, type FakeGateway } from './fake-deps.ts';
import { createFakeDestinations, type FakeDestinations } from './fakes/destinations.ts';
import { ARN, expectJson, expectLambdaError, signedLambda } from './lambda-signed.ts';

let g: FakeGateway;
let d: FakeDestinations;
let app: ReturnType<typeof createApp>;
const KEYS = { apiKey: PLATFORM_KEY, adminKey: ADMIN_KEY };

beforeEach(async () => {
  g = await createFakeGateway();
  for (const name of ['a', 'b']) g.functions.seed('default', name);
  g.functions.seed('acme', 'elsewhere');
  d = createFakeDestinations(g.functions, g.records, KEYS, { allowHosts: ['10.0.0.7'], refuse: [{ host: '10.0.0.7', port: 6379 }] });
  app = createApp({ ...g.deps, destinations: d }, { functionBaseUrl: (url) => `${url.protocol}//${url.hostname}:8081`, sessions: g.sessions });
});

const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, key = PLATFORM_KEY) =>
  app.request(path, {
    method,
    headers: bearer(key, { 'Content-Type': 'application/json', ...headers }),
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
const put = (body: unknown, fn = 'a', key?: string) => send('PUT', `/v1/functions/${fn}/destinations`, body, {}, key);
const functionId = (name: string, ns = 'default') => [...g.functions.rows.values()].find((f) => f.name === name && f.namespace === ns)!.id;

describe('destinations CRUD', () => {
  it('answers none before any is set', async () => {
    const res = await send('GET', '/v1/functions/a/destinations');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ onSuccess: null, onFailure: null, updatedAt: null });
  });

  it('sets a function and a webhook destination, seals the secret, shows it as ****, and tells every gateway', async () => {
    const res = await put({
      onSuccess: { type: 'function', name: 'b', alias: 'latest' },
      onFailure: { type: 'webhook', url: 'https://hooks.example/failed?team=7', secret: 'whsec-0123456789abcdef' },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const shown = await res.json();
    expect(shown).toEqual({
      onSuccess: { type: 'function', name: 'b', alias: 'latest' },
      onFailure: { type: 'webhook', url: 'https://hooks.example/failed?team=7', secret: '****' },
      updatedAt: expect.any(String),
    });
    expect(await (await send('GET', '/v1/functions/a/destinations')).json()).toEqual(shown);

    const column = d.columns.get(functionId('a'));
    expect(JSON.stringify(column)).not.toContain('whsec-0123456789abcdef');
    const stored = readStored(column)!;
    const at = { functionId: functionId('a'), namespace: 'default', condition: 'onFailure' as const };
    expect(openDestination(d.sealer, at, stored.onFailure!)).toEqual({ type: 'webhook', url: 'https://hooks.example/failed?team=7', secret: 'whsec-0123456789abcdef' });
    // Sealed for that function and condition only.
    expect(openDestination(d.sealer, { ...at, condition: 'onSuccess' }, stored.onFailure!)).toBeNull();
    expect(openDestination(d.sealer, { ...at, functionId: functionId('b') }, stored.onFailure!)).toBeNull();
    expect(g.announced).toContainEqual({ type: 'function-changed', namespace: 'default', name: 'a' });
  });

  it.each([
    [{ type: 'redis-stream', url: 'redis://user:s3cret-pass@broker.example:6379/0', stream: 'outcomes' }, 'redis://user:****@broker.example:6379/0'],
    [{ type: 'amqp', url: 'amqps://guest:guest-pass@broker.example/vhost', queue: 'outcomes' }, 'amqps://guest:****@broker.example/vhost'],
    [{ type: 'nats', url: 'nats://token-user:nats-pass@broker.example:4222', subject: 'hearth.outcomes' }, 'nats://token-user:****@broker.example:4222'],
    [{ type: 'webhook', url: 'https://alice:basic-pass@hooks.example/h' }, 'https://alice:****@hooks.example/h'],
  ])('seals the password of %o and shows the URL with ****', async (destination, shownUrl) => {
    const res = await put({ onSuccess: destination });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as { onSuccess: { url: string }; onFailure: unknown };
    expect(body.onSuccess.url).toBe(shownUrl);
    expect(body.onFailure).toBeNull();
    const password = new URL(destination.url).password;
    expect(JSON.stringify(d.columns.get(functionId('a')))).not.toContain(password);
    const opened = openDestination(d.sealer, { functionId: functionId('a'), namespace: 'default', condition: 'onSuccess' }, readStored(d.columns.get(functionId('a')))!.onSuccess!);
    expect(opened).toEqual(destination);
  });

  it('replaces both on every PUT (a condition left out is none), and DELETE removes them', async () => {
    await put({ onSuccess: { type: 'function', name: 'b' }, onFailure: { type: 'function', name: 'a' } });
    expect(await (await put({ onFailure: { type: 'function', name: 'b' } })).json()).toMatchObject({ onSuccess: null, onFailure: { name: 'b' } });
    const removed = await send('DELETE', '/v1/functions/a/destinations');
    expect(removed.status).toBe(204);
    expect(await (await send('GET', '/v1/functions/a/destinations')).json()).toEqual({ onSuccess: null, onFailure: null, updatedAt: null });
    expect(d.columns.get(functionId('a'))).toBeNull();
  });

  it('allows a function to be its own destination (the chain limit stops the loop)', async () => {
    expect((await put({ onSuccess: { type: 'function', name: 'a' } })).status).toBe(200);
  });

  it('answers 404 FunctionNotFound for a function that does not exist, or lives in another namespace', async () => {
    await expectError(await send('GET', '/v1/functions/nope/destinations'), 404, 'FunctionNotFound');
    await expectError(await put({ onSuccess: null }, 'nope'), 404, 'FunctionNotFound');
    await expectError(await send('DELETE', '/v1/functions/nope/destinations'), 404, 'FunctionNotFound');
    await expectError(await put({ onSuccess: null }, 'a', TENANT_KEY), 404, 'FunctionNotFound');
    await expectError(await send('GET', '/v1/functions/a/destinations', undefined, {}, TENANT_KEY), 404, 'FunctionNotFound');
  });

  it('answers 404 DestinationNotFound for a function destination that names nothing in the namespace', async () => {
    const missing = await expectError(await put({ onSuccess: { type: 'function', name: 'ghost' } }), 404, 'DestinationNotFound');
    expect(missing.message).toBe('onSuccess names function "ghost", which does not exist in this namespace');
    await expectError(await put({ onFailure: { type: 'function', name: 'b', alias: 'nope' } }), 404, 'DestinationNotFound');
    await expectError(await put({ onFailure: { type: 'function', name: 'elsewhere' } }), 404, 'DestinationNotFound');
    expect(d.columns.size).toBe(0);
  });
});

describe('destinations refused at configuration', () => {
  it.each([
    ['not an object', '"webhook"'],
    ['an array', '[]'],
    ['an unknown top-level field', { onSuccess: null, onDone: null }],
    ['a destination that is a string', { onSuccess: 'https://hooks.example/' }],
    ['no type', { onSuccess: { url: 'https://hooks.example/' } }],
    ['an unknown type', { onSuccess: { type: 'sqs', url: 'https://hooks.example/' } }],
    ['a field of another type', { onSuccess: { type: 'webhook', url: 'https://hooks.example/', queue: 'q' } }],
    ['a webhook without url', { onSuccess: { type: 'webhook' } }],
    ['a webhook over ftp', { onSuccess: { type: 'webhook', url: 'ftp://hooks.example/' } }],
    ['a javascript: URL', { onSuccess: { type: 'webhook', url: 'javascript:alert(1)' } }],
    ['a URL with a newline', { onSuccess: { type: 'webhook', url: 'https://hooks.\nexample/' } }],
    ['a URL with a space', { onSuccess: { type: 'webhook', url: 'https://hooks.example/a b' } }],
    ['a URL with a fragment', { onSuccess: { type: 'webhook', url: 'https://hooks.example/#x' } }],
    ['a URL past 2048 characters', { onSuccess: { type: 'webhook', url: `https://hooks.example/${'a'.repeat(2048)}` } }],
    ['a short secret', { onSuccess: { type: 'webhook', url: 'https://hooks.example/', secret: 'short' } }],
    ['a secret with a newline', { onSuccess: { type: 'webhook', url: 'https://hooks.example/', secret: 'abcdefgh\nijklmnopq' } }],
    ['a redis stream at an http URL', { onSuccess: { type: 'redis-stream', url: 'http://broker.example/', stream: 's' } }],
    ['a redis stream without a stream', { onSuccess: { type: 'redis-stream', url: 'redis://broker.example' } }],
    ['an amqp queue of 300 characters', { onSuccess: { type: 'amqp', url: 'amqp://broker.example', queue: 'q'.repeat(300) } }],
    ['a nats wildcard subject', { onSuccess: { type: 'nats', url: 'nats://broker.example', subject: 'orders.>' } }],
    ['a nats subject with a space', { onSuccess: { type: 'nats', url: 'nats://broker.example', subject: 'a b' } }],
    ['a function name that is not a name', { onSuccess: { type: 'function', name: 'Not_A_Name' } }],
    ['an alias that is not an alias', { onSuccess: { type: 'function', name: 'b', alias: '1' } }],
    ['a NUL in a stream name', { onSuccess: { type: 'redis-stream', url: 'redis://broker.example', stream: 'a\u0000b' } }],
  ])('answers 400 for %s', async (_what, body) => {
    const error = await expectError(await put(body), 400);
    expect(error.code).toMatch(/^(InvalidParameter|InvalidName|InvalidJson)$/);
    expect(d.columns.size).toBe(0);
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://10.0.0.1/', 'private'],
    ['http://2130706433/', 'loopback'],
    ['http://0x7f.1:8080/', 'loopback'],
    ['http://[::ffff:169.254.169.254]/', 'link-local'],
    ['http://[::1]/', 'loopback'],
    ['http://rebind.example/', 'rebind.example resolves to 127.0.0.1'],
    ['http://metadata.example/', 'link-local'],
    ['https://nowhere.example/', 'does not resolve'],
  ])('answers 400 InvalidDestination for a webhook to %s', async (url, why) => {
    const error = await expectError(await put({ onFailure: { type: 'webhook', url } }), 400, 'InvalidDestination');
    expect(error.message).toContain(why);
    expect(error.message.startsWith('onFailure: ')).toBe(true);
  });

  it('refuses brokers at private addresses too, and the platform\'s own services even when allowed', async () => {
    await expectError(await put({ onSuccess: { type: 'amqp', url: 'amqp://guest:guest@127.0.0.1:5672', queue: 'q' } }), 400, 'InvalidDestination');
    await expectError(await put({ onSuccess: { type: 'nats', url: 'nats://192.168.1.5:4222', subject: 's' } }), 400, 'InvalidDestination');
    const own = await expectError(await put({ onSuccess: { type: 'redis-stream', url: 'redis://10.0.0.7:6379', stream: 's' } }), 400, 'InvalidDestination');
    expect(own.message).toContain("platform's own");
    // Allowed: the same host on another port.
    expect((await put({ onSuccess: { type: 'redis-stream', url: 'redis://10.0.0.7:6380', stream: 's' } })).status).toBe(200);
    expect((await put({ onSuccess: { type: 'webhook', url: 'http://10.0.0.7:8080/hook' } })).status).toBe(200);
  });
});

describe('X-Callback-Url', () => {
  const invokeAsync = (headers: Record<string, string>, query = '?async=true') => send('POST', `/v1/functions/a/invoke${query}`, '{}', headers);

  it('is checked and carried in the async job', async () => {
    const res = await invokeAsync({ 'X-Callback-Url': 'https://hooks.example/done?job=9' });
    expect(res.status, await res.clone().text()).toBe(202);
    expect(g.queue.enqueued.at(-1)).toMatchObject({ mode: 'async', callbackUrl: 'https://hooks.example/done?job=9' });
    const event = await invokeAsync({ 'X-Callback-Url': 'https://hooks.example/e', 'X-Invocation-Type': 'Event' }, '');
    expect(event.status).toBe(202);
    expect(g.queue.enqueued.at(-1)?.callbackUrl).toBe('https://hooks.example/e');
  });

  it.each([
    ['http://10.0.0.1/cb', 'private'],
    ['http://169.254.169.254/', 'link-local'],
    ['http://017700000001/', 'loopback'],
    ['http://rebind.example/', 'resolves to 127.0.0.1'],
    ['https://hooks.example/#frag', 'fragment'],
    ['http://[::1', 'not a URL'],
  ])('answers 400 InvalidCallbackUrl for %s, saying why, and queues nothing', async (url, why) => {
    const before = g.queue.enqueued.length;
    const error = await expectError(await invokeAsync({ 'X-Callback-Url': url }), 400, 'InvalidCallbackUrl');
    expect(error.message).toContain(why);
    expect(g.queue.enqueued.length).toBe(before);
  });

  it.each(['ftp://hooks.example/', 'not a url', 'https://hooks.example/a b', `https://hooks.example/${'a'.repeat(2048)}`])('answers 400 InvalidParameter for %s, which is no http(s) URL', async (url) => {
    await expectError(await invokeAsync({ 'X-Callback-Url': url }), 400, 'InvalidParameter');
  });

  it('is refused on a sync call', async () => {
    await expectError(await invokeAsync({ 'X-Callback-Url': 'https://hooks.example/' }, ''), 400, 'InvalidCallbackUrl');
  });

  it("signs with the namespace's secret, which the caller can read", async () => {
    const res = await send('GET', '/v1/destinations/callback-secret');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { secret: string };
    expect(body).toMatchObject({ namespace: 'default', secret: createCallbackSecrets(KEYS)('default'), header: 'X-Hearth-Signature' });
    const tenant = (await (await send('GET', '/v1/destinations/callback-secret', undefined, {}, TENANT_KEY)).json()) as { namespace: string; secret: string };
    expect(tenant.namespace).toBe('acme');
    expect(tenant.secret).not.toBe(body.secret);
  });
});

describe("an invocation's chain and deliveries", () => {
  it('shows trigger, causedBy, scheduledFor, the ancestors oldest first and its deliveries', async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const fid = functionId('a');
    const row = (id: string, causedBy: string | null, extra = {}) => invocationRow({ id, namespace: 'default', functionId: fid, functionName: 'a', mode: 'async', causedBy, ...extra });
    g.records.set(a, row(a, null, { trigger: 'nightly', mode: 'schedule', scheduledFor: new Date('2025-01-01T03:00:00.000Z') }));
    g.records.set(b, row(b, a, { status: 'failed' }));
    g.records.set(c, row(c, b));
    const at = new Date('2025-01-01T03:00:01.000Z');
    d.rows.push({
      id: randomUUID(), namespace: 'default', functionId: fid, invocationId: c, condition: 'onSuccess', type: 'webhook', target: 'webhook:https://hooks.example/x',
      status: 'failed', attempts: 5, lastStatus: 500, lastError: 'answered 500', childInvocationId: null, createdAt: at, updatedAt: at,
    });
    const first = await (await send('GET', `/v1/invocations/${a}`)).json();
    expect(first).toMatchObject({ trigger: 'nightly', causedBy: null, scheduledFor: '2025-01-01T03:00:00.000Z', chain: [], deliveries: [] });
    const last = (await (await send('GET', `/v1/invocations/${c}`)).json()) as { chain: unknown; deliveries: unknown };
    expect(last).toMatchObject({ causedBy: b, trigger: null, scheduledFor: null });
    expect(last.chain).toEqual([
      { id: a, function: 'a', status: 'succeeded' },
      { id: b, function: 'a', status: 'failed' },
    ]);
    expect(last.deliveries).toEqual([
      {
        condition: 'onSuccess', type: 'webhook', target: 'webhook:https://hooks.example/x', status: 'failed', attempts: 5, lastStatus: 500,
        lastError: 'answered 500', childInvocationId: null, createdAt: at.toISOString(), updatedAt: at.toISOString(),
      },
    ]);
    // Another namespace sees none of it.
    await expectError(await send('GET', `/v1/invocations/${c}`, undefined, {}, TENANT_KEY), 404, 'InvocationNotFound');
  });
});

describe("the Lambda door's DestinationConfig", () => {
  const signed = signedLambda(() => ({ ...g, app }));
  const path = '/2019-09-25/functions/a/event-invoke-config';
  const rest = async () => (await send('GET', '/v1/functions/a/destinations')).json();

  it('maps Lambda function ARNs to function destinations: Put replaces, Update changes what it names, Delete removes', async () => {
    const put = await expectJson(await signed('PUT', path, { MaximumRetryAttempts: 0, DestinationConfig: { OnSuccess: { Destination: `${ARN}b` }, OnFailure: { Destination: `arn:aws:lambda:eu-west-1:123456789012:function:b:latest` } } }));
    expect(put.DestinationConfig).toEqual({ OnSuccess: { Destination: `${ARN}b` }, OnFailure: { Destination: `${ARN}b:latest` } });
    expect(await rest()).toMatchObject({ onSuccess: { type: 'function', name: 'b' }, onFailure: { type: 'function', name: 'b', alias: 'latest' } });
    expect((await expectJson(await signed('GET', path))).DestinationConfig.OnSuccess).toEqual({ Destination: `${ARN}b` });

    const updated = await expectJson(await signed('POST', path, { DestinationConfig: { OnFailure: {} } }));
    expect(updated).toMatchObject({ MaximumRetryAttempts: 0, DestinationConfig: { OnSuccess: { Destination: `${ARN}b` }, OnFailure: {} } });
    expect(await rest()).toMatchObject({ onSuccess: { name: 'b' }, onFailure: null });

    // Put without DestinationConfig: none, as Lambda resets what a Put leaves out.
    expect((await expectJson(await signed('PUT', path, { MaximumRetryAttempts: 1 }))).DestinationConfig).toEqual({ OnSuccess: {}, OnFailure: {} });
    expect(await rest()).toMatchObject({ onSuccess: null, onFailure: null });

    await expectJson(await signed('PUT', path, { DestinationConfig: { OnSuccess: { Destination: `${ARN}a` } } }));
    expect((await signed('DELETE', path)).status).toBe(204);
    expect(await rest()).toMatchObject({ onSuccess: null, onFailure: null });
  });

  it('reads a webhook set through /v1 back as {}', async () => {
    await put({ onSuccess: { type: 'webhook', url: 'https://hooks.example/x' } });
    await expectJson(await signed('POST', path, {}), 404);
    await expectJson(await signed('PUT', path, { MaximumRetryAttempts: 2, DestinationConfig: { OnFailure: { Destination: `${ARN}b` } } }));
    // The Put replaced both: the webhook is gone, as a Lambda Put would.
    expect(await rest()).toMatchObject({ onSuccess: null, onFailure: { name: 'b' } });
    await put({ onSuccess: { type: 'webhook', url: 'https://hooks.example/x' } });
    expect((await expectJson(await signed('GET', path))).DestinationConfig).toEqual({ OnSuccess: {}, OnFailure: {} });
  });

  it.each([
    ['an SQS queue', 'arn:aws:sqs:us-east-1:123456789012:q'],
    ['an SNS topic', 'arn:aws:sns:us-east-1:123456789012:t'],
    ['a version number', `${ARN}b:3`],
    ['a name that is not a Hearth name', `${ARN}Not_Hearth`],
    ['not an ARN', 'b'],
  ])('refuses %s as a destination 400, writing nothing', async (_what, arn) => {
    await expectLambdaError(await signed('PUT', path, { MaximumRetryAttempts: 1, DestinationConfig: { OnSuccess: { Destination: arn } } }), 400, 'InvalidParameterValueException');
    await expectLambdaError(await signed('GET', path), 404, 'ResourceNotFoundException');
    expect(d.columns.size).toBe(0);
  });

  it('answers 404 for a destination function that does not exist, writing nothing', async () => {
    const message = await expectLambdaError(await signed('PUT', path, { DestinationConfig: { OnSuccess: { Destination: `${ARN}ghost` } } }), 404, 'ResourceNotFoundException');
    expect(message).toContain('ghost');
    await expectLambdaError(await signed('GET', path), 404, 'ResourceNotFoundException');
    await expectLambdaError(await signed('PUT', '/2019-09-25/functions/nope/event-invoke-config', { DestinationConfig: { OnSuccess: { Destination: `${ARN}b` } } }), 404, 'ResourceNotFoundException');
  });
});
