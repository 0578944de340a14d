/**
 * The RabbitMQ (AMQP 0-9-1) adapter behind `EventSource`: one connection and
 * one consuming channel per trigger, messages acknowledged one by one by
 * delivery tag after the batch ran, unacknowledged ones handed back by the
 * broker when the channel closes or dies. Also the confirmed publisher for
 * dead letters and broker destinations, the check run before a trigger is
 * stored; the messages and the event they make are `amqp-event.ts`'s.
 */
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Options } from 'amqplib';
import { SourceError, type BrokerPublisher, type EventSource, type SourceMessage } from '../event-source.ts';
import type { AmqpSettings } from '../trigger-settings.ts';
import { clip, MAX_ATTRIBUTE_BYTES, safeDecode, toSourceMessage } from './amqp-event.ts';

export { amqpEvent, amqpEventContext } from './amqp-event.ts';

const CONNECT_TIMEOUT_MS = 3000;
/** A confirm that takes longer means a blocked or vanished broker: fail rather than hang the runner. */
const CONFIRM_TIMEOUT_MS = 10_000;
const IDLE_PULL_MS = 1000;
const MAX_PREFETCH = 65_535;

type Log = { warn(msg: string, fields?: object): void };
interface Held { message: SourceMessage; raw: ConsumeMessage }

/** `host:port` of a broker URL, for messages (never the credentials). */
function endpoint(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || (u.protocol === 'amqps:' ? '5671' : '5672')}`;
}

/** An error's message with the URL's password blotted out, in case a library ever repeats it. */
function causeOf(err: unknown, url: string): string {
  let text = err instanceof Error ? err.message : String(err);
  const password = URL.canParse(url) ? new URL(url).password : '';
  for (const secret of new Set([password, safeDecode(password)])) if (secret.length >= 3) text = text.split(secret).join('***');
  return clip(text, 512);
}

/** Connects within 3 s; a failure names host:port and the cause, never the password. */
async function connectBroker(url: string, name: string): Promise<ChannelModel> {
  const attempt = connect(url, { timeout: CONNECT_TIMEOUT_MS, clientProperties: { connection_name: clip(name, 255) } });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS + 250);
  });
  try {
    return await Promise.race([attempt, late]);
  } catch (err) {
    // A connection that completes after we gave up must not linger or throw.
    attempt.then((model) => { model.on('error', () => {}); return model.close(); }).catch(() => {});
    throw new SourceError(`amqp: cannot connect to ${endpoint(url)} (${causeOf(err, url)})`);
  } finally {
    clearTimeout(timer);
  }
}

const notFound = (err: unknown) => (err as { code?: unknown }).code === 404;

/** Waits for `confirmed` or fails after CONFIRM_TIMEOUT_MS. */
async function withinConfirmTime<T>(confirmed: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SourceError(`amqp: ${what} not confirmed within ${CONFIRM_TIMEOUT_MS} ms`)), CONFIRM_TIMEOUT_MS);
  });
  try {
    return await Promise.race([confirmed, late]);
  } finally {
    clearTimeout(timer);
  }
}

interface Outgoing { body: Buffer; options: Options.Publish }

/** Most bytes of headers to send: amqplib encodes all properties into one 64 KB scratch buffer and throws past it. */
const MAX_HEADER_BYTES = 60_000;

/** At least the bytes amqplib encodes `value` to in a field table; Infinity for what it cannot encode. */
function fieldBytes(value: unknown, depth: number): number {
  if (value === null) return 1;
  if (typeof value === 'string') return 5 + Buffer.byteLength(value);
  if (typeof value === 'boolean') return 2;
  if (typeof value === 'number') return 9;
  if (typeof value !== 'object' || depth > 16) return Infinity;
  if (Buffer.isBuffer(value)) return 5 + value.length;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + fieldBytes(v, depth + 1), 5);
  if (Object.hasOwn(value, '!')) {
    const inner = (value as { value?: unknown }).value;
    return typeof inner === 'string' ? 5 + Buffer.byteLength(inner) : 16;
  }
  return 1 + tableBytes(value as Record<string, unknown>, depth + 1);
}

/** At least the bytes of `table` encoded as amqplib does (keys are short strings: at most 255 bytes). */
function tableBytes(table: Record<string, unknown>, depth = 0): number {
  let bytes = 4;
  for (const key in table) {
    if (table[key] === undefined) continue;
    const keyBytes = Buffer.byteLength(key);
    if (keyBytes > 255) return Infinity;
    bytes += 1 + keyBytes + fieldBytes(table[key], depth);
    if (bytes > MAX_HEADER_BYTES) return bytes;
  }
  return bytes;
}

/**
 * Confirmed, mandatory publishing to one queue through the default exchange,
 * one send at a time so a `basic.return` (no such queue: the broker would
 * otherwise confirm and drop) is known to belong to the current send. The
 * confirm channel is made on first use and again after a channel error.
 */
function confirmedSender(model: ChannelModel, where: string, url: string, isDead: () => SourceError | null) {
  let channel: Promise<ConfirmChannel> | null = null;
  let returned = 0;
  let queueing: Promise<unknown> = Promise.resolve();
  const open = () => {
    channel ??= model.createConfirmChannel().then((ch) => {
      const drop = () => { channel = null; };
      ch.on('error', drop);
      ch.on('close', drop);
      ch.on('return', () => { returned++; });
      return ch;
    }, (err) => {
      channel = null;
      throw new SourceError(`amqp: cannot open a publishing channel on ${where} (${causeOf(err, url)})`);
    });
    return channel;
  };
  const sendAll = async (queue: string, items: Outgoing[]) => {
    const dead = isDead();
    if (dead) throw dead;
    const ch = await open();
    returned = 0;
    const confirms: Array<Promise<void>> = [];
    try {
      for (const item of items) {
        let settle: (err: unknown) => void = () => {};
        confirms.push(new Promise<void>((resolve, reject) => {
          settle = (err) => (err ? reject(new SourceError(`amqp: publishing to "${queue}" on ${where} failed (${causeOf(err, url)})`)) : resolve());
        }));
        ch.sendToQueue(queue, item.body, item.options, (err: unknown) => settle(err));
      }
    } catch (err) {
      // amqplib counted a confirm for the message it could not encode, so this channel's confirms no longer line up.
      channel = null;
      for (const confirm of confirms) confirm.catch(() => {});
      await ch.close().catch(() => {});
      throw new SourceError(`amqp: cannot encode a message for "${queue}" (${causeOf(err, url)})`);
    }
    await withinConfirmTime(Promise.all(confirms), `publishing to "${queue}" on ${where}`);
    if (returned > 0) throw new SourceError(`amqp: queue "${queue}" does not exist on ${where} (${returned} message(s) not delivered)`);
  };
  return {
    send: (queue: string, items: Outgoing[]) => {
      const turn = queueing.then(() => sendAll(queue, items));
      queueing = turn.catch(() => {});
      return turn;
    },
    close: async () => {
      const ch = await channel?.catch(() => null);
      await ch?.close().catch(() => {});
    },
  };
}

/**
 * What a dead letter is sent as: the original body, headers and properties
 * (not userId: the broker refuses another user's; nor expiration), plus the
 * reason. Headers too large to send again fall back to the message's bounded
 * text attributes, trimmed to fit.
 */
function deadLetterOf(held: Held | undefined, message: SourceMessage, reason: string): Outgoing {
  const extra: Array<[string, string]> = [['x-hearth-reason', clip(reason, MAX_ATTRIBUTE_BYTES)]];
  const raw = held?.raw;
  const headers = raw?.properties.headers ?? {};
  if (raw && tableBytes(headers) + tableBytes(Object.fromEntries(extra)) <= MAX_HEADER_BYTES) {
    const p = raw.properties;
    // Short strings decoded from invalid UTF-8 can grow past 255 bytes, and a timestamp past 64 bits: such ones stay behind.
    const short = (value: unknown) => (typeof value === 'string' && Buffer.byteLength(value) <= 255 ? value : undefined);
    return {
      body: raw.content,
      options: {
        persistent: true, mandatory: true, headers: Object.fromEntries([...Object.entries(headers), ...extra]),
        contentType: short(p.contentType), contentEncoding: short(p.contentEncoding), correlationId: short(p.correlationId),
        replyTo: short(p.replyTo), messageId: short(p.messageId), type: short(p.type), appId: short(p.appId),
        priority: Number.isInteger(p.priority) && p.priority >= 0 && p.priority <= 255 ? p.priority : undefined,
        timestamp: message.publishedAt === null ? undefined : p.timestamp,
      },
    };
  }
  let bytes = tableBytes(Object.fromEntries(extra));
  const kept = Object.entries(message.attributes).filter(([key, value]) => {
    const more = 1 + Buffer.byteLength(key) + 5 + Buffer.byteLength(value);
    if (Buffer.byteLength(key) > 255 || bytes + more > MAX_HEADER_BYTES) return false;
    bytes += more;
    return true;
  });
  return { body: message.body, options: { persistent: true, mandatory: true, headers: Object.fromEntries([...kept, ...extra]) } };
}

/**
 * Opens the source for one trigger: connects, sets the prefetch (default
 * batchSize × maxConcurrency, so every batch in flight can be full),
 * checks that the queue exists and starts consuming. The broker pushes at
 * most `prefetch` unacknowledged messages, which bounds the local buffer.
 */
export async function openAmqpSource(settings: AmqpSettings, options: { log?: Log } = {}): Promise<EventSource> {
  const where = endpoint(settings.url);
  const queue = settings.queue;
  const model = await connectBroker(settings.url, `hearth trigger reading ${queue}`);
  const buffer: Array<{ raw: ConsumeMessage; at: number }> = [];
  /**
   * Held messages by id. Ids may repeat (two identical bodies without a
   * messageId share a digest; publishers reuse messageIds), so each id keeps
   * a list and a release picks the exact object `pull` returned, or, for a
   * copy of it, the oldest delivery with that id.
   */
  const held = new Map<string, Held[]>();
  let failure: SourceError | null = null;
  let opened = false;
  let wake: (() => void) | null = null;
  const fail = (what: string, err?: unknown) => {
    if (failure) return;
    failure = new SourceError(`amqp: ${what} on ${where}${err ? ` (${causeOf(err, settings.url)})` : ''}`);
    buffer.length = 0;
    held.clear();
    if (opened) options.log?.warn('amqp source lost its broker', { endpoint: where, queue, error: failure.message });
    wake?.();
  };
  model.on('error', (err) => fail('the connection failed', err));
  model.on('close', () => fail('the connection closed'));
  model.on('blocked', (reason: unknown) => options.log?.warn('amqp broker blocks publishing (dead letters wait)', { endpoint: where, reason: String(reason) }));
  // AMQP's prefetch count is 16 bits.
  const prefetch = Math.min(MAX_PREFETCH, settings.prefetch ?? settings.batchSize * settings.maxConcurrency);
  let channel: Channel;
  try {
    channel = await model.createChannel();
    channel.on('error', (err) => fail(`the channel reading "${queue}" failed`, err));
    channel.on('close', () => fail(`the channel reading "${queue}" closed`));
    await channel.prefetch(prefetch);
    await channel.checkQueue(queue);
    await channel.consume(queue, (raw) => {
      if (failure) return;
      if (raw === null) return fail(`the broker cancelled the consumer of "${queue}" (queue deleted?)`);
      buffer.push({ raw, at: Date.now() });
      wake?.();
    }, { noAck: false });
  } catch (err) {
    failure ??= new SourceError('amqp: closed');
    await model.close().catch(() => {});
    if (notFound(err)) throw new SourceError(`amqp: queue "${queue}" does not exist on ${where}`);
    throw new SourceError(`amqp: cannot read queue "${queue}" on ${where} (${causeOf(err, settings.url)})`);
  }
  opened = true;
  const sender = confirmedSender(model, where, settings.url, () => failure);

  const nap = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(() => { wake = null; resolve(); }, Math.max(0, ms));
    wake = () => { clearTimeout(timer); wake = null; resolve(); };
  });
  /** Messages `ack` released: acking one again must not release another delivery with its id. */
  const released = new WeakSet<SourceMessage>();
  const find = (message: SourceMessage, remove: boolean): Held | undefined => {
    const list = held.get(message.id);
    if (!list || released.has(message)) return undefined;
    let index = list.findIndex((h) => h.message === message);
    if (index < 0) index = 0;
    const [entry] = remove ? list.splice(index, 1) : [list[index]];
    if (list.length === 0) held.delete(message.id);
    if (remove && entry) released.add(entry.message).add(message);
    return entry;
  };

  return {
    async pull(max, windowMs) {
      const idleUntil = Date.now() + IDLE_PULL_MS;
      for (;;) {
        if (failure) throw failure;
        if (buffer.length >= max) break;
        if (buffer.length > 0) {
          const deadline = buffer[0]!.at + windowMs;
          if (Date.now() >= deadline) break;
          await nap(deadline - Date.now());
        } else {
          if (Date.now() >= idleUntil) return [];
          await nap(idleUntil - Date.now());
        }
      }
      return buffer.splice(0, Math.max(0, max)).map(({ raw }) => {
        const message = toSourceMessage(raw);
        const list = held.get(message.id);
        if (list) list.push({ message, raw });
        else held.set(message.id, [{ message, raw }]);
        return message;
      });
    },
    async ack(messages) {
      if (failure) throw failure;
      try {
        // One ack per delivery tag: with batches in flight at once, `allUpTo` would ack another batch's messages.
        let sent = 0;
        for (const message of messages) {
          const entry = find(message, true);
          if (!entry) continue;
          channel.ack(entry.raw);
          sent++;
        }
        // Acks have no reply; a round trip on the same channel after them means the broker has applied them.
        if (sent > 0) await channel.prefetch(prefetch);
      } catch (err) {
        fail('acknowledging failed', err);
        throw failure ?? new SourceError(`amqp: acknowledging failed on ${where}`);
      }
    },
    async touch() {},
    async deadLetter(messages, reason) {
      if (!settings.deadLetter) return false;
      await sender.send(settings.deadLetter, messages.map((m) => deadLetterOf(find(m, false), m, reason)));
      return true;
    },
    async lag() {
      if (failure) throw failure;
      try {
        return (await channel.checkQueue(queue)).messageCount;
      } catch (err) {
        throw failure ?? new SourceError(`amqp: cannot read the depth of "${queue}" on ${where} (${causeOf(err, settings.url)})`);
      }
    },
    async close() {
      const wasOpen = !failure;
      failure ??= new SourceError(`amqp: the source reading "${queue}" is closed`);
      wake?.();
      if (wasOpen) {
        await sender.close();
        // The channel first: amqplib may write a connection's close ahead of acks still queued on a channel.
        await channel.close().catch(() => {});
      }
      // Every delivery not acknowledged goes back to the queue.
      await model.close().catch(() => {});
    },
  };
}

/** A confirmed publisher to `queue` (persistent messages, string headers), for broker destinations. */
export async function openAmqpPublisher(url: string, queue: string): Promise<BrokerPublisher> {
  const where = endpoint(url);
  const model = await connectBroker(url, `hearth publisher to ${queue}`);
  let failure: SourceError | null = null;
  model.on('error', (err) => { failure ??= new SourceError(`amqp: the connection failed on ${where} (${causeOf(err, url)})`); });
  model.on('close', () => { failure ??= new SourceError(`amqp: the connection closed on ${where}`); });
  const sender = confirmedSender(model, where, url, () => failure);
  return {
    async publish(body, headers) {
      const bytes = tableBytes(headers);
      if (bytes > MAX_HEADER_BYTES) throw new SourceError(`amqp: headers of more than ${MAX_HEADER_BYTES} bytes (or a name over 255) cannot be sent to "${queue}"`);
      await sender.send(queue, [{ body, options: { persistent: true, mandatory: true, headers } }]);
    },
    async close() {
      failure ??= new SourceError(`amqp: the publisher to "${queue}" is closed`);
      await sender.close();
      await model.close().catch(() => {});
    },
  };
}

/** Checks that the broker answers within 3 s and that the queue (and dead-letter queue) exist, with a sentence that says which is wrong. */
export async function checkAmqpSettings(settings: AmqpSettings): Promise<void> {
  const where = endpoint(settings.url);
  const model = await connectBroker(settings.url, 'hearth trigger check');
  model.on('error', () => {});
  try {
    const queues: Array<[string, string]> = [['queue', settings.queue]];
    if (settings.deadLetter) queues.push(['dead-letter queue', settings.deadLetter]);
    for (const [role, name] of queues) {
      // A failed check closes its channel, so each check gets a throwaway one.
      const channel = await model.createChannel();
      channel.on('error', () => {});
      try {
        await channel.checkQueue(name);
      } catch (err) {
        if (notFound(err)) throw new SourceError(`amqp: ${role} "${name}" does not exist on ${where}`);
        throw new SourceError(`amqp: cannot check ${role} "${name}" on ${where} (${causeOf(err, settings.url)})`);
      }
      await channel.close().catch(() => {});
    }
  } catch (err) {
    throw err instanceof SourceError ? err : new SourceError(`amqp: cannot check ${where} (${causeOf(err, settings.url)})`);
  } finally {
    await model.close().catch(() => {});
  }
}

