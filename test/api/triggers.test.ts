/**
 * Triggers through the REST API, in memory: schedules checked before they
 * are stored (syntax, zone, pile-up against the timeout), sources checked
 * against the outbound rules and their broker, secrets never shown, pause and
 * resume, delete. No services (the brokers are a fake adapter).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { PLATFORM_KEY, bearer, createFakeGateway, expectError, type FakeGateway } from './fake-deps.ts';

let g: FakeGateway;
beforeEach(async () => {
  g = await createFakeGateway();
  g.functions.seed('default', 'echo', { timeoutMs: 3000 });
  g.functions.seed('default', 'slow', { timeoutMs: 900_000 });
});

const send = (method: string, path: string, body?: unknown, key = PLATFORM_KEY) =>
  g.app.request(path, {
    method,
    headers: bearer(key, { 'Content-Type': 'application/json' }),
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (response: Response): Promise<any> => response.json();
const put = (name: string, body: unknown, fn = 'echo') => send('PUT', `/v1/functions/${fn}/triggers/${name}`, body);

describe('schedule triggers', () => {
  it('creates (201) with its next tick, replaces (200), lists, pauses, resumes and deletes', async () => {
    const created = await put('nightly', { type: 'schedule', schedule: 'cron(0 3 * * ? *)', timezone: 'Europe/Paris' });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/v1/functions/echo/triggers/nightly');
    const view = await json(created);
    expect(view).toMatchObject({ name: 'nightly', type: 'schedule', enabled: true, target: { alias: 'latest' }, schedule: 'cron(0 3 * * ? *)', timezone: 'Europe/Paris' });
    expect(view.status.nextRunAt).toBeGreaterThan(Date.now());

    expect((await put('nightly', { type: 'schedule', schedule: 'rate(5 minutes)', target: { version: 1 } })).status).toBe(200);
    const listed = await json(await send('GET', '/v1/functions/echo/triggers'));
    expect(listed.triggers).toHaveLength(1);
    expect(listed.triggers[0]).toMatchObject({ schedule: 'rate(5 minutes)', target: { version: 1 } });

    const paused = await json(await send('PATCH', '/v1/functions/echo/triggers/nightly', { enabled: false }));
    expect(paused).toMatchObject({ enabled: false, status: { state: 'idle', nextRunAt: null } });
    expect((await json(await send('PATCH', '/v1/functions/echo/triggers/nightly', { enabled: true }))).enabled).toBe(true);

    expect((await send('DELETE', '/v1/functions/echo/triggers/nightly')).status).toBe(204);
    await expectError(await send('GET', '/v1/functions/echo/triggers/nightly'), 404, 'TriggerNotFound');
  });

  it.each([
    [{ type: 'schedule', schedule: 'cron(0 3 * * *)' }, /6 fields|EventBridge/],
    [{ type: 'schedule', schedule: 'every day' }, /schedule/],
    [{ type: 'schedule', schedule: 'rate(0 minutes)' }, /rate/],
    [{ type: 'schedule', schedule: 'rate(5 minutes)', timezone: 'Mars/Olympus' }, /zone|timezone/i],
  ])('refuses a schedule that cannot run: %j', async (body, why) => {
    const error = await expectError(await put('bad', body), 400, 'InvalidTrigger');
    expect(error.message).toMatch(why);
  });

  it('refuses a tick every second on a function with a 900 s timeout (ticks would pile up), but takes it on a 3 s one', async () => {
    const error = await expectError(await put('often', { type: 'schedule', schedule: 'rate(1 second)' }, 'slow'), 400, 'InvalidTrigger');
    expect(error.message).toMatch(/900/);
    expect((await put('often', { type: 'schedule', schedule: 'rate(1 second)' })).status).toBe(201);
  });
});

describe('source triggers', () => {
  const stream = { type: 'redis-stream', url: 'redis://hearth:s3cret-pw@broker.example:6379/0', stream: 'orders', batchSize: 50 };

  it('keeps the broker password sealed: never shown, kept when the shown URL is sent back', async () => {
    const created = await put('orders', stream);
    expect(created.status).toBe(201);
    const text = await created.text();
    expect(text).not.toContain('s3cret-pw');
    const view = JSON.parse(text);
    expect(view).toMatchObject({ type: 'redis-stream', url: 'redis://hearth:****@broker.example:6379/0', stream: 'orders', group: 'hearth', start: 'latest', batchSize: 50, batchWindowMs: 0, maxConcurrency: 1, maxRetries: 2 });
    expect(await (await send('GET', '/v1/functions/echo/triggers')).text()).not.toContain('s3cret-pw');

    // A client that read the trigger and sends it back (a changed batch size) does not lose the password.
    const { status: _s, name: _n, createdAt: _c, updatedAt: _u, ...back } = view;
    expect((await put('orders', { ...back, batchSize: 10 })).status).toBe(200);
    const record = (await g.deps.triggers.get('default', 'echo', 'orders')) as unknown as { url: string };
    expect(record.url).toBe('redis://hearth:****@broker.example:6379/0');
  });

  it.each([
    [{ ...stream, url: 'redis://unreachable:6379' }, /ECONNREFUSED/],
    [{ ...stream, stream: 'missing' }, /does not exist/],
    [{ ...stream, url: 'redis://169.254.169.254:6379' }, /link-local/],
  ])('refuses a source the platform cannot or may not read: %j', async (body, why) => {
    const error = await expectError(await put('bad', body), 400, 'InvalidTrigger');
    expect(error.message).toMatch(why);
    expect(error.message).not.toContain('s3cret-pw');
  });

  it.each([
    [{ ...stream, batchSize: 0 }, /batchSize/],
    [{ ...stream, batchSize: 1001 }, /batchSize/],
    [{ ...stream, url: 'http://broker.example' }, /url/],
    [{ ...stream, stream: 'has space' }, /stream/],
    [{ ...stream, extra: 1 }, /./],
    [{ type: 'kafka', url: 'kafka://x' }, /type/],
    [{ type: 'amqp', url: 'amqp://broker.example', queue: 'q', prefetch: 0 }, /prefetch/],
    [{ ...stream, target: { alias: 'Not Valid' } }, /target/],
    ['not json', /./],
  ])('answers 400 for settings that are not valid: %j', async (body, why) => {
    const error = await expectError(await put('bad', body), 400);
    expect(error.message).toMatch(why);
  });
});

describe('trigger addressing', () => {
  it('404s for a function or trigger that does not exist, 400 for a trigger name that cannot be', async () => {
    await expectError(await put('t', { type: 'schedule', schedule: 'rate(5 minutes)' }, 'nope'), 404, 'FunctionNotFound');
    await expectError(await send('GET', '/v1/functions/nope/triggers'), 404, 'FunctionNotFound');
    await expectError(await send('GET', '/v1/functions/echo/triggers/none'), 404, 'TriggerNotFound');
    await expectError(await send('DELETE', '/v1/functions/echo/triggers/none'), 404, 'TriggerNotFound');
    await expectError(await send('PATCH', '/v1/functions/echo/triggers/none', { enabled: false }), 404, 'TriggerNotFound');
    await expectError(await put('Bad_Name', { type: 'schedule', schedule: 'rate(5 minutes)' }), 400, 'InvalidName');
    await expectError(await send('GET', '/v1/functions/echo/triggers/Bad%00'), 404, 'TriggerNotFound');
  });

  it('caps a function at 20 triggers', async () => {
    for (let i = 0; i < 20; i++) expect((await put(`t${i}`, { type: 'schedule', schedule: 'rate(5 minutes)' })).status).toBe(201);
    await expectError(await put('t20', { type: 'schedule', schedule: 'rate(5 minutes)' }), 409, 'QuotaExceeded');
  });
});
