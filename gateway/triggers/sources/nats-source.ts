/**
 * The NATS JetStream adapter behind `EventSource`: one connection per
 * trigger and one durable pull consumer (explicit acks) on the user's
 * stream. Messages are held by JetStream as "ack pending" until acked; a
 * held message comes back after `ack_wait` (30 s) unless touched (`+WPI`),
 * so a process that dies hands its messages to the next lease holder, and a
 * clean close naks them so the next holder gets them at once. Also the
 * PubAck'd publisher (dead letters, broker destinations) and the check run
 * before a trigger is stored; the connection and its guard are
 * `nats-connection.ts`'s, the messages and the event they make
 * `nats-event.ts`'s.
 */
import {
  AckPolicy, DeliverPolicy, nanos,
  type Consumer, type ConsumerInfo, type ConsumerUpdateConfig, type JetStreamManager, type JsMsg,
} from 'nats';
import { SourceError, type BrokerPublisher, type EventSource, type SourceMessage } from '../event-source.ts';
import type { NatsSettings } from '../trigger-settings.ts';
import { ANSWER_TIMEOUT_MS, apiCode, codeOf, describeError, openLink, type Link } from './nats-connection.ts';
import { clip, MAX_VALUE_BYTES, toNatsHeaders, toSourceMessage } from './nats-event.ts';

export { natsEvent, type NatsRecord } from './nats-event.ts';

/** The smallest expiry `consumer.fetch` takes, and the wait of a pull that finds nothing. */
const FETCH_MIN_MS = 1000;
const ACK_WAIT_MS = 30_000;
/**
 * Bytes one pull may hold: a fetch asks for no more messages than fit when
 * each is as large as the broker allows (its max_payload, or the stream's
 * max_msg_size when smaller), so a flood of big messages is never more.
 */
const PULL_BYTE_BUDGET = 32 * 1024 * 1024;
const ACK = new TextEncoder().encode('+ACK');

/** A delivery's JetStream metadata, or none for a message whose reply subject is not JetStream's (skipped). */
const infoOf = (raw: JsMsg) => { try { return raw.info; } catch { return null; } };
/** The ack subject (the client has it on every message, not in the type). */
const replyOf = (raw: JsMsg) => (raw as JsMsg & { reply: string }).reply;

type Log = { warn(msg: string, fields?: object): void };

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
    throw err instanceof SourceError ? err : new SourceError(`nats: cannot open stream "${stream}" on ${link.where}: ${describeError(err)}`);
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
