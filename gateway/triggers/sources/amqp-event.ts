/**
 * What one AMQP delivery becomes: the port's `SourceMessage` (id, key,
 * bounded attributes, delivery count, publish time) and, for a batch, the
 * function's event. Pure, so the mapping of hostile input is unit-tested
 * without a broker.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { ConsumeMessage } from 'amqplib';
import type { SourceMessage } from '../event-source.ts';
import type { AmqpSettings } from '../trigger-settings.ts';

export const MAX_ID_CHARS = 200;
export const MAX_ATTRIBUTES = 64;
export const MAX_ATTRIBUTE_BYTES = 1024;
/** The basic properties a message may carry, in attributes and in the event under these names. */
const PROPERTIES = ['contentType', 'contentEncoding', 'deliveryMode', 'priority', 'correlationId', 'replyTo', 'expiration',
  'messageId', 'timestamp', 'type', 'userId', 'appId', 'clusterId'] as const;
/** Delivery fields put in attributes before the properties and the headers (which never override them). */
const FIELDS = ['exchange', 'routingKey', 'redelivered'] as const;
/** Headers the broker adds or changes on redelivery and dead-lettering: left out of the digest so the id stays put. */
const BROKER_HEADERS = /^x-(delivery-count|death|first-death-.*|last-death-.*)$/;

import { clip } from './bounded-text.ts';
export { clip };

/** A URL component decoded, or as it is when it is not valid percent-encoding (a hostile URL must not throw). */
export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** JSON text of a table or array with Buffers as base64 (JSON alone would spell every byte out). */
function textReplacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  return Buffer.isBuffer(raw) ? raw.toString('base64') : typeof value === 'bigint' ? String(value) : value;
}

/** A header or property value as text: Buffers as base64, tables and arrays as JSON. */
function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value !== 'object') return String(value);
  try {
    return JSON.stringify(value, textReplacer) ?? '';
  } catch {
    return '[unreadable]';
  }
}

/** JSON with sorted keys and typed bytes, so equal tables give equal text whatever their order. */
function canonicalReplacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (Buffer.isBuffer(raw)) return { $bytes: raw.toString('base64') };
  if (typeof value === 'bigint') return String(value);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const table = value as Record<string, unknown>;
    return Object.fromEntries(Object.keys(table).sort().map((k) => [k, table[k]]));
  }
  return value;
}

/** Header values in one order-independent text, for the digest id. */
function canonicalHeaders(headers: Record<string, unknown>): string {
  const kept = Object.keys(headers).filter((k) => !BROKER_HEADERS.test(k)).sort();
  try {
    return JSON.stringify(kept.map((k) => [k, headers[k]]), canonicalReplacer);
  } catch {
    return '[unreadable]';
  }
}

/** The message's id: its messageId when it has one, else a digest of body and headers (the same on every redelivery). */
function messageIdOf(raw: ConsumeMessage): string {
  const given = raw.properties.messageId;
  if (typeof given === 'string' && given !== '') {
    const id = given.slice(0, MAX_ID_CHARS);
    return /[\ud800-\udbff]$/.test(id) ? id.slice(0, -1) : id;
  }
  const digest = createHash('sha256').update(`${raw.content.length}:`).update(raw.content);
  digest.update(canonicalHeaders((raw.properties.headers ?? {}) as Record<string, unknown>));
  return `sha256:${digest.digest('hex')}`;
}

/** Adds one attribute unless the budget is spent or the name is taken (fields and properties come first and win). */
function addAttribute(entries: Array<[string, string]>, seen: Set<string>, name: string, value: unknown): void {
  const key = clip(name, MAX_ATTRIBUTE_BYTES);
  if (entries.length >= MAX_ATTRIBUTES || seen.has(key)) return;
  seen.add(key);
  entries.push([key, clip(asText(value), MAX_ATTRIBUTE_BYTES)]);
}

/** What the port hands over for one delivery; every field bounded, nothing trusted. */
export function toSourceMessage(raw: ConsumeMessage): SourceMessage {
  const props = raw.properties as unknown as Record<string, unknown>;
  const headers = (props.headers ?? {}) as Record<string, unknown>;
  const entries: Array<[string, string]> = [];
  const seen = new Set<string>();
  const fields = raw.fields as unknown as Record<string, unknown>;
  for (const name of FIELDS) addAttribute(entries, seen, name, fields[name]);
  for (const name of PROPERTIES) if (props[name] !== undefined && props[name] !== null) addAttribute(entries, seen, name, props[name]);
  for (const name of Object.keys(headers)) {
    if (entries.length >= MAX_ATTRIBUTES) break;
    addAttribute(entries, seen, name, headers[name]);
  }
  const count = headers['x-delivery-count'];
  const counted = typeof count === 'number' && Number.isSafeInteger(count) && count >= 0 ? count + 1 : 0;
  const stamp = props.timestamp;
  const publishedAt = typeof stamp === 'number' && stamp > 0 && stamp * 1000 <= 8.64e15 ? Math.round(stamp * 1000) : null;
  return {
    id: messageIdOf(raw),
    key: clip(String(raw.fields.routingKey ?? ''), MAX_ATTRIBUTE_BYTES),
    body: raw.content,
    attributes: Object.fromEntries(entries),
    deliveries: Math.max(counted, raw.fields.redelivered ? 2 : 1),
    publishedAt,
  };
}

/** What `amqpEvent` needs besides the messages, from a trigger's settings (the vhost is the URL's path, `/` by default). */
export function amqpEventContext(settings: Pick<AmqpSettings, 'url' | 'queue'>): { queue: string; vhost: string } {
  const path = new URL(settings.url).pathname.slice(1);
  return { queue: settings.queue, vhost: path === '' ? '/' : safeDecode(path) };
}

const numberOr = (text: string | undefined) => (text !== undefined && /^\d+$/.test(text) ? Number(text) : null);

/**
 * The event a batch invokes the function with, shaped like Lambda's Amazon
 * MQ for RabbitMQ event (`rmqMessagesByQueue`, keyed `queue::vhost`, body
 * base64 in `data`), plus `Records` as every Hearth source has them. Header
 * values are the strings of `attributes` (Lambda gives `{bytes: [...]}`).
 */
export function amqpEvent(messages: readonly SourceMessage[], context: { queue: string; vhost?: string }) {
  const known = new Set<string>([...PROPERTIES, ...FIELDS]);
  const basicProperties = (m: SourceMessage) => {
    const a = m.attributes;
    const text = (name: string) => a[name] ?? null;
    return {
      contentType: text('contentType'), contentEncoding: text('contentEncoding'),
      headers: Object.fromEntries(Object.entries(a).filter(([k]) => !known.has(k))),
      deliveryMode: numberOr(a.deliveryMode), priority: numberOr(a.priority),
      correlationId: text('correlationId'), replyTo: text('replyTo'), expiration: text('expiration'),
      messageId: text('messageId'), timestamp: m.publishedAt === null ? null : new Date(m.publishedAt).toISOString(),
      type: text('type'), userId: text('userId'), appId: text('appId'), clusterId: text('clusterId'), bodySize: m.body.length,
    };
  };
  return {
    eventSource: 'hearth:amqp',
    eventSourceArn: `amqp:${context.queue}`,
    rmqMessagesByQueue: Object.fromEntries([[`${context.queue}::${context.vhost ?? '/'}`, messages.map((m) => ({
      basicProperties: basicProperties(m),
      redelivered: m.attributes.redelivered === 'true' || m.deliveries > 1,
      data: m.body.toString('base64'),
    }))]]),
    Records: messages.map((m) => (isUtf8(m.body)
      ? { messageId: m.id, body: m.body.toString('utf8'), attributes: m.attributes }
      : { messageId: m.id, body: m.body.toString('base64'), bodyEncoding: 'base64' as const, attributes: m.attributes })),
  };
}
