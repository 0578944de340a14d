/**
 * Quotas on queued async calls: how many, and how many bytes of events, a
 * function and a namespace may have waiting in Redis at once. Without them
 * one tenant's backlog (say 5 MB events to a `maxConcurrency: 1` function)
 * grows Redis without bound, and Redis runs out of memory for everyone.
 *
 * Part of the queue contract: the gateway admits a call before queueing it,
 * a worker releases it once the call has ended in any way (recorded, expired,
 * deleted, dead-lettered). Each scope keeps its calls in a sorted set scored
 * by when they stop counting, their sizes in a hash and the sum beside
 * them, all changed together in one Lua script: the sum is always the sum of
 * the members, a repeated admit of the same call counts it once, and a call
 * whose release was lost (a worker died) stops counting when its entry
 * expires, so the figures cannot drift for ever.
 */
import type { Redis } from 'ioredis';
import { QUEUED_CALL_TTL_MS, type QueuedCallLimits } from '../../contract/limits.ts';

/** What a call weighs against the byte quotas: its event and room for the rest of the job. */
export function queuedCallBytes(job: { event: string }): number {
  return Buffer.byteLength(job.event) + 1024;
}

/** The call that identifies an admitted job. */
export interface QueuedCall {
  invocationId: string;
  namespace: string;
  functionId: string;
}

/** Which quota refused a call. */
export interface QueuedCallRefusal {
  scope: 'function' | 'namespace';
  what: 'calls' | 'bytes';
  limit: number;
}

// KEYS: function ids, sizes, total; namespace ids, sizes, total.
// ARGV: now, id, bytes, countsUntil, fn calls, fn bytes, ns calls, ns bytes.
// Returns 0 (admitted, or already counted), 1 fn calls, 2 fn bytes, 3 ns calls, 4 ns bytes.
const ADMIT = `
local function purge(ids, sizes, total)
  local old = redis.call('ZRANGEBYSCORE', ids, '-inf', ARGV[1], 'LIMIT', 0, 200)
  for _, id in ipairs(old) do
    redis.call('DECRBY', total, tonumber(redis.call('HGET', sizes, id) or '0'))
    redis.call('HDEL', sizes, id)
    redis.call('ZREM', ids, id)
  end
end
purge(KEYS[1], KEYS[2], KEYS[3])
purge(KEYS[4], KEYS[5], KEYS[6])
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 0 end
local bytes = tonumber(ARGV[3])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[5]) then return 1 end
if tonumber(redis.call('GET', KEYS[3]) or '0') + bytes > tonumber(ARGV[6]) then return 2 end
if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[7]) then return 3 end
if tonumber(redis.call('GET', KEYS[6]) or '0') + bytes > tonumber(ARGV[8]) then return 4 end
for i = 1, 4, 3 do
  redis.call('ZADD', KEYS[i], ARGV[4], ARGV[2])
  redis.call('HSET', KEYS[i + 1], ARGV[2], bytes)
  redis.call('INCRBY', KEYS[i + 2], bytes)
  for j = i, i + 2 do redis.call('PEXPIREAT', KEYS[j], ARGV[4]) end
end
return 0
`;

// KEYS as for ADMIT; ARGV: id.
const RELEASE = `
for i = 1, 4, 3 do
  if redis.call('ZREM', KEYS[i], ARGV[1]) == 1 then
    redis.call('DECRBY', KEYS[i + 2], tonumber(redis.call('HGET', KEYS[i + 1], ARGV[1]) or '0'))
    redis.call('HDEL', KEYS[i + 1], ARGV[1])
  end
end
return 0
`;

const REFUSALS: Record<number, Omit<QueuedCallRefusal, 'limit'>> = {
  1: { scope: 'function', what: 'calls' },
  2: { scope: 'function', what: 'bytes' },
  3: { scope: 'namespace', what: 'calls' },
  4: { scope: 'namespace', what: 'bytes' },
};

type QuotaRedis = Redis & {
  hearthAdmitQueued(...args: Array<string | number>): Promise<number>;
  hearthReleaseQueued(...args: Array<string | number>): Promise<number>;
};

export interface QueuedCallQuota {
  /** Counts `call` (of `bytes`) against its function's and namespace's quotas, or says which one is full. */
  admit(call: QueuedCall, bytes: number, limits: QueuedCallLimits): Promise<QueuedCallRefusal | null>;
  /** The call has left the queue: it no longer counts. Idempotent. */
  release(call: QueuedCall): Promise<void>;
}

/** The quota over `redis`, a commands connection its owner closes (the gateway admits, a worker releases). */
export function createQueuedCallQuota(redis: Redis, prefix: string): QueuedCallQuota {
  const client = redis as QuotaRedis;
  client.defineCommand('hearthAdmitQueued', { numberOfKeys: 6, lua: ADMIT });
  client.defineCommand('hearthReleaseQueued', { numberOfKeys: 6, lua: RELEASE });
  const keysOf = (call: QueuedCall) => {
    const fn = `${prefix}:queued:function:${call.functionId}`;
    const ns = `${prefix}:queued:namespace:${call.namespace}`;
    return [`${fn}:ids`, `${fn}:sizes`, `${fn}:total`, `${ns}:ids`, `${ns}:sizes`, `${ns}:total`];
  };
  return {
    async admit(call, bytes, limits) {
      const now = Date.now();
      const { perFunction: fn, perNamespace: ns } = limits;
      const code = await client.hearthAdmitQueued(...keysOf(call), now, call.invocationId, bytes, now + QUEUED_CALL_TTL_MS, fn.calls, fn.bytes, ns.calls, ns.bytes);
      const refusal = REFUSALS[code];
      if (!refusal) return null;
      const limit = refusal.scope === 'function' ? fn[refusal.what] : ns[refusal.what];
      return { ...refusal, limit };
    },
    async release(call) {
      await client.hearthReleaseQueued(...keysOf(call), call.invocationId);
    },
  };
}
