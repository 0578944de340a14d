/**
 * The two brokers of the trigger chaos run, as the run sees them from the
 * outside: a stream on the stack's own broker Redis (`ChaosStack.streamRedis`,
 * never the platform's) and a durable queue of the run's own on the
 * machine's RabbitMQ. For each: creating it and its dead letter, reading the
 * dead letter, and what is left unacknowledged at the end (the stream's
 * consumer group `hearth`: pending list and lag; the queue: ready and
 * unacknowledged messages, from `rabbitmqctl` and from AMQP itself). The
 * queues are deleted by `close`, also after a failed run.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { Redis } from 'ioredis';

const run = promisify(execFile);

export const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** What is still on a broker at the end: every figure must be 0 (null: could not be read, with `note` saying why). */
export interface BrokerLeft {
  /** Stream: entries in the group's pending list. Queue: delivered, not acknowledged. */
  unacknowledged: number | null;
  /** Stream: entries the group has not read yet (`lag`). Queue: messages ready. */
  waiting: number | null;
  note: string;
}

/** A dead-letter entry: the body and why it was given up on. */
export interface DeadLetter {
  body: string;
  reason: string;
}

/** A client of `url` that never makes a caller wait long: the run restarts this server on purpose. */
export function quickRedis(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => 200, enableOfflineQueue: true });
  client.on('error', () => {});
  return client;
}

/** The run's stream (created empty, so the trigger can be put) and its dead-letter stream. */
export class StreamUnderTest {
  readonly deadLetter: string;
  private readonly redis: Redis;

  constructor(
    readonly url: string,
    readonly stream: string,
  ) {
    this.deadLetter = `${stream}-dead`;
    this.redis = quickRedis(url);
  }

  async create(): Promise<void> {
    // A throwaway group makes the stream exist (an unknown stream is refused); the trigger creates `hearth` from 0.
    await this.redis.xgroup('CREATE', this.stream, 'bootstrap', '$', 'MKSTREAM');
    await this.redis.xgroup('DESTROY', this.stream, 'bootstrap');
  }

  async deadLetters(): Promise<DeadLetter[]> {
    const entries = (await this.redis.xrange(this.deadLetter, '-', '+').catch(() => [])) as Array<[string, string[]]>;
    return entries.map(([, fields]) => ({ body: field(fields, 'body'), reason: field(fields, 'hearth-reason') }));
  }

  /** Stream length, and the group's pending count and lag (XINFO GROUPS). */
  async left(): Promise<BrokerLeft & { length: number | null }> {
    try {
      const length = await this.redis.xlen(this.stream);
      const groups = (await this.redis.call('XINFO', 'GROUPS', this.stream)) as unknown[][];
      const hearth = groups.map((g) => new Map(pairs(g))).find((g) => g.get('name') === 'hearth');
      if (!hearth) return { length, unacknowledged: null, waiting: null, note: 'the stream has no group "hearth"' };
      const lag = hearth.get('lag');
      return { length, unacknowledged: Number(hearth.get('pending')), waiting: lag === null || lag === undefined ? null : Number(lag), note: 'XINFO GROUPS: pending, lag' };
    } catch (err) {
      return { length: null, unacknowledged: null, waiting: null, note: `XINFO failed: ${(err as Error).message}` };
    }
  }

  /** Bodies of the entries in the group's pending list (delivered, never acknowledged), by entry id. */
  async pendingBodies(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const rows = (await this.redis.xpending(this.stream, 'hearth', '-', '+', 100_000).catch(() => [])) as Array<[string, string, number, number]>;
    for (const [id] of rows) {
      const entry = (await this.redis.xrange(this.stream, id, id)) as Array<[string, string[]]>;
      out.set(id, entry[0] ? field(entry[0][1], 'body') : '(trimmed)');
    }
    return out;
  }

  /** Every entry's id → body (to name claims, which are kept by entry id). */
  async bodiesById(): Promise<Map<string, string>> {
    const entries = (await this.redis.xrange(this.stream, '-', '+')) as Array<[string, string[]]>;
    return new Map(entries.map(([id, fields]) => [id, field(fields, 'body')]));
  }

  close(): void {
    this.redis.disconnect();
  }
}

/** The run's durable queue and its dead-letter queue on the machine's RabbitMQ. */
export class QueueUnderTest {
  readonly deadLetter: string;

  constructor(
    readonly url: string,
    readonly queue: string,
  ) {
    this.deadLetter = `${queue}-dead`;
  }

  async create(): Promise<void> {
    await this.withChannel(async (ch) => {
      await ch.assertQueue(this.queue, { durable: true });
      await ch.assertQueue(this.deadLetter, { durable: true });
    });
  }

  /** Every dead letter, read without taking it away (nacked back). */
  async deadLetters(): Promise<DeadLetter[]> {
    return this.withChannel(async (ch) => {
      const out: DeadLetter[] = [];
      for (;;) {
        const message = await ch.get(this.deadLetter, { noAck: false });
        if (!message) break;
        out.push({ body: message.content.toString('utf8'), reason: String(message.properties.headers?.['x-hearth-reason'] ?? '') });
      }
      ch.nackAll(true);
      return out;
    });
  }

  /** Bodies of the messages ready (read and put back): with the trigger paused, what it never acknowledged. */
  async readyBodies(): Promise<string[]> {
    return this.withChannel(async (ch) => {
      const out: string[] = [];
      for (;;) {
        const message = await ch.get(this.queue, { noAck: false });
        if (!message) break;
        out.push(message.content.toString('utf8'));
      }
      ch.nackAll(true);
      return out;
    });
  }

  /** Messages ready, by AMQP (unacknowledged ones are not counted: use it once no consumer holds any). */
  async ready(): Promise<number> {
    return this.withChannel(async (ch) => (await ch.checkQueue(this.queue)).messageCount);
  }

  /** `rabbitmqctl list_queues name messages_ready messages_unacknowledged` for this queue. */
  async left(): Promise<BrokerLeft> {
    try {
      const { stdout } = await run('rabbitmqctl', ['-q', 'list_queues', 'name', 'messages_ready', 'messages_unacknowledged'], { timeout: 60_000 });
      const line = stdout.split('\n').map((l) => l.trim().split(/\s+/)).find((cols) => cols[0] === this.queue);
      if (!line) return { unacknowledged: null, waiting: null, note: 'rabbitmqctl does not list the queue' };
      return { waiting: Number(line[1]), unacknowledged: Number(line[2]), note: 'rabbitmqctl list_queues: messages_ready, messages_unacknowledged' };
    } catch (err) {
      return { unacknowledged: null, waiting: null, note: `rabbitmqctl failed: ${(err as Error).message.slice(0, 200)}` };
    }
  }

  /** Deletes both queues (teardown; RabbitMQ is shared with everyone else's tests). */
  async close(): Promise<void> {
    await this.withChannel(async (ch) => {
      await ch.deleteQueue(this.queue).catch(() => {});
      await ch.deleteQueue(this.deadLetter).catch(() => {});
    }).catch(() => {});
  }

  private async withChannel<T>(body: (ch: amqp.Channel) => Promise<T>): Promise<T> {
    const connection = await amqp.connect(this.url, { timeout: 5000 });
    connection.on('error', () => {});
    try {
      const ch = await connection.createChannel();
      ch.on('error', () => {});
      return await body(ch);
    } finally {
      await connection.close().catch(() => {});
    }
  }
}

/**
 * Restarts the machine's RabbitMQ application (`rabbitmqctl stop_app`, then
 * `start_app` after `downMs`): every connection drops, durable queues and
 * persistent messages stay. Returns null when done, or why it could not be.
 */
export async function restartRabbit(downMs: number, note: (line: string) => void): Promise<string | null> {
  try {
    await run('rabbitmqctl', ['-q', 'stop_app'], { timeout: 60_000 });
  } catch (err) {
    return `rabbitmqctl stop_app failed: ${(err as Error).message.slice(0, 200)}`;
  }
  note(`rabbitmq stopped (rabbitmqctl stop_app) for ${downMs / 1000} s`);
  await new Promise((r) => setTimeout(r, downMs));
  // Whatever happens, the machine's RabbitMQ must come back: others use it.
  for (let tries = 1; ; tries++) {
    try {
      await run('rabbitmqctl', ['-q', 'start_app'], { timeout: 120_000 });
      break;
    } catch (err) {
      if (tries >= 5) return `rabbitmqctl start_app failed ${tries} times: ${(err as Error).message.slice(0, 200)}`;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  for (const until = Date.now() + 60_000; Date.now() < until; ) {
    try {
      const connection = await amqp.connect(AMQP_URL, { timeout: 2000 });
      await connection.close();
      note('rabbitmq started again (rabbitmqctl start_app) and accepts connections');
      return null;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return 'rabbitmq did not accept connections within 60 s of start_app';
}

/** Whether `rabbitmqctl` can talk to the local node (else the RabbitMQ restart is skipped, and the report says so). */
export async function rabbitControllable(): Promise<string | null> {
  try {
    await run('rabbitmqctl', ['-q', 'status'], { timeout: 60_000 });
    return null;
  } catch (err) {
    return `rabbitmqctl status failed: ${(err as Error).message.slice(0, 200)}`;
  }
}

function field(fields: string[], name: string): string {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]!;
  return '';
}

function pairs(list: unknown[]): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (let i = 0; i + 1 < list.length; i += 2) out.push([String(list[i]), list[i + 1]]);
  return out;
}
