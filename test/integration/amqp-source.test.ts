/**
 * The RabbitMQ trigger source against a real broker: batches and windows,
 * acknowledgement by delivery tag (out of order, identical messages),
 * redelivery after a close or a dead connection, dead letters, lag, the
 * set-up check's sentences, and hostile messages. Every test uses its own
 * queues (random suffix), deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SourceError, type EventSource, type SourceMessage } from '../../gateway/triggers/event-source.ts';
import { amqpEvent, checkAmqpSettings, openAmqpPublisher, openAmqpSource } from '../../gateway/triggers/sources/amqp-source.ts';
import type { AmqpSettings } from '../../gateway/triggers/trigger-settings.ts';
import { waitFor } from '../helpers/wait.ts';

const URL_ = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

describe('amqp source', () => {
  let admin: ChannelModel;
  let channel: Channel;
  const queues: string[] = [];
  const sources: EventSource[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    admin = await connect(URL_);
    admin.on('error', () => {});
    channel = await admin.createConfirmChannel();
  });
  afterEach(async () => {
    for (const source of sources.splice(0)) await source.close().catch(() => {});
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => {});
    for (const queue of queues.splice(0)) await channel.deleteQueue(queue);
  });
  afterAll(async () => {
    await admin?.close();
  });

  const newQueue = async (label = 'q') => {
    const queue = `hearth-test-${label}-${randomBytes(4).toString('hex')}`;
    await channel.assertQueue(queue, { durable: false });
    queues.push(queue);
    return queue;
  };
  const settings = (queue: string, extra: Partial<AmqpSettings> = {}): AmqpSettings => ({
    type: 'amqp', url: URL_, queue, batchSize: 10, batchWindowMs: 0, maxConcurrency: 1, ordered: false, maxRetries: 2, ...extra,
  });
  const open = async (queue: string, extra: Partial<AmqpSettings> = {}) => {
    const source = await openAmqpSource(settings(queue, extra), {});
    sources.push(source);
    return source;
  };
  const publish = async (queue: string, bodies: Array<string | Buffer>, options: Parameters<Channel['sendToQueue']>[2] = {}) => {
    for (const body of bodies) channel.sendToQueue(queue, Buffer.isBuffer(body) ? body : Buffer.from(body), options);
    await (channel as unknown as { waitForConfirms(): Promise<void> }).waitForConfirms();
  };
  const ready = async (queue: string) => (await channel.checkQueue(queue)).messageCount;
  const texts = (messages: SourceMessage[]) => messages.map((m) => m.body.toString());
  /** Pulls until `count` messages came or 10 s passed. */
  const drain = async (source: EventSource, count: number) => {
    const got: SourceMessage[] = [];
    const until = Date.now() + 10_000;
    while (got.length < count && Date.now() < until) got.push(...(await source.pull(count - got.length, 0)));
    return got;
  };

  it('resolves as soon as a batch is full, and after the window with what came', async () => {
    const queue = await newQueue();
    const source = await open(queue, { prefetch: 100 });
    await publish(queue, Array.from({ length: 25 }, (_, i) => `m${i}`));
    let started = Date.now();
    const first = await source.pull(10, 20_000);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(texts(first)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    const rest = await drain(source, 15);
    expect(texts(rest)).toEqual(Array.from({ length: 15 }, (_, i) => `m${i + 10}`));
    await source.ack([...first, ...rest]);

    started = Date.now();
    const windowed = source.pull(10, 800);
    await publish(queue, ['w1', 'w2', 'w3']);
    expect(texts(await windowed)).toEqual(['w1', 'w2', 'w3']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);

    started = Date.now();
    expect(await source.pull(10, 0)).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('maps the delivery: messageId as id, routing key, headers and properties as strings, publish time', async () => {
    const queue = await newQueue();
    const source = await open(queue);
    await publish(queue, ['{"a":1}'], {
      messageId: 'order-7', contentType: 'application/json', timestamp: 1_700_000_000, priority: 3,
      headers: { tenant: 'acme', n: 42, yes: true, nested: { x: [1, 'two'] } },
    });
    const [message] = await drain(source, 1);
    expect(message).toMatchObject({ id: 'order-7', key: queue, deliveries: 1, publishedAt: 1_700_000_000_000 });
    expect(message!.attributes).toMatchObject({
      exchange: '', routingKey: queue, redelivered: 'false', contentType: 'application/json', priority: '3',
      messageId: 'order-7', tenant: 'acme', n: '42', yes: 'true', nested: '{"x":[1,"two"]}',
    });
    const event = amqpEvent([message!], { queue });
    expect(event.rmqMessagesByQueue[`${queue}::/`]![0]).toMatchObject({
      basicProperties: { contentType: 'application/json', messageId: 'order-7', priority: 3, headers: { tenant: 'acme' } },
      redelivered: false, data: Buffer.from('{"a":1}').toString('base64'),
    });
  });

  it('acks by delivery tag, out of order, and hands back what was not acked when closed', async () => {
    const queue = await newQueue();
    const source = await open(queue, { batchSize: 100, maxConcurrency: 4 });
    await publish(queue, Array.from({ length: 400 }, (_, i) => `m${i}`));
    const batches = [await drain(source, 100), await drain(source, 100), await drain(source, 100), await drain(source, 100)];
    expect(batches.flat()).toHaveLength(400);
    // The later batch first: an `allUpTo` ack would take the earlier ones with it.
    await source.ack(batches[2]!);
    await source.ack(batches[0]!);
    await source.close();
    await waitFor('the unacked batches back in the queue', async () => (await ready(queue)) === 200, 10_000);
    const again = await open(queue, { batchSize: 100, maxConcurrency: 4 });
    const back = await drain(again, 200);
    expect(texts(back).sort()).toEqual([...texts(batches[1]!), ...texts(batches[3]!)].sort());
    expect(back.every((m) => m.deliveries === 2 && m.attributes.redelivered === 'true')).toBe(true);
    await again.ack(back);
    await again.close();
    expect(await ready(queue)).toBe(0);
  });

  it('gives identical messages without a messageId the same digest id, and acks each delivery once', async () => {
    const queue = await newQueue();
    const source = await open(queue);
    await publish(queue, ['same', 'same', 'same'], { headers: { k: 'v' } });
    const got = await drain(source, 3);
    expect(new Set(got.map((m) => m.id)).size).toBe(1);
    expect(got[0]!.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    await source.ack([got[1]!]);
    await source.ack([{ ...got[2]! }]); // a copy releases another delivery with that id, not the same one twice
    await source.ack([got[1]!]); // already acked: nothing (a second ack of a tag would close the channel)
    await source.close();
    await waitFor('one delivery back', async () => (await ready(queue)) === 1, 10_000);
    const again = await open(queue);
    const [back] = await drain(again, 1);
    expect(back).toMatchObject({ id: got[0]!.id, deliveries: 2 });
  });

  it('dead-letters to the named queue with the original headers and the reason, persistent and confirmed', async () => {
    const queue = await newQueue();
    const dlq = await newQueue('dlq');
    const source = await open(queue, { deadLetter: dlq });
    await publish(queue, ['bad'], { messageId: 'm-1', contentType: 'text/plain', headers: { tenant: 'acme' } });
    const got = await drain(source, 1);
    expect(await source.deadLetter(got, 'failed after 3 attempts')).toBe(true);
    await source.ack(got);
    const dead = await channel.get(dlq, { noAck: true });
    expect(dead).not.toBe(false);
    if (dead === false) return;
    expect(dead.content.toString()).toBe('bad');
    expect(dead.properties).toMatchObject({ messageId: 'm-1', contentType: 'text/plain', deliveryMode: 2 });
    expect(dead.properties.headers).toMatchObject({ tenant: 'acme', 'x-hearth-reason': 'failed after 3 attempts' });
    await source.close();
    expect(await ready(queue)).toBe(0);

    const none = await open(queue);
    expect(await none.deadLetter(got, 'x')).toBe(false);
    await none.close();
    const missing = await open(queue, { deadLetter: `hearth-test-missing-${randomBytes(4).toString('hex')}` });
    await expect(missing.deadLetter(got, 'x')).rejects.toThrow(/does not exist/);
    await publish(queue, ['still works']);
    const after = await drain(missing, 1);
    await missing.ack(after);
    expect(texts(after)).toEqual(['still works']);
  });

  it('reports as lag the messages ready, not those it holds', async () => {
    const queue = await newQueue();
    await publish(queue, Array.from({ length: 7 }, (_, i) => `m${i}`));
    const source = await open(queue, { prefetch: 2 });
    await waitFor('lag of 5', async () => (await source.lag()) === 5, 10_000);
  });

  it('publishes confirmed to a queue, and refuses a queue that does not exist', async () => {
    const queue = await newQueue();
    const publisher = await openAmqpPublisher(URL_, queue);
    cleanups.push(() => publisher.close());
    await publisher.publish(Buffer.from('out'), { 'x-from': 'fn' });
    const got = await channel.get(queue, { noAck: true });
    expect(got && got.content.toString()).toBe('out');
    expect(got && got.properties).toMatchObject({ deliveryMode: 2, headers: { 'x-from': 'fn' } });
    const nowhere = await openAmqpPublisher(URL_, `hearth-test-missing-${randomBytes(4).toString('hex')}`);
    cleanups.push(() => nowhere.close());
    await expect(nowhere.publish(Buffer.from('x'), {})).rejects.toThrow(/does not exist on 127\.0\.0\.1:5672/);
  });

  it('says clearly what is wrong: unknown queue, nothing listening, bad password (without the password)', async () => {
    const queue = await newQueue();
    await expect(checkAmqpSettings(settings(queue))).resolves.toBeUndefined();
    await expect(checkAmqpSettings(settings('hearth-test-no-such-queue'))).rejects.toThrow(
      new SourceError('amqp: queue "hearth-test-no-such-queue" does not exist on 127.0.0.1:5672'),
    );
    await expect(checkAmqpSettings(settings(queue, { deadLetter: 'hearth-test-no-such-dlq' }))).rejects.toThrow(
      'amqp: dead-letter queue "hearth-test-no-such-dlq" does not exist on 127.0.0.1:5672',
    );
    await expect(openAmqpSource(settings('hearth-test-no-such-queue'), {})).rejects.toThrow(/queue "hearth-test-no-such-queue" does not exist/);
    await expect(checkAmqpSettings(settings(queue, { url: 'amqp://guest:guest@127.0.0.1:1' }))).rejects.toThrow(
      /^amqp: cannot connect to 127\.0\.0\.1:1 \(.*ECONNREFUSED/,
    );
    const password = `wrong-${randomBytes(6).toString('hex')}`;
    const error = await openAmqpSource(settings(queue, { url: `amqp://guest:${password}@127.0.0.1:5672` }), {}).catch((e: Error) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(/^amqp: cannot connect to 127\.0\.0\.1:5672 \(.*ACCESS.REFUSED/);
    expect((error as Error).message).not.toContain(password);
    expect((error as Error).stack).not.toContain(password);
  });

  it('gives up within about 3 s on a port that accepts connections but never speaks AMQP', async () => {
    const accepted: Socket[] = [];
    const silent = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => {
      for (const socket of accepted) socket.destroy();
      silent.close(resolve);
    }));
    const port = (silent.address() as { port: number }).port;
    const started = Date.now();
    await expect(checkAmqpSettings(settings('q', { url: `amqp://guest:guest@127.0.0.1:${port}` }))).rejects.toThrow(
      new RegExp(`^amqp: cannot connect to 127\\.0\\.0\\.1:${port} \\(.*(ETIMEDOUT|no answer)`),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(2500);
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('rejects the waiting pull and every later call when the connection dies, and the broker hands the messages back', async () => {
    const queue = await newQueue();
    const relay = await tcpRelay();
    cleanups.push(() => relay.close());
    const warnings: string[] = [];
    const source = await openAmqpSource(settings(queue, { url: `amqp://guest:guest@127.0.0.1:${relay.port}` }), {
      log: { warn: (msg) => warnings.push(msg) },
    });
    sources.push(source);
    await publish(queue, ['a', 'b']);
    const held = await drain(source, 2);
    const waiting = source.pull(10, 0);
    relay.cut();
    await expect(waiting).rejects.toThrow(SourceError);
    await expect(source.pull(10, 0)).rejects.toThrow(/amqp: the connection (failed|closed) on 127\.0\.0\.1:\d+/);
    await expect(source.ack(held)).rejects.toThrow(SourceError);
    await expect(source.lag()).rejects.toThrow(SourceError);
    await expect(source.close()).resolves.toBeUndefined();
    expect(warnings).toEqual(['amqp source lost its broker']);
    await waitFor('the held messages back', async () => (await ready(queue)) === 2, 10_000);
  });

  it('rejects pull when the queue is deleted under it', async () => {
    const queue = await newQueue();
    const source = await open(queue);
    await channel.deleteQueue(queue);
    await expect(drain(source, 1)).rejects.toThrow(/cancelled the consumer/);
  });

  it('bounds hostile messages: binary body, 5,000 headers, a 16 KB header, a 10 MB body, a long messageId', async () => {
    const queue = await newQueue();
    const dlq = await newQueue('dlq');
    const source = await open(queue, { deadLetter: dlq });
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x01, 0xc3]);
    // As many as amqplib can send: it encodes all properties into one 64 KB buffer.
    const headers: Record<string, unknown> = { big: 'é'.repeat(8000), bytes: Buffer.from([1, 2, 3]) };
    for (let i = 0; i < 5000; i++) headers[`h${i}`] = true;
    const huge = randomBytes(10 * 1024 * 1024);
    await publish(queue, [binary], { headers });
    await publish(queue, [huge], { messageId: 'x'.repeat(255) });
    await publish(queue, ['fine']);
    const [wide, large, fine] = await drain(source, 3);

    expect(Object.keys(wide!.attributes).length).toBeLessThanOrEqual(64);
    for (const [key, value] of Object.entries(wide!.attributes)) {
      expect(Buffer.byteLength(key)).toBeLessThanOrEqual(1024);
      expect(Buffer.byteLength(value)).toBeLessThanOrEqual(1024);
    }
    expect(wide!.attributes.big).toBe('é'.repeat(512));
    expect(wide!.attributes.bytes).toBe('AQID');
    expect(wide!.body.equals(binary)).toBe(true);
    const [record] = amqpEvent([wide!], { queue }).Records;
    expect(record).toMatchObject({ body: binary.toString('base64'), bodyEncoding: 'base64' });

    expect(large!.id).toBe('x'.repeat(200));
    expect(large!.body.equals(huge)).toBe(true);
    expect(fine!.body.toString()).toBe('fine');

    expect(await source.deadLetter([wide!], 'hostile')).toBe(true);
    await source.ack([wide!, large!, fine!]);
    const dead = await channel.get(dlq, { noAck: true });
    expect(dead && dead.content.equals(binary)).toBe(true);
    expect(dead && dead.properties.headers?.['x-hearth-reason']).toBe('hostile');
    expect(dead && Object.keys(dead.properties.headers ?? {}).length).toBe(5003);

    // Headers that came in but are too many to send again: the dead letter carries the bounded attributes.
    await publish(queue, ['fat'], { headers: { fat: 'a'.repeat(62_000) } });
    const fat = await drain(source, 1);
    expect(await source.deadLetter(fat, 'too fat')).toBe(true);
    await source.ack(fat);
    const trimmed = await channel.get(dlq, { noAck: true });
    expect(trimmed && trimmed.properties.headers).toMatchObject({ fat: 'a'.repeat(1024), 'x-hearth-reason': 'too fat' });
  });
});

/** A TCP relay to the broker whose connections can be cut, as a broker restart or a network failure would. */
async function tcpRelay(): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(5672, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('relay has no port');
  return {
    port: address.port,
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
