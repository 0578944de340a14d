/**
 * Idempotency keys of async calls: a caller that sends the same key twice
 * (per namespace and function) within a day queues the call once. The key
 * is stored hashed, so what a client chose as a key never sits in Redis.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** How long an idempotency key keeps naming its invocation. */
const IDEMPOTENCY_TTL_S = 24 * 3600;

/** What a claim found: the first use of the key, or a repeat with the first call's queued time (null when not kept). */
export interface IdempotencyClaim {
  first: boolean;
  /**
   * When the first call was queued (epoch ms). A repeat queued again uses it, so
   * its record has the same (id, queued_at) key and is written once.
   */
  firstEnqueuedAt: number | null;
}

export interface IdempotencyKeys {
  /** Marks `key` as seen for a day, keeping `enqueuedAt`; says whether it already was. Rejects while Redis is away. */
  claim(namespace: string, functionId: string, key: string, enqueuedAt: number): Promise<IdempotencyClaim>;
}

/** Keys over `redis`, a connection its owner closes (the gateway's fails at once while Redis is away). */
export function createIdempotencyKeys(redis: Redis, prefix: string): IdempotencyKeys {
  return {
    async claim(namespace, functionId, key, enqueuedAt) {
      const redisKey = `${prefix}:idempotency:${namespace}:${functionId}:${createHash('sha256').update(key).digest('hex')}`;
      if ((await redis.set(redisKey, String(enqueuedAt), 'EX', IDEMPOTENCY_TTL_S, 'NX')) === 'OK') return { first: true, firstEnqueuedAt: enqueuedAt };
      const kept = Number(await redis.get(redisKey));
      // Keys written before queued times were kept hold "1".
      return { first: false, firstEnqueuedAt: Number.isSafeInteger(kept) && kept > 1 ? kept : null };
    },
  };
}
