/**
 * Broadcasts from a gateway to every worker and every other gateway that do not belong in the
 * invocation queue (they are not work, and every worker must see them).
 * Redis pub/sub: best effort, which suits its uses: a deleted function's idle
 * containers would otherwise linger only until their keep-alive ends, and a
 * changed `minWarm` would otherwise wait for the next periodic reconcile.
 */
import type { Redis } from 'ioredis';
import { controlMessageSchema, type ControlMessage } from '../../contract/messages.ts';
import { subscribeChannel, type Subscription } from './channel-subscription.ts';

function channelName(prefix: string): string {
  return `${prefix}:control`;
}

/** Sends broadcasts (a gateway). */
export interface ControlPublisher {
  /** Rejects while Redis is away: the caller decides whether that matters. */
  publish(message: ControlMessage): Promise<void>;
}

/** Hears broadcasts (workers and gateways). */
export interface ControlListener {
  /** Calls `onMessage` with every well-formed broadcast from now on; a malformed one is ignored (nothing depends on it arriving). */
  listen(onMessage: (message: ControlMessage) => void): Promise<Subscription>;
}

/** Broadcasts over `redis`, a commands connection its owner closes. */
export function createControlPublisher(redis: Redis, prefix: string): ControlPublisher {
  return {
    async publish(message) {
      await redis.publish(channelName(prefix), JSON.stringify(message));
    },
  };
}

/** Broadcasts heard on `subscriber`, a connection in subscriber mode (`waiting` through outages) its owner closes. */
export function createControlListener(subscriber: Redis, prefix: string): ControlListener {
  return {
    listen: (onMessage) => subscribeChannel(subscriber, channelName(prefix), controlMessageSchema, onMessage),
  };
}
