/**
 * One pub/sub channel heard on a subscriber connection, each message checked
 * with a schema where it is read: what does not parse is dropped (pub/sub is
 * best effort here, and every listener has another way to learn the same).
 */
import type { Redis } from 'ioredis';
import type { z } from 'zod';

export interface Subscription {
  /** Stops delivering messages; the connection stays its owner's to close. */
  close(): Promise<void>;
}

/** Calls `onMessage` with every message on `channel` that parses as `schema`, from now on. */
export async function subscribeChannel<T>(
  subscriber: Redis,
  channel: string,
  schema: z.ZodType<T>,
  onMessage: (message: T) => void,
): Promise<Subscription> {
  const onText = (from: string, text: string) => {
    if (from !== channel) return;
    let parsed: z.ZodSafeParseResult<T>;
    try {
      parsed = schema.safeParse(JSON.parse(text));
    } catch {
      return;
    }
    if (parsed.success) onMessage(parsed.data);
  };
  subscriber.on('message', onText);
  await subscriber.subscribe(channel);
  return {
    async close() {
      subscriber.off('message', onText);
      // Best effort: the connection is closed next, and an outage is already in the log.
      await subscriber.unsubscribe(channel).catch(() => {});
    },
  };
}
