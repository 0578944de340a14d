/**
 * Queue and stream triggers on the real platform and real brokers (a Redis
 * server of the test's own, RabbitMQ, NATS JetStream): messages arrive in
 * batches as `event` invocations carrying the trigger's name; a message is
 * acknowledged only once an invocation that held it succeeded; messages the
 * function reports in `batchItemFailures` are retried alone and then
 * dead-lettered; none is lost and none recorded twice. A Redis broker that
 * goes away shows `state: "error"` and is read again once it is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, uniqueName } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { amqpKit, natsKit, redisStreamKit, type BrokerKit } from '../helpers/broker-kits.ts';
import { waitFor } from '../helpers/wait.ts';

/** Reports every body it saw, and those starting with "bad" as failed. */
const CONSUMER = `
exports.handler = async (event) => {
  const records = event.Records || [];
  return {
    seen: records.map((r) => r.body),
    batchItemFailures: records.filter((r) => String(r.body).startsWith('bad')).map((r) => ({ itemIdentifier: r.messageId })),
  };
};
`;

describe.each([
  ['redis-stream', redisStreamKit],
  ['amqp', amqpKit],
  ['nats', natsKit],
] as const)('a %s trigger', (type, makeKit) => {
  let platform: Platform;
  let kit: BrokerKit;
  const name = uniqueName(`on-${type}`);
  const trigger = 'orders';

  beforeAll(async () => {
    kit = await makeKit();
    platform = await startPlatform({ outboundAllowHosts: ['127.0.0.1'] });
    const res = await deploy(platform, name, { bytes: Buffer.from(CONSUMER), filename: 'index.js' }, { runtime: 'nodejs20' });
    expect(res.status, await res.clone().text()).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await platform?.api(`/v1/functions/${name}`, { method: 'DELETE' });
    await platform?.stop();
    await kit?.close();
  });

  const status = async () => (await (await platform.api(`/v1/functions/${name}/triggers/${trigger}`)).json()).status;
  /** Bodies seen by succeeded invocations of this trigger (each body once per invocation that saw it). */
  const seenBodies = async () => {
    const { rows } = await platform.database.pool.query(
      `select result, mode, trigger from invocations where function_name = $1 and status = 'succeeded'`,
      [name],
    );
    for (const row of rows) expect(row).toMatchObject({ mode: 'event', trigger });
    return rows.flatMap((row) => (JSON.parse(row.result).seen as string[]).filter((b) => !b.startsWith('bad')));
  };

  it('runs every message once in batches, acknowledges after success, retries and dead-letters only the failed ones', async () => {
    const put = await platform.api(`/v1/functions/${name}/triggers/${trigger}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type, ...kit.settings, batchSize: 10, batchWindowMs: 100, maxRetries: 1 }),
    });
    expect(put.status, await put.clone().text()).toBe(201);
    await waitFor('the trigger to run', async () => (await status()).state === 'running', 30_000);

    const bodies = Array.from({ length: 60 }, (_, i) => (i % 20 === 7 ? `bad-${i}` : `good-${i}`));
    for (const body of bodies) await kit.publish(body);
    const good = bodies.filter((b) => b.startsWith('good'));
    const bad = bodies.filter((b) => b.startsWith('bad'));

    await waitFor('every good message to be run', async () => new Set(await seenBodies()).size === good.length, 60_000, 250);
    await waitFor('the bad ones to be dead-lettered', async () => (await kit.deadLetters()).length === bad.length, 60_000, 250);
    const seen = await seenBodies();
    expect(new Set(seen)).toEqual(new Set(good));
    // Lost none; a message whose batch succeeded is not run again (its duplicates would show here).
    expect(seen.length).toBe(good.length);
    expect((await kit.deadLetters()).sort()).toEqual([...bad].sort());
    await waitFor('everything to be acknowledged', async () => (await kit.unacknowledged()) === 0, 30_000, 250);
    const shown = await status();
    expect(shown).toMatchObject({ state: 'running', messages: expect.any(Number), lastError: null });
    expect(shown.messages).toBeGreaterThanOrEqual(bodies.length);
    expect(shown.batches).toBeLessThan(bodies.length); // batched, not one call per message
    // Batches ran as async invocations of the trigger (the record names it).
    const invocationId = shown.lastInvocationId as string;
    const record = await (await platform.api(`/v1/invocations/${invocationId}`)).json();
    expect(record).toMatchObject({ mode: 'event' });
  }, 180_000);

  it.runIf(type === 'redis-stream')('shows a broker that went away as an error, and reads again once it is back', async () => {
    await kit.server!.stop();
    await waitFor('the trigger to show the error', async () => (await status()).state === 'error', 30_000, 200);
    const why = (await status()).lastError.message as string;
    expect(why, why).toMatch(/ECONNREFUSED|connect|closed|Connection|unreachable|failed/i);
    expect(why).toContain(String(kit.server!.port));
    await kit.server!.start();
    await waitFor('the trigger to run again', async () => (await status()).state === 'running', 60_000, 200);
    const before = (await seenBodies()).length;
    await kit.publish('good-after-restart');
    await waitFor('the message after the restart to run', async () => (await seenBodies()).includes('good-after-restart'), 60_000, 250);
    expect((await seenBodies()).length).toBe(before + 1);
  }, 180_000);

  it('stops reading when paused, and resumes', async () => {
    const patch = (enabled: boolean) =>
      platform.api(`/v1/functions/${name}/triggers/${trigger}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enabled }) });
    expect((await patch(false)).status).toBe(200);
    await waitFor('the trigger to be idle', async () => (await status()).state === 'idle', 30_000, 200);
    const before = (await seenBodies()).length;
    await kit.publish('good-while-paused');
    // Paused: the message waits on the broker (seen by its lag, never run).
    await waitFor('the message to wait', async () => (await kit.unacknowledged()) >= 1, 10_000, 100);
    expect((await seenBodies()).length).toBe(before);
    expect((await patch(true)).status).toBe(200);
    await waitFor('the paused message to run once resumed', async () => (await seenBodies()).includes('good-while-paused'), 60_000, 250);
  }, 120_000);
});
