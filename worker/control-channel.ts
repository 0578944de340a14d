/**
 * Broadcasts from a gateway to every worker and every other gateway that do not belong in the
 * invocation queue (they are not work, and every worker must see them).
 * Redis pub/sub: best effort, which suits its uses: a deleted function's idle
 * containers would otherwise linger only until their keep-alive ends, and a
 * changed `minWarm` would otherwise wait for the next periodic reconcile.
 */
import type { RedisOptions } from 'ioredis';
import { openRedis } from './common/redis-client.ts';

export type ControlMessage =
  | {
      /** A deploy or rollback (what `latest` is, and what is provisioned, may have changed), or a deletion. */
      type: 'function-changed' | 'function-deleted';
      namespace: string;
      name: string;
      functionId?: string;
    }
  /** A key was revoked: gateways forget it at once. */
  | { type: 'key-revoked'; keyHash: string }
  /** A namespace's settings (its quota) changed. */
  | { type: 'namespace-changed'; namespace: string };

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
    try {
      onMessage(JSON.parse(text) as ControlMessage);
    } catch {
      // A malformed broadcast is ignored; nothing depends on it arriving.
    }
  });
  await redis.subscribe(channelName(prefix));
  return {
    async close() {
      redis.disconnect();
    },
  };
}
