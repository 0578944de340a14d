/**
 * The NATS JetStream adapter behind `EventSource`: one connection per
 * trigger and one durable pull consumer (explicit acks) on the user's
 * stream. Messages are held by JetStream as "ack pending" until acked; a
 * held message comes back after `ack_wait` (30 s) unless touched (`+WPI`),
 * so a process that dies hands its messages to the next lease holder, and a
 * clean close naks them so the next holder gets them at once. Also the
 * PubAck'd publisher (dead letters, broker destinations), the check run
 * before a trigger is stored, and the function's event (`natsEvent`).
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import {
  AckPolicy, connect, DeliverPolicy, Events, headers as natsHeaders, nanos,
  type ConnectionOptions, type Consumer, type ConsumerInfo, type ConsumerUpdateConfig, type JetStreamManager, type JsMsg, type MsgHdrs, type NatsConnection,
} from 'nats';
import { SourceError, type BrokerPublisher, type EventSource, type SourceMessage } from '../event-source.ts';
import type { NatsSettings } from '../trigger-settings.ts';

const CONNECT_TIMEOUT_MS = 3000;
/** The smallest expiry `consumer.fetch` takes, and the wait of a pull that finds nothing. */
const FETCH_MIN_MS = 1000;
const ACK_WAIT_MS = 30_000;
const ANSWER_TIMEOUT_MS = 10_000;
/**
 * Bytes one pull may hold: a fetch asks for no more messages than fit when
 * each is as large as the broker allows (its max_payload, or the stream's
 * max_msg_size when smaller), so a flood of big messages is never more.
 */
const PULL_BYTE_BUDGET = 32 * 1024 * 1024;
const MAX_ATTRIBUTES = 64;
const MAX_KEY_BYTES = 256;
const MAX_VALUE_BYTES = 1024;
const ACK = new TextEncoder().encode('+ACK');

/** A delivery's JetStream metadata, or none for a message whose reply subject is not JetStream's (skipped). */
const infoOf = (raw: JsMsg) => { try { return raw.info; } catch { return null; } };
/** The ack subject (the client has it on every message, not in the type). */
const replyOf = (raw: JsMsg) => (raw as JsMsg & { reply: string }).reply;

type Log = { warn(msg: string, fields?: object): void };

/** `text` cut to at most `maxBytes` of UTF-8, never inside a character. */
function clip(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

const decoded = (text: string) => { try { return decodeURIComponent(text); } catch { return text; } };

/** JetStream's error code (`api_error.err_code`) of an error or of the error it wraps. */
const apiCode = (err: unknown): number | undefined => {
  const own = (e: unknown) => (e as { api_error?: { err_code?: number } } | undefined)?.api_error?.err_code;
  return own(err) ?? own((err as { cause?: unknown } | undefined)?.cause);
};
const codeOf = (err: unknown) => String((err as { code?: unknown } | undefined)?.code ?? '');

/** Readable causes for the codes the client reports; anything else is its message, bounded. */
function describe(err: unknown): string {
  const code = codeOf(err);
  const known: Record<string, string> = {
    CONNECTION_REFUSED: 'connection refused', CONNECTION_TIMEOUT: 'no answer within 3 s', TIMEOUT: 'no answer in time',
    AUTHORIZATION_VIOLATION: 'authorization violation (check the user, password or token in the URL)',
    SERVER_OPT_NA: 'the server does not offer TLS', CONNECTION_CLOSED: 'the connection is closed',
    '503': 'no responders (JetStream is off, or nothing serves that subject)',
  };
  return clip(known[code] ?? (err instanceof Error ? err.message : String(err)), 512);
}

/**
 * One connection and its health. `guard` runs a call unless the connection is
 * down, and fails it (SourceError) at once when the connection drops, after
 * `timeoutMs`, or when the client throws, even synchronously (it does when closed).
 */
interface Link {
  nc: NatsConnection;
  where: string;
  guard<T>(work: () => Promise<T>, what: string, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/** Connects within 3 s to the URL's one server (cluster gossip ignored: a broker must not steer us to other hosts). */
async function openLink(url: string, reconnect: boolean): Promise<Link> {
  const u = new URL(url);
  const where = `${u.hostname}:${u.port || '4222'}`;
  const user = decoded(u.username), pass = decoded(u.password);
  const secrets = [u.username, u.password, user, pass].filter((s) => s.length >= 3);
  const scrub = (text: string) => secrets.reduce((t, s) => t.split(s).join('***'), text);
  const options: ConnectionOptions = {
    servers: where, name: 'hearth-trigger', timeout: CONNECT_TIMEOUT_MS, ignoreClusterUpdates: true,
    maxReconnectAttempts: reconnect ? 10 : 0, reconnectTimeWait: 1000, pingInterval: 10_000, maxPingOut: 2,
    ...(user && pass ? { user, pass } : user ? { token: user } : {}), ...(u.protocol === 'tls:' ? { tls: {} } : {}),
  };
  const attempt = connect(options);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('no answer within 3 s')), CONNECT_TIMEOUT_MS + 250); });
  let nc: NatsConnection;
  try {
    nc = await Promise.race([attempt, late]);
  } catch (err) {
    attempt.then((nc) => nc.close()).catch(() => {}); // one that connects after we gave up
    throw new SourceError(`nats: cannot connect to ${where}: ${scrub(describe(err))}`);
  } finally {
    clearTimeout(timer);
  }
  let failure: SourceError | null = null;
  const waiters = new Set<(err: SourceError) => void>();
  const drop = (err: SourceError) => { failure = err; for (const w of [...waiters]) w(err); };
  let closed = false;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === Events.Disconnect) drop(new SourceError(`nats: lost the connection to ${where}; reconnecting`));
      else if (s.type === Events.Reconnect && !closed) failure = null;
    }
  })().catch(() => {});
  nc.closed().then((err) => {
    closed = true;
    drop(new SourceError(`nats: the connection to ${where} is closed${err ? ` (${scrub(describe(err))})` : ''}`));
  }, () => {});
  const guard = <T>(call: () => Promise<T>, what: string, timeoutMs = ANSWER_TIMEOUT_MS): Promise<T> => {
    if (failure) return Promise.reject(failure);
    let work: Promise<T>;
    try { work = call(); } catch (err) { work = Promise.reject(err); }
    work.catch(() => {}); // a call given up on must not reject unhandled later
    return new Promise<T>((resolve, reject) => {
      const settle = (fn: () => void) => { clearTimeout(t); waiters.delete(lost); fn(); };
      const lost = (err: SourceError) => settle(() => reject(err));
      const t = setTimeout(() => lost(new SourceError(`nats: ${what} on ${where} got no answer within ${Math.ceil(timeoutMs / 1000)} s`)), timeoutMs);
      waiters.add(lost);
      work.then((v) => settle(() => resolve(v)), (err) => settle(() => reject(err instanceof SourceError
        ? err : new SourceError(`nats: ${what} on ${where} failed: ${scrub(describe(err))}`, { cause: err }))));
    });
  };
  const close = async () => {
    if (nc.isClosed()) return;
    await guard(() => nc.drain(), 'drain', 5000).catch(() => nc.close()).catch(() => {});
  };
  return { nc, where, guard, close };
}

const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

/** JetStream's manager, and the stream's info; a missing stream or JetStream is a sentence naming it. */
async function openStream(link: Link, stream: string) {
  const jsm = await link.guard(() => link.nc.jetstreamManager(), 'JetStream').catch((err: unknown) => {
    const cause = (err as { cause?: unknown }).cause;
    if (codeOf(cause) === '503' || /jetstream not enabled/i.test(String(cause))) throw new SourceError(`nats: JetStream is not enabled on ${link.where}`);
    throw err;
  });
  const info = await link.guard(() => jsm.streams.info(stream), `stream "${stream}"`).catch((err: unknown) => {
    if (apiCode(err) === STREAM_NOT_FOUND) throw new SourceError(`nats: stream "${stream}" does not exist on ${link.where}`);
    throw err;
  });
  return { jsm, info };
}

/** A consumer Hearth cannot read through (push, no explicit acks, headers only): a sentence saying why. */
function unusable(ci: ConsumerInfo, where: string): SourceError | null {
  const name = `nats: consumer "${ci.name}" on stream "${ci.stream_name}" (${where})`;
  if (ci.config.deliver_subject) return new SourceError(`${name} is a push consumer; Hearth needs a pull consumer (delete it or name another durable)`);
  if (ci.config.ack_policy !== AckPolicy.Explicit) return new SourceError(`${name} does not use explicit acks; Hearth needs ack_policy "explicit"`);
  if (ci.config.headers_only) return new SourceError(`${name} delivers headers only; Hearth needs the bodies`);
  return null;
}

interface ConsumerWants { name: string; subject: string | undefined; ackWaitMs: number; maxAckPending: number; batchSize: number }

/** The durable pull consumer, created (deliver all) if missing; an existing one gets the filter and limits a trigger needs. */
async function ensureConsumer(link: Link, jsm: JetStreamManager, stream: string, want: ConsumerWants, log?: Log): Promise<ConsumerInfo> {
  const info = () => link.guard(() => jsm.consumers.info(stream, want.name), 'consumer info').catch((err: unknown) => {
    if (apiCode(err) === CONSUMER_NOT_FOUND) return null;
    throw err;
  });
  let ci = await info();
  if (!ci) {
    const create = () => jsm.consumers.add(stream, {
      durable_name: want.name, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ack_wait: nanos(want.ackWaitMs),
      max_ack_pending: Math.max(1000, 2 * want.maxAckPending), description: 'Hearth trigger', ...(want.subject ? { filter_subject: want.subject } : {}),
    });
    // Two gateways may race to create it: the loser reads the winner's.
    return link.guard(create, `creating consumer "${want.name}"`).catch(async (err: unknown) => (await info()) ?? Promise.reject(err));
  }
  const refused = unusable(ci, link.where);
  if (refused) throw refused;
  const c = ci.config;
  const changes: Partial<ConsumerUpdateConfig> & Record<string, unknown> = {};
  if ((c.filter_subject || undefined) !== want.subject || (c.filter_subjects?.length ?? 0) > 0) {
    changes.filter_subject = want.subject; // undefined clears it (dropped from the JSON)
    changes.filter_subjects = undefined;
  }
  if (c.max_ack_pending !== undefined && c.max_ack_pending !== -1 && c.max_ack_pending < want.maxAckPending) changes.max_ack_pending = want.maxAckPending;
  if ((c.ack_wait ?? 0) < nanos(Math.min(want.ackWaitMs, 10_000))) changes.ack_wait = nanos(want.ackWaitMs);
  if (c.max_batch && c.max_batch < want.batchSize) changes.max_batch = want.batchSize;
  if (c.max_expires) changes.max_expires = undefined; // a pull waits as long as the batch window
  if (Object.keys(changes).length === 0) return ci;
  log?.warn('nats: updating the trigger consumer', { stream, consumer: want.name, changes: Object.keys(changes) });
  return link.guard(() => jsm.consumers.update(stream, want.name, changes as Partial<ConsumerUpdateConfig>), `updating consumer "${want.name}"`);
}

/** `${stream}:${sequence}`, the stream name digested when it would pass 200 characters. */
function messageId(stream: string, sequence: number): string {
  const name = stream.length <= 160 ? stream : `${stream.slice(0, 100)}~${createHash('sha256').update(stream).digest('hex').slice(0, 16)}`;
  return `${name}:${sequence}`;
}

/** What the port hands over for one JetStream message; every field bounded, nothing trusted. */
function toSourceMessage(m: JsMsg, stream: string, log?: Log): SourceMessage {
  const info = m.info; // throws on a reply subject that is not JetStream's: the caller skips such a message
  const subject = clip(m.subject, MAX_VALUE_BYTES);
  const entries: Array<[string, string]> = [];
  try {
    for (const [key, values] of m.headers ?? []) {
      if (entries.length >= MAX_ATTRIBUTES - 1) break;
      if (key.toLowerCase() !== 'subject') entries.push([clip(key, MAX_KEY_BYTES), clip(values.join(','), MAX_VALUE_BYTES)]);
    }
  } catch {
    log?.warn('nats: message headers unreadable; left out', { stream, sequence: info.streamSequence });
  }
  entries.push(['subject', subject]);
  const stamp = info.timestampNanos / 1e6;
  return {
    id: messageId(stream, info.streamSequence),
    key: subject,
    // A view, not a copy: the held JsMsg keeps these bytes alive anyway, and the client never writes over a frame it parsed.
    body: Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength),
    attributes: Object.fromEntries(entries),
    deliveries: Number.isSafeInteger(info.deliveryCount) && info.deliveryCount > 0 ? info.deliveryCount : 1,
    publishedAt: Number.isFinite(stamp) && stamp > 0 && stamp <= 8.64e15 ? Math.round(stamp) : null,
  };
}

/** Headers NATS can carry: bad names dropped, line breaks in values made spaces, at most 64 of 1 KB. */
function toNatsHeaders(record: Record<string, string>, into: MsgHdrs = natsHeaders()): MsgHdrs {
  let count = 0;
  for (const [key, value] of Object.entries(record)) {
    if (count >= MAX_ATTRIBUTES) break;
    try {
      into.append(clip(key, MAX_KEY_BYTES), clip(String(value).replace(/[\r\n]+/g, ' '), MAX_VALUE_BYTES));
      count++;
    } catch { /* a name NATS refuses */ }
  }
  return into;
}

/** Some subject matches both patterns (`*` one token, `>` one or more): for a literal `b`, `a` matches it. */
function subjectsCollide(a: string, b: string): boolean {
  const x = a.split('.'), y = b.split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] === '>' || y[i] === '>') return i < x.length && i < y.length;
    if (x[i] === undefined || y[i] === undefined) return false;
    if (x[i] !== '*' && y[i] !== '*' && x[i] !== y[i]) return false;
  }
  return true;
}

/**
 * Opens a trigger's source: connects (3 s, then up to 10 reconnects a second
 * apart), and ensures the durable pull consumer `settings.durable ??
 * options.durable` on `settings.stream`. `ackWaitMs` is for tests only.
 */
export async function openNatsSource(
  settings: NatsSettings,
  options: { durable: string; log?: Log; ackWaitMs?: number },
): Promise<EventSource> {
  const link = await openLink(settings.url, true);
  const { nc, guard } = link;
  const stream = settings.stream;
  const name = settings.durable ?? options.durable;
  let consumer: Consumer;
  let ceiling = nc.info?.max_payload ?? 1024 * 1024;
  try {
    const { jsm, info } = await openStream(link, stream);
    if (info.config.max_msg_size > 0) ceiling = Math.min(ceiling, info.config.max_msg_size);
    await ensureConsumer(link, jsm, stream, {
      name, subject: settings.subject, ackWaitMs: options.ackWaitMs ?? ACK_WAIT_MS,
      maxAckPending: settings.batchSize * settings.maxConcurrency, batchSize: settings.batchSize,
    }, options.log);
    consumer = await guard(() => nc.jetstream().consumers.get(stream, name), `consumer "${name}"`);
  } catch (err) {
    await link.close();
    throw err instanceof SourceError ? err : new SourceError(`nats: cannot open stream "${stream}" on ${link.where}: ${describe(err)}`);
  }
  const js = nc.jetstream();
  /** Messages taken and not yet acked or handed back, by id (the newest delivery of each). */
  const held = new Map<string, JsMsg>();
  let closing = false;
  /** Messages the server had not delivered yet when the last pull ended: the next one asks for them straight away. */
  let backlog = 0;
  const mine = (messages: readonly SourceMessage[]) =>
    messages.flatMap((m) => { const raw = held.get(m.id); return raw ? [[m.id, raw] as const] : []; });
  const nakAll = (raws: Iterable<JsMsg>) => { for (const raw of raws) try { raw.nak(); } catch { /* connection gone: ack_wait brings it back */ } };

  /** One fetch run to its end (batch filled or expired): stopping one early would lose messages already on the wire. */
  const fetchInto = async (taken: SourceMessage[], raws: JsMsg[], n: number, waitMs: number) => {
    const expires = Math.max(FETCH_MIN_MS, Math.round(waitMs));
    const iter = await guard(() => consumer.fetch({ max_messages: n, expires }), 'fetch');
    const reading = (async () => {
      for await (const raw of iter) {
        let message: SourceMessage;
        // Not a JetStream delivery (something else published to our inbox): neither handed over nor answered.
        try { message = toSourceMessage(raw, stream, options.log); } catch { continue; }
        raws.push(raw);
        held.set(message.id, raw);
        taken.push(message);
      }
    })();
    try {
      await guard(() => reading, 'fetch', expires + ANSWER_TIMEOUT_MS);
    } catch (err) {
      iter.stop();
      throw err;
    }
  };

  return {
    async pull(asked, windowMs) {
      const max = Math.max(1, Math.floor(asked) || 1);
      const closed = () => new SourceError(`nats: the source for stream "${stream}" is closed`);
      if (closing) throw closed();
      const taken: SourceMessage[] = [];
      const raws: JsMsg[] = [];
      const bytes = () => taken.reduce((sum, m) => sum + m.body.length, 0);
      try {
        // A fetch ends only when its batch is full (or expires), so without a known backlog one message is asked
        // for first: a lone message then comes back at once rather than after the expiry.
        const room = (n: number) => Math.min(n, Math.max(1, Math.floor((PULL_BYTE_BUDGET - bytes()) / ceiling)));
        await fetchInto(taken, raws, backlog > 0 ? room(Math.min(max, backlog)) : 1, FETCH_MIN_MS);
        backlog = 0;
        if (closing) throw closed(); // what came in was handed back by close()
        if (taken.length === 0) return [];
        const deadline = Date.now() + windowMs;
        let waitedForRedeliveries = false;
        while (taken.length < max && bytes() < PULL_BYTE_BUDGET && !closing) {
          const want = room(max - taken.length);
          const last = infoOf(raws.at(-1)!);
          // `pending` counts messages not yet delivered (as the server sent the last one): these come at once.
          const ready = last?.pending ?? 0;
          const wait = deadline - Date.now();
          const before = raws.length;
          if (ready > 0) await fetchInto(taken, raws, Math.min(want, ready), FETCH_MIN_MS);
          else if (wait >= FETCH_MIN_MS) await fetchInto(taken, raws, want, wait);
          else if (last?.redelivered && !waitedForRedeliveries) {
            // Redeliveries (after a crash or a close) are not in `pending`: give them a second to batch up.
            waitedForRedeliveries = true;
            await fetchInto(taken, raws, want, FETCH_MIN_MS);
          } else if (wait > 0) {
            await guard(() => new Promise((r) => setTimeout(r, wait)), 'batch window', wait + 1000);
            const ci = await guard(() => consumer.info(), 'consumer info');
            if (ci.num_pending === 0) break;
            await fetchInto(taken, raws, Math.min(want, ci.num_pending), FETCH_MIN_MS);
          } else break;
          if (raws.length === before && Date.now() >= deadline) break;
        }
        if (closing) throw closed();
        backlog = infoOf(raws.at(-1)!)?.pending ?? 0;
        return taken;
      } catch (err) {
        // Not handed over, so not the runner's to ack: back to the broker now (or, with the connection gone, after ack_wait).
        for (const m of taken) held.delete(m.id);
        nakAll(raws);
        throw err;
      }
    },
    async ack(messages) {
      const ours = mine(messages);
      if (ours.length === 0) return;
      // The consumer takes one connection's acks in order, so the server's answer to the last one (an ack with a
      // reply) says it has them all: one round trip a batch where a reply to each costs four times the throughput.
      // Published directly, not by JsMsg.ack(), which would refuse to send again when a failed ack is retried.
      await guard(() => {
        for (const [, raw] of ours.slice(0, -1)) nc.publish(replyOf(raw), ACK);
        return nc.request(replyOf(ours.at(-1)![1]), ACK, { timeout: ANSWER_TIMEOUT_MS });
      }, 'ack', ANSWER_TIMEOUT_MS + 1000);
      for (const [id, raw] of ours) if (held.get(id) === raw) held.delete(id);
    },
    async touch(messages) {
      const ours = mine(messages);
      if (ours.length === 0) return;
      await guard(() => {
        for (const [, raw] of ours) raw.working(); // +WPI: ack_wait starts again
        return nc.flush();
      }, 'touch');
    },
    async deadLetter(messages, reason) {
      const subject = settings.deadLetter;
      if (!subject) return false;
      const why = clip(reason.replace(/[\r\n]+/g, ' '), MAX_VALUE_BYTES);
      await Promise.all(messages.map(async (m) => {
        const hearth = { 'Hearth-Reason': why, 'Hearth-Stream': stream, 'Hearth-Subject': m.key, 'Hearth-Deliveries': String(m.deliveries) };
        const send = (withOriginal: boolean) => {
          const h = toNatsHeaders(hearth);
          // JetStream's own headers (Nats-Expected-*, Nats-Rollup, Nats-Msg-Id...) would act on the dead-letter stream: left out.
          if (withOriginal) try {
            for (const [k, vs] of held.get(m.id)?.headers ?? []) if (!/^nats-/i.test(k)) for (const v of vs) h.append(k, v);
          } catch { /* unreadable headers: the Hearth ones only */ }
          // The same id on a retry (a crash between publish and ack) is dropped by the stream's duplicate window.
          return guard(() => js.publish(subject, m.body, { headers: h, msgID: `hearth-dead-letter:${m.id}`, timeout: ANSWER_TIMEOUT_MS }), `dead letter to "${subject}"`);
        };
        await send(true).catch((err: unknown) => (/MAX_PAYLOAD|payload/i.test(String(err)) ? send(false) : Promise.reject(err)));
      }));
      return true;
    },
    async lag() {
      return (await guard(() => consumer.info(), 'consumer info')).num_pending;
    },
    async close() {
      if (closing) return;
      closing = true;
      // Handed back now rather than after ack_wait: at-least-once either way, and the next holder need not wait.
      nakAll(held.values());
      held.clear();
      await link.close();
    },
  };
}

/** A JetStream publisher to `subject`: `publish` resolves on the stream's PubAck. */
export async function openNatsPublisher(url: string, subject: string): Promise<BrokerPublisher> {
  const link = await openLink(url, true);
  const js = link.nc.jetstream();
  return {
    async publish(body, headers) {
      await link.guard(() => js.publish(subject, body, { headers: toNatsHeaders(headers), timeout: ANSWER_TIMEOUT_MS }), `publish to "${subject}"`);
    },
    close: () => link.close(),
  };
}

/**
 * Whether a trigger's settings can work, before they are stored: the broker
 * answers within 3 s, JetStream is on, the stream exists, the subject filter
 * can match some of its subjects, a named durable is one Hearth can use, and
 * a dead-letter subject is literal, captured by a stream and not read back by
 * this trigger (which would loop).
 */
export async function checkNatsSettings(settings: NatsSettings): Promise<void> {
  const link = await openLink(settings.url, false);
  try {
    const { jsm, info } = await openStream(link, settings.stream);
    const filter = settings.subject;
    const subjects = info.config.subjects ?? [];
    if (filter && subjects.length > 0 && !subjects.some((s) => subjectsCollide(s, filter))) {
      throw new SourceError(`nats: subject "${filter}" matches none of stream "${settings.stream}"'s subjects (${clip(subjects.join(', '), 300)})`);
    }
    const durable = settings.durable;
    if (durable) {
      const ci = await link.guard(() => jsm.consumers.info(settings.stream, durable), 'consumer info')
        .catch((err: unknown) => (apiCode(err) === CONSUMER_NOT_FOUND ? null : Promise.reject(err)));
      const refused = ci && unusable(ci, link.where);
      if (refused) throw refused;
    }
    const dead = settings.deadLetter;
    if (dead) {
      if (!/^[^.*>]+(\.[^.*>]+)*$/.test(dead)) throw new SourceError(`nats: deadLetter "${dead}" must be a subject without wildcards`);
      const owner = await link.guard(() => jsm.streams.find(dead), 'stream lookup').catch(() => {
        throw new SourceError(`nats: no stream on ${link.where} captures the deadLetter subject "${dead}"`);
      });
      if (owner === settings.stream && (!filter || subjectsCollide(filter, dead))) {
        throw new SourceError(`nats: deadLetter "${dead}" is in stream "${owner}" and read by this trigger, so dead letters would come back`);
      }
    }
  } finally {
    await link.close();
  }
}

/** One record of the event: text bodies as they are, others base64 with `bodyEncoding`. */
export interface NatsRecord {
  eventSource: 'hearth:nats';
  eventSourceARN: string;
  messageId: string;
  subject: string;
  body: string;
  bodyEncoding?: 'base64';
  attributes: Record<string, string>;
  /** Epoch ms the stream stored the message. */
  approximateArrivalTimestamp: number | null;
}

/** The event a batch invokes the function with: `{ Records }`, one per message, in order. */
export function natsEvent(messages: readonly SourceMessage[], context: { stream: string }): { Records: NatsRecord[] } {
  return {
    Records: messages.map((m) => ({
      eventSource: 'hearth:nats' as const,
      eventSourceARN: `nats:${context.stream}`,
      messageId: m.id,
      subject: m.key,
      ...(isUtf8(m.body) ? { body: m.body.toString('utf8') } : { body: m.body.toString('base64'), bodyEncoding: 'base64' as const }),
      attributes: m.attributes,
      approximateArrivalTimestamp: m.publishedAt,
    })),
  };
}
