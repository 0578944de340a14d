/**
 * The `event` scenario's baseline: the cheapest honest consumer of each
 * broker, run on a channel of `event-brokers.ts` side by side with the
 * trigger — take up to 100 messages, acknowledge them (confirmed where the
 * broker confirms acks), count them, repeat; no invocation, no records.
 * Its rate is what the broker and this machine allow; the trigger's rate
 * over it is what the platform costs.
 */
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { AckPolicy, connect, type JsMsg } from 'nats';
import { connecting, nowMs, parseBody, type BenchChannel } from './event-brokers.ts';

/** Messages taken and acknowledged at once. */
export const BARE_BATCH = 100;
/** Unacknowledged messages a bare consumer may hold (the trigger's default: batchSize × maxConcurrency). */
export const BARE_PREFETCH = 400;

/** What a bare consumer saw: every message once, when its ack went out. */
export interface BareRun {
  unique: number;
  duplicates: number;
  malformed: number;
  batches: number;
  /** Epoch ms when the last new message was acknowledged. */
  lastAckAt: number;
  /** Per message, ack time minus the time in its body (ms). */
  lags: number[];
}

export interface BareConsumer {
  /** Resolves once `count` distinct messages were acknowledged, or the time ran out (then with fewer). */
  done: Promise<BareRun>;
  stop(): Promise<void>;
}

/** Counts messages by the index in their body. */
class Tally {
  private readonly seen = new Set<number>();
  readonly run: BareRun = { unique: 0, duplicates: 0, malformed: 0, batches: 0, lastAckAt: 0, lags: [] };
  constructor(private readonly count: number) {}

  get full(): boolean {
    return this.run.unique >= this.count;
  }

  add(bodies: readonly string[], ackAt: number): void {
    this.run.batches += 1;
    for (const text of bodies) {
      const body = parseBody(text);
      if (!body) {
        this.run.malformed += 1;
        continue;
      }
      if (this.seen.has(body.index)) {
        this.run.duplicates += 1;
        continue;
      }
      this.seen.add(body.index);
      this.run.unique += 1;
      this.run.lastAckAt = ackAt;
      this.run.lags.push(ackAt - body.sentAt);
    }
  }
}

/** Starts a bare consumer of `channel` expecting `count` messages; resolves once it is ready to take them. */
export function startBareConsumer(channel: BenchChannel, count: number, timeoutMs: number): Promise<BareConsumer> {
  if (channel.type === 'redis-stream') return bareRedis(channel, count, timeoutMs);
  if (channel.type === 'amqp') return bareAmqp(channel, count, timeoutMs);
  return bareNats(channel, count, timeoutMs);
}

type StreamReply = [string, [string, string[]][]][] | null;

async function bareRedis(channel: BenchChannel, count: number, timeoutMs: number): Promise<BareConsumer> {
  const redis = new Redis(channel.url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  await redis.xgroup('CREATE', channel.name, 'bare', '0');
  const tally = new Tally(count);
  let stopped = false;
  const until = Date.now() + timeoutMs;
  const done = (async () => {
    while (!tally.full && !stopped && Date.now() < until) {
      const reply = (await redis.call('XREADGROUP', 'GROUP', 'bare', 'bare-1', 'COUNT', BARE_BATCH, 'BLOCK', 500, 'STREAMS', channel.name, '>')) as StreamReply;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) continue;
      await redis.xack(channel.name, 'bare', ...entries.map(([id]) => id));
      tally.add(entries.map(([, fields]) => fields[fields.indexOf('body') + 1] ?? ''), nowMs());
    }
    return tally.run;
  })();
  return {
    done,
    async stop() {
      stopped = true;
      await done.catch(() => {});
      redis.disconnect();
    },
  };
}

async function bareAmqp(channel: BenchChannel, count: number, timeoutMs: number): Promise<BareConsumer> {
  const connection = await connecting('RabbitMQ', () => amqp.connect(channel.url));
  connection.on('error', () => {});
  const ch = await connection.createChannel();
  ch.on('error', () => {});
  await ch.prefetch(BARE_PREFETCH);
  const tally = new Tally(count);
  let pending: amqp.ConsumeMessage[] = [];
  let timer: NodeJS.Timeout | undefined;
  let finish: (run: BareRun) => void = () => {};
  const done = new Promise<BareRun>((resolve) => (finish = resolve));
  const deadline = setTimeout(() => finish(tally.run), timeoutMs);
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    // One consumer on this channel, batches flushed in order: acking up to the last acks exactly this batch.
    ch.ack(batch.at(-1)!, true);
    tally.add(batch.map((m) => m.content.toString('utf8')), nowMs());
    if (tally.full) finish(tally.run);
  };
  const { consumerTag } = await ch.consume(channel.name, (message) => {
    if (!message) return;
    pending.push(message);
    if (pending.length >= BARE_BATCH) flush();
    // A partial batch waits as briefly as the trigger's window, so the last one is not held.
    else timer ??= setTimeout(flush, 20);
  });
  return {
    done,
    async stop() {
      clearTimeout(deadline);
      clearTimeout(timer);
      finish(tally.run);
      await ch.cancel(consumerTag).catch(() => {});
      await connection.close().catch(() => {});
    },
  };
}

async function bareNats(channel: BenchChannel, count: number, timeoutMs: number): Promise<BareConsumer> {
  const nc = await connecting('NATS', () => connect({ servers: channel.url }));
  const jsm = await nc.jetstreamManager();
  await jsm.consumers.add(channel.name, { durable_name: 'bare', ack_policy: AckPolicy.Explicit, max_ack_pending: BARE_PREFETCH });
  const consumer = await nc.jetstream().consumers.get(channel.name, 'bare');
  const tally = new Tally(count);
  let stopped = false;
  const until = Date.now() + timeoutMs;
  const decoder = new TextDecoder();
  const done = (async () => {
    while (!tally.full && !stopped && Date.now() < until) {
      const batch: JsMsg[] = [];
      // A fetch ends when its batch is full (or expires): counts are multiples of the batch, so none waits out the expiry.
      for await (const m of await consumer.fetch({ max_messages: BARE_BATCH, expires: 1000 })) batch.push(m);
      if (batch.length === 0) continue;
      // Acks of one connection arrive in order: the answer to the last says the server has them all (as the trigger does).
      for (const m of batch.slice(0, -1)) m.ack();
      await batch.at(-1)!.ackAck();
      tally.add(batch.map((m) => decoder.decode(m.data)), nowMs());
    }
    return tally.run;
  })();
  return {
    done,
    async stop() {
      stopped = true;
      await done.catch(() => {});
      await jsm.consumers.delete(channel.name, 'bare').catch(() => {});
      await nc.close().catch(() => {});
    },
  };
}
