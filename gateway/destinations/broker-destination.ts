/**
 * Publishing a destination record to a broker the user runs: a Redis
 * stream, an AMQP queue or a NATS JetStream subject, through the trigger
 * sources' publishers (`triggers/sources/`). One connection per delivery,
 * closed after: deliveries are rare next to calls, and a held connection
 * per destination would be a connection per tenant's broker per gateway.
 *
 * The connection goes to the address the outbound guard checked: for plain
 * schemes the URL's host is replaced by that address before the client
 * sees it. TLS schemes (`rediss`, `amqps`, `tls`) keep their name, which the
 * certificate check needs; a rebinding answer then meets a server that
 * cannot prove that name.
 */
import type { BrokerPublisher } from '../triggers/event-source.ts';
import { openAmqpPublisher } from '../triggers/sources/amqp-source.ts';
import { openNatsPublisher } from '../triggers/sources/nats-source.ts';
import { openRedisStreamPublisher } from '../triggers/sources/redis-stream-source.ts';
import type { Destination } from './destination-config.ts';
import type { OutboundAllowed } from './outbound-guard.ts';

export type BrokerDestination = Extract<Destination, { type: 'redis-stream' | 'amqp' | 'nats' }>;

/** Opens a publisher per broker type (the real ones, or a test's). */
export interface BrokerPublishers {
  'redis-stream'(url: string, stream: string): Promise<BrokerPublisher>;
  amqp(url: string, queue: string): Promise<BrokerPublisher>;
  nats(url: string, subject: string): Promise<BrokerPublisher>;
}

export const BROKER_PUBLISHERS: BrokerPublishers = {
  'redis-stream': openRedisStreamPublisher,
  amqp: openAmqpPublisher,
  nats: openNatsPublisher,
};

const TLS_SCHEMES = new Set(['rediss:', 'amqps:', 'tls:']);

/** `url` pointing at the checked address (plain schemes), or as it was (TLS). */
export function pinnedUrl(url: string, allowed: OutboundAllowed): string {
  const pinned = new URL(url);
  if (TLS_SCHEMES.has(pinned.protocol)) return url;
  pinned.hostname = allowed.family === 6 ? `[${allowed.address}]` : allowed.address;
  return pinned.href;
}

/** Opens, publishes once and closes, within `timeoutMs`; rejects with why it failed. */
export async function publishToBroker(
  publishers: BrokerPublishers,
  destination: BrokerDestination,
  allowed: OutboundAllowed,
  message: { body: Buffer; headers: Record<string, string> },
  timeoutMs: number,
): Promise<void> {
  const url = pinnedUrl(destination.url, allowed);
  let publisher: BrokerPublisher | null = null;
  let timedOut = false;
  const work = (async () => {
    const opened =
      destination.type === 'redis-stream'
        ? await publishers['redis-stream'](url, destination.stream)
        : destination.type === 'amqp'
          ? await publishers.amqp(url, destination.queue)
          : await publishers.nats(url, destination.subject);
    publisher = opened;
    // Opened after the deadline: nobody waits for it any more.
    if (timedOut) return;
    await opened.publish(message.body, message.headers);
  })();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          reject(new Error(`the broker did not confirm within ${timeoutMs / 1000} s`));
        }, timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    // The publisher may open after the deadline: closed then too.
    void work.catch(() => {}).finally(() => (publisher as BrokerPublisher | null)?.close().catch(() => {}));
  }
}
