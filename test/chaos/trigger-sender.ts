/**
 * The publishing side of the trigger chaos run: N messages with unique bodies
 * (`m-<seq>`) at a steady rate, one at a time and confirmed, to a Redis
 * stream and to a RabbitMQ queue, through broker restarts.
 *
 * Exactly once where the broker allows it, so that a message recorded twice
 * is the platform's doing and not the publisher's: stream entries get an
 * explicit id (`<t0>-<seq + 1>`), so an `XADD` repeated after a lost reply is
 * refused and seen to be there already. AMQP has no such id: the publisher is
 * paused around a planned RabbitMQ restart (nothing unconfirmed when it
 * goes), and a message resent after an unplanned failure is counted as
 * `ambiguous` (it may be on the queue twice).
 */
import amqp from 'amqplib';
import type { Redis } from 'ioredis';
import { sleep } from '../helpers/wait.ts';
import { quickRedis } from './trigger-brokers.ts';

export interface PublishStats {
  /** Messages the broker confirmed, by seq. */
  published: Set<number>;
  /** Publish attempts that failed and were retried. */
  retries: number;
  /** Seqs resent after an unconfirmed attempt (AMQP): possibly on the queue twice. */
  ambiguous: Set<number>;
  /** Seqs the broker never confirmed before the deadline. */
  gaveUp: number[];
  /** The last failure, for the report. */
  lastError: string | null;
}

/** One broker's publisher: `send` one message and resolve once confirmed, or throw. */
interface Channel {
  send(seq: number): Promise<void>;
  /** After a failed send: true when the message may still have landed (a retry could duplicate it). */
  mayHaveLanded(err: unknown): boolean;
  close(): Promise<void>;
}

export const bodyOf = (seq: number) => `m-${seq}`;

/** Publishes `count` messages at `ratePerS`; `pause()`/`resume()` hold it between two messages. */
export class Publisher {
  readonly stats: PublishStats = { published: new Set(), retries: 0, ambiguous: new Set(), gaveUp: [], lastError: null };
  private paused: Promise<void> | null = null;
  private resumeNow: () => void = () => {};
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};

  constructor(
    readonly broker: 'redis-stream' | 'amqp',
    private readonly channel: Channel,
    private readonly count: number,
    private readonly ratePerS: number,
  ) {}

  /** Holds publishing after the message in flight; resolves once that one is confirmed (or given up). */
  async pause(): Promise<void> {
    if (!this.paused) this.paused = new Promise((resolve) => (this.resumeNow = resolve));
    await this.idle;
  }

  resume(): void {
    const wake = this.resumeNow;
    this.paused = null;
    wake();
  }

  async run(): Promise<void> {
    const t0 = Date.now();
    try {
      for (let seq = 0; seq < this.count; seq++) {
        const due = t0 + (seq * 1000) / this.ratePerS;
        if (due > Date.now()) await sleep(due - Date.now());
        while (this.paused) await this.paused;
        this.idle = new Promise((resolve) => (this.markIdle = resolve));
        try {
          await this.publish(seq);
        } finally {
          this.markIdle();
        }
      }
    } finally {
      await this.channel.close().catch(() => {});
    }
  }

  private async publish(seq: number): Promise<void> {
    const deadline = Date.now() + 120_000;
    for (let unsure = false; ; ) {
      try {
        await this.channel.send(seq);
        this.stats.published.add(seq);
        if (unsure) this.stats.ambiguous.add(seq);
        return;
      } catch (err) {
        this.stats.retries++;
        this.stats.lastError = (err as Error).message.slice(0, 200);
        unsure ||= this.channel.mayHaveLanded(err);
        if (Date.now() > deadline) {
          this.stats.gaveUp.push(seq);
          return;
        }
        await sleep(250);
      }
    }
  }
}

/** XADD with explicit ids `<t0>-<seq + 1>`: a repeat of a landed entry is refused, then found by XRANGE. */
export function streamChannel(url: string, stream: string): Channel {
  const redis: Redis = quickRedis(url);
  const t0 = Date.now();
  return {
    async send(seq) {
      const id = `${t0}-${seq + 1}`;
      try {
        await redis.xadd(stream, id, 'body', bodyOf(seq));
      } catch (err) {
        if (!/equal or smaller/i.test(String(err))) throw err;
        const there = (await redis.xrange(stream, id, id)) as Array<[string, string[]]>;
        if (there.length !== 1 || there[0]![1][1] !== bodyOf(seq)) throw new Error(`stream id ${id} is taken by something else`);
      }
    },
    mayHaveLanded: () => false,
    async close() {
      redis.disconnect();
    },
  };
}

/** Persistent messages with `messageId: m-<seq>` through a confirm channel, reconnecting after a failure. */
export function amqpChannel(url: string, queue: string): Channel {
  let open: Promise<{ connection: amqp.ChannelModel; channel: amqp.ConfirmChannel }> | null = null;
  let closed = false;
  const connect = () => {
    open ??= (async () => {
      const connection = await amqp.connect(url, { timeout: 3000 });
      const drop = () => (open = null);
      connection.on('error', drop);
      connection.on('close', drop);
      const channel = await connection.createConfirmChannel();
      channel.on('error', drop);
      channel.on('close', drop);
      return { connection, channel };
    })().catch((err: unknown) => {
      open = null;
      throw err;
    });
    return open;
  };
  return {
    async send(seq) {
      if (closed) throw new Error('publisher closed');
      const { channel } = await connect();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no confirm within 10 s')), 10_000);
        channel.sendToQueue(queue, Buffer.from(bodyOf(seq)), { persistent: true, messageId: bodyOf(seq) }, (err: unknown) => {
          clearTimeout(timer);
          if (err) reject(err instanceof Error ? err : new Error(String(err)));
          else resolve();
        });
      });
    },
    // Only a failure before a channel existed certainly sent nothing.
    mayHaveLanded: (err) => !/ECONNREFUSED|connect|Socket closed abruptly during opening/i.test(String(err)),
    async close() {
      closed = true;
      const current = await open?.catch(() => null);
      await current?.connection.close().catch(() => {});
    },
  };
}
