/**
 * Broker destinations against real brokers (Redis at 127.0.0.1:6379,
 * RabbitMQ at 5672, NATS JetStream at 4222): one try of a delivery
 * (`gateway/destinations/destination-sender.ts`) publishes the destination
 * record with its headers, through the trigger sources' publishers, to the
 * address the guard checked; refused without the allow-list, refused for
 * the platform's own services even with it, and a missing queue or a
 * broker that does not answer is a try worth repeating. Each test makes its
 * own stream, queue or JetStream stream and deletes it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { connect as amqpConnect, type ChannelModel } from 'amqplib';
import { Redis } from 'ioredis';
import { connect as natsConnect, type NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BROKER_PUBLISHERS } from '../../gateway/destinations/broker-destination.ts';
import type { Destination } from '../../gateway/destinations/destination-config.ts';
import { tryDelivery, type SenderDeps } from '../../gateway/destinations/destination-sender.ts';
import { checkOutbound, type OutboundPolicy } from '../../gateway/destinations/outbound-guard.ts';
import type { DeliveryJob } from '../../worker/contract/delivery-job.ts';
import { destinationRecord } from '../../worker/run/destination-hand-off.ts';
import { jobOf } from '../helpers/invocation-jobs.ts';

const ALLOW_LOCAL: OutboundPolicy = { allowHosts: ['127.0.0.1'], refuse: [] };

function deps(policy: OutboundPolicy): SenderDeps {
  return {
    dispatcher: { dispatchAsync: () => Promise.reject(new Error('no function destinations here')) },
    checkOutbound: (url) => checkOutbound(url, policy),
    publishers: BROKER_PUBLISHERS,
    timeoutMs: 5000,
  };
}

function deliveryJob(): DeliveryJob {
  const job = jobOf({ event: '{"order":1}' });
  const now = Date.now();
  const record = destinationRecord(job, {
    invocationId: job.invocationId, functionName: job.functionName, version: 1, status: 'succeeded', result: '{"done":true}', error: null,
    coldStart: false, startKind: 'warm', queuedAt: now, startedAt: now, finishedAt: now, queueWaitMs: 0, acquireMs: 0, initMs: 0,
    durationMs: 1, billedMs: 1, memoryMb: 128, logs: '', logsTruncated: false, concurrency: 1,
  });
  return { namespace: 'default', functionId: job.functionId, functionName: 'f', invocationId: job.invocationId, condition: 'onSuccess', depth: 0, record };
}

const send = (policy: OutboundPolicy, destination: Destination, job = deliveryJob()) => tryDelivery(deps(policy), job, randomUUID(), destination, 'unused-secret');

describe('broker destinations', () => {
  let redis: Redis;
  let amqp: ChannelModel;
  let nats: NatsConnection;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
    await redis.connect();
    amqp = await amqpConnect('amqp://guest:guest@127.0.0.1:5672');
    amqp.on('error', () => {});
    nats = await natsConnect({ servers: '127.0.0.1:4222' });
  });
  afterEach(async () => {
    for (const clean of cleanups.splice(0).reverse()) await clean().catch(() => {});
  });
  afterAll(async () => {
    redis?.disconnect();
    await amqp?.close();
    await nats?.drain();
  });

  it('adds the record to a Redis stream, with its headers', async () => {
    const stream = `hearth-test-dst-${randomBytes(4).toString('hex')}`;
    cleanups.push(() => redis.del(stream));
    const job = deliveryJob();
    expect(await send(ALLOW_LOCAL, { type: 'redis-stream', url: 'redis://127.0.0.1:6379', stream }, job)).toEqual({ kind: 'delivered' });
    const entries = (await redis.xrange(stream, '-', '+')) as Array<[string, string[]]>;
    expect(entries).toHaveLength(1);
    const fields = Object.fromEntries(entries[0]![1].reduce<Array<[string, string]>>((pairs, v, i, all) => (i % 2 ? pairs : [...pairs, [v, all[i + 1]!]]), []));
    expect(JSON.parse(fields.body!)).toEqual(job.record);
    expect(fields).toMatchObject({ 'h-hearth-invocation-id': job.invocationId, 'h-hearth-condition': 'onSuccess', 'h-content-type': 'application/json' });
  });

  it('sends the record to an AMQP queue, persistent, with its headers; a missing queue is worth another try', async () => {
    const channel = await amqp.createChannel();
    const queue = `hearth-test-dst-${randomBytes(4).toString('hex')}`;
    await channel.assertQueue(queue, { durable: false });
    cleanups.push(async () => {
      await channel.deleteQueue(queue);
      await channel.close();
    });
    const job = deliveryJob();
    expect(await send(ALLOW_LOCAL, { type: 'amqp', url: 'amqp://guest:guest@127.0.0.1:5672', queue }, job)).toEqual({ kind: 'delivered' });
    const message = await channel.get(queue, { noAck: true });
    expect(message).not.toBe(false);
    if (message === false) return;
    expect(JSON.parse(message.content.toString())).toEqual(job.record);
    expect(message.properties.headers).toMatchObject({ 'hearth-invocation-id': job.invocationId, 'hearth-condition': 'onSuccess' });
    expect(message.properties.deliveryMode).toBe(2);

    const missing = await send(ALLOW_LOCAL, { type: 'amqp', url: 'amqp://guest:guest@127.0.0.1:5672', queue: `${queue}-missing` });
    expect(missing.kind).toBe('retry');
  });

  it('publishes the record to a NATS JetStream subject, acknowledged by the stream', async () => {
    const jsm = await nats.jetstreamManager();
    const name = `hearthdst${randomBytes(4).toString('hex')}`;
    await jsm.streams.add({ name, subjects: [`${name}.>`] });
    cleanups.push(() => jsm.streams.delete(name));
    const job = deliveryJob();
    expect(await send(ALLOW_LOCAL, { type: 'nats', url: 'nats://127.0.0.1:4222', subject: `${name}.outcomes` }, job)).toEqual({ kind: 'delivered' });
    const stored = await jsm.streams.getMessage(name, { seq: 1 });
    expect(JSON.parse(new TextDecoder().decode(stored.data))).toEqual(job.record);
    expect(stored.header.get('hearth-invocation-id')).toBe(job.invocationId);
  });

  it('refuses a broker at a loopback address unless allowed, and the platform\'s own even when allowed', async () => {
    const stream = `hearth-test-dst-${randomBytes(4).toString('hex')}`;
    cleanups.push(() => redis.del(stream));
    const destination: Destination = { type: 'redis-stream', url: 'redis://127.0.0.1:6379', stream };
    const strict = await send({ allowHosts: [], refuse: [] }, destination);
    expect(strict).toEqual({ kind: 'failed', error: 'refused: 127.0.0.1 is loopback (127.0.0.0/8)' });
    const own = await send({ allowHosts: ['127.0.0.1'], refuse: [{ host: '127.0.0.1', port: 6379 }] }, { ...destination, url: 'redis://2130706433:6379' });
    expect(own.kind).toBe('failed');
    expect(own.kind === 'failed' && own.error).toContain("platform's own");
    expect(await redis.exists(stream)).toBe(0);
  });

  it('gives a broker that does not answer a try worth repeating, within the deadline', async () => {
    const t0 = Date.now();
    const result = await send(ALLOW_LOCAL, { type: 'nats', url: 'nats://127.0.0.1:1', subject: 'nowhere' });
    expect(result.kind).toBe('retry');
    expect(Date.now() - t0).toBeLessThan(8000);
  });
});
