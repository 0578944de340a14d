/**
 * One small kit per broker for trigger tests: a stream, queue or subject of
 * the test's own (random names, removed by `close`), publishing into it,
 * reading its dead letters, and how many messages are still unacknowledged.
 * Real brokers: a Redis server of the test's own (the run's Redis is the
 * platform's, which triggers may never read), RabbitMQ and NATS JetStream at
 * their default ports.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import amqp from 'amqplib';
import { AckPolicy, connect, headers as natsHeaders, type NatsConnection } from 'nats';
import { RedisServer } from './redis-server.ts';

export const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
export const NATS_URL = 'nats://127.0.0.1:4222';

export interface BrokerKit {
  type: 'redis-stream' | 'amqp' | 'nats';
  /** The trigger's broker settings (url, stream/queue/subject, deadLetter). */
  settings: Record<string, unknown>;
  publish(body: string): Promise<void>;
  /** Bodies on the dead-letter destination so far. */
  deadLetters(): Promise<string[]>;
  /** Messages taken and not acknowledged, plus those not taken yet. */
  unacknowledged(): Promise<number>;
  /** Stops and starts the broker, where the test owns it (Redis only). */
  server?: RedisServer;
  close(): Promise<void>;
}

const suffix = () => randomBytes(4).toString('hex');

export async function redisStreamKit(): Promise<BrokerKit> {
  const dir = await mkdtemp(join(tmpdir(), 'hearth-broker-'));
  const server = await RedisServer.start(dir, join(dir, 'redis.log'));
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  // The tests stop this server on purpose: its errors are expected.
  redis.on('error', () => {});
  const stream = `orders-${suffix()}`;
  const deadLetter = `${stream}-dead`;
  // The stream must exist before the trigger is put (an unknown stream is refused).
  await redis.xgroup('CREATE', stream, 'bootstrap', '$', 'MKSTREAM');
  return {
    type: 'redis-stream',
    settings: { url: server.url, stream, deadLetter, start: 'earliest' },
    publish: async (body) => void (await redis.xadd(stream, '*', 'body', body)),
    deadLetters: async () => {
      const entries = (await redis.xrange(deadLetter, '-', '+').catch(() => [])) as Array<[string, string[]]>;
      return entries.map(([, fields]) => fields[fields.indexOf('body') + 1] ?? '');
    },
    unacknowledged: async () => {
      const groups = (await redis.call('XINFO', 'GROUPS', stream)) as unknown[][];
      const hearth = groups.map((g) => Object.fromEntries(chunk(g))).find((g) => g.name === 'hearth');
      return hearth ? Number(hearth.pending) + Number(hearth.lag ?? 0) : Number.POSITIVE_INFINITY;
    },
    server,
    async close() {
      redis.disconnect();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function amqpKit(): Promise<BrokerKit> {
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createConfirmChannel();
  const queue = `orders-${suffix()}`;
  const deadLetter = `${queue}-dead`;
  await channel.assertQueue(queue, { durable: true });
  await channel.assertQueue(deadLetter, { durable: true });
  return {
    type: 'amqp',
    settings: { url: AMQP_URL, queue, deadLetter },
    publish: (body) =>
      new Promise<void>((resolve, reject) => {
        channel.sendToQueue(queue, Buffer.from(body), { persistent: true, messageId: `m-${suffix()}` }, (err) => (err ? reject(err) : resolve()));
      }),
    deadLetters: async () => {
      const bodies: string[] = [];
      for (;;) {
        const message = await channel.get(deadLetter, { noAck: false });
        if (!message) break;
        bodies.push(message.content.toString());
      }
      // Put them back so a later look sees them again.
      channel.nackAll(true);
      return bodies;
    },
    unacknowledged: async () => {
      const ready = (await channel.checkQueue(queue)).messageCount;
      // Unacknowledged messages are not "ready": a management API would count them; the trigger's lag plus
      // the queue being empty after its consumer closes is what the tests check instead.
      return ready;
    },
    async close() {
      await channel.deleteQueue(queue).catch(() => {});
      await channel.deleteQueue(deadLetter).catch(() => {});
      await connection.close().catch(() => {});
    },
  };
}

export async function natsKit(): Promise<BrokerKit> {
  const nc: NatsConnection = await connect({ servers: NATS_URL });
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const name = `orders_${suffix()}`;
  const deadName = `${name}_dead`;
  await jsm.streams.add({ name, subjects: [`${name}.>`] });
  await jsm.streams.add({ name: deadName, subjects: [`${deadName}.>`] });
  const deadLetter = `${deadName}.all`;
  return {
    type: 'nats',
    settings: { url: NATS_URL, stream: name, deadLetter },
    publish: async (body) => void (await js.publish(`${name}.new`, new TextEncoder().encode(body), { headers: natsHeaders() })),
    deadLetters: async () => {
      const consumer = await jsm.consumers.add(deadName, { ack_policy: AckPolicy.None });
      const c = await js.consumers.get(deadName, consumer.name);
      const info = await jsm.streams.info(deadName);
      const bodies: string[] = [];
      if (info.state.messages > 0) {
        const batch = await c.fetch({ max_messages: info.state.messages, expires: 2000 });
        for await (const m of batch) {
          bodies.push(new TextDecoder().decode(m.data));
          if (bodies.length >= info.state.messages) break;
        }
      }
      await jsm.consumers.delete(deadName, consumer.name).catch(() => {});
      return bodies;
    },
    unacknowledged: async () => {
      const consumers = await jsm.consumers.list(name).next();
      const hearth = consumers.find((c) => c.name.startsWith('hearth'));
      return hearth ? hearth.num_pending + hearth.num_ack_pending : Number.POSITIVE_INFINITY;
    },
    async close() {
      await jsm.streams.delete(name).catch(() => {});
      await jsm.streams.delete(deadName).catch(() => {});
      await nc.close();
    },
  };
}

function chunk(list: unknown[]): Array<[string, unknown]> {
  const pairs: Array<[string, unknown]> = [];
  for (let i = 0; i + 1 < list.length; i += 2) pairs.push([String(list[i]), list[i + 1]]);
  return pairs;
}
