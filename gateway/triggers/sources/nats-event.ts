/**
 * What one JetStream message becomes, and what Hearth's headers become on
 * the wire: the port's `SourceMessage` (id, key, bounded attributes,
 * delivery count, stream time), the headers NATS accepts for a publish, and
 * the function's event for a batch (`natsEvent`). Pure, with no connection,
 * so the mapping of hostile input is kept apart from the pull machinery.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { headers as natsHeaders, type JsMsg, type MsgHdrs } from 'nats';
import type { SourceMessage } from '../event-source.ts';

const MAX_ATTRIBUTES = 64;
const MAX_KEY_BYTES = 256;
/** The most bytes of a header value, a subject or a dead letter's reason. */
export const MAX_VALUE_BYTES = 1024;

type Log = { warn(msg: string, fields?: object): void };

import { clip } from './bounded-text.ts';
export { clip };

/** `${stream}:${sequence}`, the stream name digested when it would pass 200 characters. */
function messageId(stream: string, sequence: number): string {
  const name = stream.length <= 160 ? stream : `${stream.slice(0, 100)}~${createHash('sha256').update(stream).digest('hex').slice(0, 16)}`;
  return `${name}:${sequence}`;
}

/** What the port hands over for one JetStream message; every field bounded, nothing trusted. */
export function toSourceMessage(m: JsMsg, stream: string, log?: Log): SourceMessage {
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
export function toNatsHeaders(record: Record<string, string>, into: MsgHdrs = natsHeaders()): MsgHdrs {
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
