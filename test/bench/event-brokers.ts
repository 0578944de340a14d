/**
 * The brokers of the `event` scenario: for each (Redis Streams on a Redis
 * server of the bench's own — the platform's Redis is refused as a trigger
 * broker —, RabbitMQ, NATS JetStream) a fresh stream or queue per run, a
 * publisher that sends as fast as the broker takes messages, whether a
 * trigger's consumer is attached, and clean-up. Every body is
 * `<index>:<epoch ms at send>` so whoever consumes it can count it once and
 * compute its lag; the bare consumers that read these channels are in
 * `bare-consumers.ts`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { RedisServer } from '../helpers/redis-server.ts';

export const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
export const NATS_URL = 'nats://127.0.0.1:4222';
export const BROKER_TYPES = ['redis-stream', 'amqp', 'nats'] as const;
export type BrokerType = (typeof BROKER_TYPES)[number];

/** Epoch ms with sub-ms precision, on the clock the platform's records use (this host's). */
export const nowMs = () => performance.timeOrigin + performance.now();

/** A message body: its index in the run and when it was handed to the broker. */
export const bodyOf = (index: number, sentAt: number) => `${index}:${sentAt.toFixed(3)}`;

/** `bodyOf` read back; null for anything else (a consumer never trusts a body). */
export function parseBody(text: string): { index: number; sentAt: number } | null {
  const m = /^(\d{1,9}):(\d{1,16}(?:\.\d{1,3})?)$/.exec(text);
  return m ? { index: Number(m[1]), sentAt: Number(m[2]) } : null;
}

/** How a publish run went: when the first message was handed over and when the broker had confirmed the last. */
export interface PublishRun {
  count: number;
  firstAt: number;
  confirmedAt: number;
}

/** One fresh stream or queue on a broker, removed by `close`. */
export interface BenchChannel {
  type: BrokerType;
  /** Where a bare consumer reads and what a trigger names (stream, queue; NATS: stream and subject). */
  name: string;
  url: string;
  /** The trigger's broker settings for this channel. */
  triggerSettings: Record<string, unknown>;
  /** Sends messages 0..count-1 as fast as the broker confirms them. */
  publish(count: number): Promise<PublishRun>;
  /** Whether a trigger's consumer reads this channel now (attached: true) or has gone (attached: false). */
  triggerAttached(): Promise<boolean>;
  close(): Promise<void>;
}

export interface BenchBroker {
  type: BrokerType;
  url: string;
  channel(): Promise<BenchChannel>;
  close(): Promise<void>;
}

const suffix = () => randomBytes(4).toString('hex');

/** `connect` tried again a few times: on a machine this busy a broker may refuse a connection for a moment. */
export async function connecting<T>(what: string, connect: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect();
    } catch (err) {
      if (attempt >= 5) throw new Error(`connecting to ${what}: ${err instanceof Error ? err.message : String(err)}`);
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}

export function openBroker(type: BrokerType): Promise<BenchBroker> {
  if (type === 'redis-stream') return redisBroker();
  if (type === 'amqp') return amqpBroker();
  return natsBroker();
}

/** Messages per pipeline: large enough that the round trip is not what limits the rate. */
const REDIS_PIPELINE = 250;

async function redisBroker(): Promise<BenchBroker> {
  const dir = await mkdtemp(join(tmpdir(), 'hearth-bench-broker-'));
  const server = await RedisServer.start(dir, join(dir, 'redis.log'));
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  return {
    type: 'redis-stream',
    url: server.url,
    async channel() {
      const stream = `bench-events-${suffix()}`;
      // A trigger is refused an unknown stream; the bootstrap group makes it exist and goes with it.
      await redis.xgroup('CREATE', stream, 'bootstrap', '$', 'MKSTREAM');
      return {
        type: 'redis-stream',
        name: stream,
        url: server.url,
        triggerSettings: { url: server.url, stream, start: 'earliest' },
        async publish(count) {
          const firstAt = nowMs();
          for (let i = 0; i < count; i += REDIS_PIPELINE) {
            const pipeline = redis.pipeline();
            for (let k = i; k < Math.min(count, i + REDIS_PIPELINE); k++) pipeline.xadd(stream, '*', 'body', bodyOf(k, nowMs()));
            const replies = (await pipeline.exec()) ?? [];
            const failed = replies.find(([err]) => err);
            if (failed) throw new Error(`XADD failed: ${String(failed[0])}`);
          }
          return { count, firstAt, confirmedAt: nowMs() };
        },
        async triggerAttached() {
          // The trigger's connections name themselves; its reader sits blocked in XREADGROUP while it waits for entries
          // (a consumer shows in XINFO only once it was handed one). One trigger at a time reads this server.
          const clients = String(await redis.client('LIST')).split('\n').filter((line) => line.includes(' name=hearth-trigger '));
          return clients.some((line) => / flags=b /.test(line) && / cmd=xreadgroup /.test(line));
        },
        async close() {
          await redis.del(stream).catch(() => {});
        },
      };
    },
    async close() {
      redis.disconnect();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function amqpBroker(): Promise<BenchBroker> {
  const connection = await connecting('RabbitMQ', () => amqp.connect(AMQP_URL));
  connection.on('error', () => {});
  // Confirms for publishing; a plain channel for looking at queues (a failed check closes its channel).
  const confirms = await connection.createConfirmChannel();
  let admin: amqp.Channel | null = null;
  const adminChannel = async () => {
    if (admin) return admin;
    const channel = await connection.createChannel();
    channel.on('error', () => {});
    channel.on('close', () => {
      if (admin === channel) admin = null;
    });
    return (admin = channel);
  };
  return {
    type: 'amqp',
    url: AMQP_URL,
    async channel() {
      const queue = `bench-events-${suffix()}`;
      await confirms.assertQueue(queue, { durable: true });
      return {
        type: 'amqp',
        name: queue,
        url: AMQP_URL,
        triggerSettings: { url: AMQP_URL, queue },
        async publish(count) {
          const firstAt = nowMs();
          for (let i = 0; i < count; i++) {
            // `false`: the channel's buffer is full; wait until the broker took some.
            const room = confirms.sendToQueue(queue, Buffer.from(bodyOf(i, nowMs())), { persistent: true, messageId: `m-${i}` });
            if (!room) await new Promise((resolve) => confirms.once('drain', resolve));
          }
          await confirms.waitForConfirms();
          return { count, firstAt, confirmedAt: nowMs() };
        },
        async triggerAttached() {
          const info = await (await adminChannel()).checkQueue(queue);
          return info.consumerCount > 0;
        },
        async close() {
          await (await adminChannel()).deleteQueue(queue).catch(() => {});
        },
      };
    },
    async close() {
      await connection.close().catch(() => {});
    },
  };
}

/** PubAcks awaited at once while publishing to JetStream. */
const NATS_WINDOW = 256;

async function natsBroker(): Promise<BenchBroker> {
  const nc: NatsConnection = await connecting('NATS', () => connect({ servers: NATS_URL }));
  const jsm: JetStreamManager = await nc.jetstreamManager();
  const js: JetStreamClient = nc.jetstream();
  return {
    type: 'nats',
    url: NATS_URL,
    async channel() {
      const stream = `bench_events_${suffix()}`;
      await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
      const subject = `${stream}.m`;
      const encoder = new TextEncoder();
      return {
        type: 'nats',
        name: stream,
        url: NATS_URL,
        triggerSettings: { url: NATS_URL, stream },
        async publish(count) {
          const firstAt = nowMs();
          const inFlight = new Set<Promise<unknown>>();
          for (let i = 0; i < count; i++) {
            const sent: Promise<unknown> = js.publish(subject, encoder.encode(bodyOf(i, nowMs()))).finally(() => inFlight.delete(sent));
            inFlight.add(sent);
            if (inFlight.size >= NATS_WINDOW) await Promise.race(inFlight);
          }
          await Promise.all(inFlight);
          return { count, firstAt, confirmedAt: nowMs() };
        },
        async triggerAttached() {
          const consumers = await jsm.consumers.list(stream).next();
          // A pull consumer is read while a pull request of it waits on the server.
          return consumers.some((c) => c.name.startsWith('hearth') && c.num_waiting > 0);
        },
        async close() {
          await jsm.streams.delete(stream).catch(() => {});
        },
      };
    },
    async close() {
      await nc.close().catch(() => {});
    },
  };
}
