/**
 * Concurrency limits (a function's `maxConcurrency`, a namespace's quota),
 * shared by every worker through Redis: each running invocation holds a lease
 * in every scope that limits it (a sorted-set member
 * scored by its expiry), taken atomically only while fewer than the limit
 * are held. Leases expire on their own, so a worker that dies mid-call
 * cannot hold a slot forever.
 */
import { Redis, type RedisOptions } from 'ioredis';

const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
  return 1
end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
  redis.call('PEXPIREAT', KEYS[1], ARGV[4])
  return 1
end
return 0
`;

export interface ConcurrencyGate {
  /** Takes a slot in `scope` for `invocationId` if fewer than `max` are held; holds it at most `ttlMs`. */
  tryAcquire(scope: string, invocationId: string, max: number, ttlMs: number): Promise<boolean>;
  release(scope: string, invocationId: string): Promise<void>;
  close(): Promise<void>;
}

type GateRedis = Redis & { hearthAcquire(key: string, now: number, max: number, id: string, expiresAt: number): Promise<number> };

export function createRedisConcurrencyGate(options: RedisOptions, prefix: string): ConcurrencyGate {
  const redis = new Redis({ ...options, maxRetriesPerRequest: 3 }) as GateRedis;
  redis.on('error', () => {});
  redis.defineCommand('hearthAcquire', { numberOfKeys: 1, lua: ACQUIRE });
  const key = (scope: string) => `${prefix}:concurrency:${scope}`;
  return {
    async tryAcquire(scope, invocationId, max, ttlMs) {
      const now = Date.now();
      return (await redis.hearthAcquire(key(scope), now, max, invocationId, now + ttlMs)) === 1;
    },
    async release(scope, invocationId) {
      await redis.zrem(key(scope), invocationId);
    },
    async close() {
      redis.disconnect();
    },
  };
}
