/**
 * Broadcasts from a gateway to every worker and every other gateway that do not belong in the
 * invocation queue (they are not work, and every worker must see them).
 * Redis pub/sub: best effort, which suits its uses: a deleted function's idle
 * containers would otherwise linger only until their keep-alive ends, and a
 * changed `minWarm` would otherwise wait for the next periodic reconcile.
 */
import type { RedisOptions } from 'ioredis';
import { openRedis } from './redis-client.ts';
import { controlMessageSchema, type ControlMessage } from '../../contract/messages.ts';

function channelName(prefix: string): string {
  return `${prefix}:control`;
}

export interface ControlPublisher {
  publish(message: ControlMessage): Promise<void>;
  close(): Promise<void>;
}

export function createControlPublisher(options: RedisOptions, prefix: string): ControlPublisher {
  const redis = openRedis(options, 'control publisher', 'commands', { lazyConnect: true });
  return {
    async publish(message) {
      await redis.publish(channelName(prefix), JSON.stringify(message));
    },
    async close() {
      redis.disconnect();
    },
  };
}

export interface ControlSubscription {
  close(): Promise<void>;
}

export async function subscribeControl(
  options: RedisOptions,
  prefix: string,
  onMessage: (message: ControlMessage) => void,
): Promise<ControlSubscription> {
  const redis = openRedis(options, 'control subscriber', 'waiting');
  redis.on('message', (_channel: string, text: string) => {
    // A malformed broadcast is ignored; nothing depends on it arriving.
    let parsed: ReturnType<typeof controlMessageSchema.safeParse>;
    try {
      parsed = controlMessageSchema.safeParse(JSON.parse(text));
    } catch {
      return;
    }
    if (parsed.success) onMessage(parsed.data);
  });
  await redis.subscribe(channelName(prefix));
  return {
    async close() {
      redis.disconnect();
    },
  };
}
