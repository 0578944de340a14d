/**
 * The event a redis-stream trigger's function receives for one batch. Pure:
 * built from the messages the source handed over.
 */
import { isUtf8 } from 'node:buffer';
import type { SourceMessage } from '../event-source.ts';

/** One record of the event a redis-stream trigger's function receives. */
export interface RedisStreamRecord {
  eventSource: 'hearth:redis-stream';
  eventSourceARN: string;
  messageId: string;
  /** The body as UTF-8 text, or base64 (then `bodyEncoding: "base64"`) when it is not valid UTF-8. */
  body: string;
  bodyEncoding?: 'base64';
  attributes: Record<string, string>;
  /** Seconds since the epoch with ms decimals, as Kinesis gives it; null when unknown. */
  approximateArrivalTimestamp: number | null;
  redis: { stream: string; group: string; deliveries: number };
}

/**
 * The event a batch becomes, shaped like Lambda's Kinesis and SQS events
 * (`Records`, `messageId` for `batchItemFailures`), so handlers written for
 * those need only their field names changed. Pure.
 */
export function redisStreamEvent(messages: readonly SourceMessage[], context: { stream: string; group: string }): { Records: RedisStreamRecord[] } {
  return {
    Records: messages.map((m) => {
      const text = isUtf8(m.body);
      return {
        eventSource: 'hearth:redis-stream',
        eventSourceARN: `redis-stream:${context.stream}`,
        messageId: m.id,
        body: m.body.toString(text ? 'utf8' : 'base64'),
        ...(text ? {} : { bodyEncoding: 'base64' as const }),
        attributes: Object.fromEntries(Object.entries(m.attributes)),
        approximateArrivalTimestamp: m.publishedAt === null ? null : m.publishedAt / 1000,
        redis: { stream: context.stream, group: context.group, deliveries: m.deliveries },
      };
    }),
  };
}
