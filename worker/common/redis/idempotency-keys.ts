/**
 * Idempotency keys of async calls: a caller that sends the same key twice
 * (per namespace and function) within a day queues the call once. The key
 * is stored hashed, so what a client chose as a key never sits in Redis.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** How long an idempotency key keeps naming its invocation. */
const IDEMPOTENCY_TTL_S = 24 * 3600;

export interface IdempotencyKeys {
  /** Marks `key` as seen for a day; false when it already was. Rejects while Redis is away. */
  claim(namespace: string, functionId: string, key: string): Promise<boolean>;
}

/** Keys over `redis`, a connection its owner closes (the gateway's fails at once while Redis is away). */
export function createIdempotencyKeys(redis: Redis, prefix: string): IdempotencyKeys {
  return {
    async claim(namespace, functionId, key) {
      const redisKey = `${prefix}:idempotency:${namespace}:${functionId}:${createHash('sha256').update(key).digest('hex')}`;
      return (await redis.set(redisKey, '1', 'EX', IDEMPOTENCY_TTL_S, 'NX')) === 'OK';
    },
  };
}
