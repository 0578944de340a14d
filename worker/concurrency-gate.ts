/**
 * Per-function concurrency limits (`maxConcurrency`), shared by every worker
 * through Redis: each running invocation holds a lease (a sorted-set member
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
  /** Takes a slot for `invocationId` if fewer than `max` are held; holds it at most `ttlMs`. */
  tryAcquire(functionId: string, invocationId: string, max: number, ttlMs: number): Promise<boolean>;
  release(functionId: string, invocationId: string): Promise<void>;
  close(): Promise<void>;
}

type GateRedis = Redis & { hearthAcquire(key: string, now: number, max: number, id: string, expiresAt: number): Promise<number> };

export function createRedisConcurrencyGate(options: RedisOptions, prefix: string): ConcurrencyGate {
  const redis = new Redis({ ...options, maxRetriesPerRequest: 3 }) as GateRedis;
  redis.on('error', () => {});
  redis.defineCommand('hearthAcquire', { numberOfKeys: 1, lua: ACQUIRE });
  const key = (functionId: string) => `${prefix}:concurrency:${functionId}`;
  return {
    async tryAcquire(functionId, invocationId, max, ttlMs) {
      const now = Date.now();
      return (await redis.hearthAcquire(key(functionId), now, max, invocationId, now + ttlMs)) === 1;
    },
    async release(functionId, invocationId) {
      await redis.zrem(key(functionId), invocationId);
    },
    async close() {
      redis.disconnect();
    },
  };
}
