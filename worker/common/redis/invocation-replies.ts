/**
 * Direct replies from a worker to the gateway waiting on a sync call. Each
 * gateway listens on its own Redis pub/sub channel; a sync job names it in
 * `replyTo`. The worker publishes the outcome the moment the function
 * returns, before it writes the record and completes the job, so the caller
 * does not wait on either. Pub/sub is best effort: the gateway also watches
 * the job itself (see `gateway/queue/outcome-waiters.ts`) and, at the end, the record.
 *
 * With each outcome it also sets a small "answered" key (in the same
 * pipeline, before the publish): a caller that looks the call up right
 * after its answer finds the job still active, sees the key, and waits the
 * moment it takes for the record rather than reading `running`.
 */
import type { Redis } from 'ioredis';
import { replySchema, type Reply } from '../../contract/messages.ts';
import { subscribeChannel, type Subscription } from './channel-subscription.ts';

function channel(prefix: string, gatewayId: string): string {
  return `${prefix}:replies:${gatewayId}`;
}

/** Set for a minute when a call's outcome is sent: it has finished, and its record is a moment away. */
function answeredKey(prefix: string, invocationId: string): string {
  return `${prefix}:answered:${invocationId}`;
}
const ANSWERED_TTL_MS = 60_000;

/** A worker's side: tells the gateway waiting on a sync call how it went. */
export interface ReplyPublisher {
  /** Fire and forget: a lost reply only means the gateway learns the outcome later. */
  send(replyTo: string, reply: Reply): void;
}

/** Replies over `redis`, a commands connection its owner closes. */
export function createReplyPublisher(redis: Redis, prefix: string): ReplyPublisher {
  return {
    send(replyTo, reply) {
      const pipeline = redis.pipeline();
      if (reply.type === 'outcome') pipeline.set(answeredKey(prefix, reply.id), '1', 'PX', ANSWERED_TTL_MS);
      pipeline.publish(channel(prefix, replyTo), JSON.stringify(reply));
      // Lost with Redis away: the client has said so in the log, and the caller falls back to the job and the record.
      pipeline.exec().catch(() => {});
    },
  };
}

/** A gateway's side: hears the replies sent to it. */
export interface ReplyListener {
  /** Calls `onReply` with every well-formed reply sent to `gatewayId` from now on. */
  listen(gatewayId: string, onReply: (reply: Reply) => void): Promise<Subscription>;
  /** True for a minute after a call's outcome was sent (its record is then a moment away). */
  isAnswered(invocationId: string): Promise<boolean>;
}

/**
 * Replies heard on `subscriber` (a connection in subscriber mode, `waiting`
 * through outages); `isAnswered` looks over `commands`. Both are the owner's to close.
 */
export function createReplyListener(subscriber: Redis, commands: Redis, prefix: string): ReplyListener {
  return {
    listen(gatewayId, onReply) {
      // A reply that does not parse is dropped: the caller then learns the outcome from the record.
      return subscribeChannel(subscriber, channel(prefix, gatewayId), replySchema, onReply);
    },
    async isAnswered(invocationId) {
      return (await commands.exists(answeredKey(prefix, invocationId))) === 1;
    },
  };
}
