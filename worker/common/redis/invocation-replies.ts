/**
 * Direct replies from a worker to the gateway waiting on a sync call. Each
 * gateway listens on its own Redis pub/sub channel; a sync job names it in
 * `replyTo`. The worker publishes the outcome the moment the function
 * returns, before it writes the record and completes the job, so the caller
 * does not wait on either. Pub/sub is best effort: the gateway also watches
 * the job itself (see `invocation-queue.ts`) and, at the end, the record.
 *
 * With each outcome it also sets a small "answered" key (in the same
 * pipeline, before the publish): a caller that looks the call up right
 * after its answer finds the job still active, sees the key, and waits the
 * moment it takes for the record rather than reading `running`.
 */
import type { RedisOptions } from 'ioredis';
import { openRedis } from './redis-client.ts';
import { replySchema, type Reply } from '../../contract/messages.ts';

function channel(prefix: string, gatewayId: string): string {
  return `${prefix}:replies:${gatewayId}`;
}

/** Set for a minute when a call's outcome is sent: it has finished, and its record is a moment away. */
export function answeredKey(prefix: string, invocationId: string): string {
  return `${prefix}:answered:${invocationId}`;
}
const ANSWERED_TTL_MS = 60_000;

export interface ReplyPublisher {
  /** Fire and forget: a lost reply only means the gateway learns the outcome later. */
  send(replyTo: string, reply: Reply): void;
  close(): Promise<void>;
}

export function createReplyPublisher(options: RedisOptions, prefix: string): ReplyPublisher {
  const redis = openRedis(options, 'reply publisher', 'commands');
  return {
    send(replyTo, reply) {
      const pipeline = redis.pipeline();
      if (reply.type === 'outcome') pipeline.set(answeredKey(prefix, reply.id), '1', 'PX', ANSWERED_TTL_MS);
      pipeline.publish(channel(prefix, replyTo), JSON.stringify(reply));
      pipeline.exec().catch(() => {});
    },
    async close() {
      redis.disconnect();
    },
  };
}

export interface ReplySubscription {
  close(): Promise<void>;
}

export async function subscribeReplies(
  options: RedisOptions,
  prefix: string,
  gatewayId: string,
  onReply: (reply: Reply) => void,
): Promise<ReplySubscription> {
  const redis = openRedis(options, 'reply subscriber', 'waiting');
  redis.on('message', (_channel: string, text: string) => {
    // A reply that does not parse is dropped: the caller then learns the outcome from the record.
    let reply: ReturnType<typeof replySchema.safeParse>;
    try {
      reply = replySchema.safeParse(JSON.parse(text));
    } catch {
      return;
    }
    if (reply.success) onReply(reply.data);
  });
  await redis.subscribe(channel(prefix, gatewayId));
  return {
    async close() {
      redis.disconnect();
    },
  };
}
