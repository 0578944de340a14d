/**
 * Concurrency limits (a function's `maxConcurrency`, a namespace's quota),
 * shared by every worker through Redis: each running invocation holds a lease
 * in every scope that limits it (a sorted-set member
 * scored by its expiry), taken atomically only while fewer than the limit
 * are held. Leases expire on their own, so a worker that dies mid-call
 * cannot hold a slot forever.
 *
 * A call refused a slot is *parked* (a sorted set of parked calls per scope,
 * oldest first) and put back in the queue delayed; whoever releases a lease
 * takes the oldest parked call of that scope out and wakes it. So parked
 * calls do not poll Redis, and a freed slot is taken at once. Their own
 * delay (a growing back-off) only covers a wake that was lost.
 */
import type { Redis } from 'ioredis';

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

// KEYS: leases, parked. ARGV: now, max, member, parked until, rank (oldest first).
// Parks `member`; returns 1 if a slot is free by now (a release came first: the caller wakes itself).
const PARK = `
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[3])
redis.call('PEXPIREAT', KEYS[2], ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[2], ARGV[3])
  return 1
end
return 0
`;

// KEYS: leases, parked. ARGV: invocation id. Returns the oldest parked call, taken out, or false.
const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
local next = redis.call('ZPOPMIN', KEYS[2])
return next[1] or false
`;

export interface ConcurrencyGate {
  /** Takes a slot in `scope` for `invocationId` if fewer than `max` are held; holds it at most `ttlMs`. */
  tryAcquire(scope: string, invocationId: string, max: number, ttlMs: number): Promise<boolean>;
  /**
   * Parks `member` (an opaque name of a call put back in the queue) in
   * `scope`, to be woken by a release, lowest `rank` (its enqueue time) first. True when a slot is free by
   * now (a release came between the refusal and the parking): then it is
   * not parked and the caller wakes it itself.
   */
  park(scope: string, member: string, max: number, rank: number): Promise<boolean>;
  /** Gives the slot back; returns the oldest call parked in `scope` (taken out: the caller wakes it), or null. */
  release(scope: string, invocationId: string): Promise<string | null>;
  /** Takes the next parked call out of `scope` (after a wake found its call gone), or null. */
  nextParked(scope: string): Promise<string | null>;
  /** Takes every call parked in `scope` out (its function was deleted: they end at once, unrun). */
  takeAllParked(scope: string): Promise<string[]>;
}

/**
 * How long a call refused a slot stays parked before it looks again by
 * itself, if no release wakes it first (so this only bounds a lost wake: a
 * worker that died holding a lease, a Redis hiccup). An async call waits as
 * long again as it has waited so far (doubling: 1 s, 2 s, 4 s … up to a
 * minute), so a long backlog costs Redis almost nothing; a sync call, whose
 * caller waits seconds at most, half that, from 100 ms up to 1 s. Jittered
 * ±25% so parked calls spread out; no per-attempt state to keep.
 */
export function parkedRetryMs(waitedMs: number, sync: boolean, random: () => number = Math.random): number {
  const base = sync ? Math.min(1000, Math.max(100, waitedMs / 2)) : Math.min(60_000, Math.max(1000, waitedMs));
  return Math.round(base * (0.75 + random() * 0.5));
}

/** A parked call forgotten this long (its wake lost, its job gone) is dropped with its set. */
const PARKED_TTL_MS = 15 * 60_000;

type GateRedis = Redis & {
  hearthAcquire(key: string, now: number, max: number, id: string, expiresAt: number): Promise<number>;
  hearthPark(leases: string, parked: string, now: number, max: number, member: string, until: number, rank: number): Promise<number>;
  hearthRelease(leases: string, parked: string, id: string): Promise<string | null>;
};

/** The gate over `client`, a connection of its own (opened `patient`: a lease may wait a little for a reconnect) that its owner closes. */
export function createRedisConcurrencyGate(client: Redis, prefix: string): ConcurrencyGate {
  const redis = client as GateRedis;
  redis.defineCommand('hearthAcquire', { numberOfKeys: 1, lua: ACQUIRE });
  redis.defineCommand('hearthPark', { numberOfKeys: 2, lua: PARK });
  redis.defineCommand('hearthRelease', { numberOfKeys: 2, lua: RELEASE });
  const key = (scope: string) => `${prefix}:concurrency:${scope}`;
  const parkedKey = (scope: string) => `${prefix}:concurrency-parked:${scope}`;
  return {
    async tryAcquire(scope, invocationId, max, ttlMs) {
      const now = Date.now();
      return (await redis.hearthAcquire(key(scope), now, max, invocationId, now + ttlMs)) === 1;
    },
    async park(scope, member, max, rank) {
      const now = Date.now();
      return (await redis.hearthPark(key(scope), parkedKey(scope), now, max, member, now + PARKED_TTL_MS, rank)) === 1;
    },
    async release(scope, invocationId) {
      return (await redis.hearthRelease(key(scope), parkedKey(scope), invocationId)) ?? null;
    },
    async nextParked(scope) {
      const [member] = await redis.zpopmin(parkedKey(scope));
      return member ?? null;
    },
    async takeAllParked(scope) {
      const results = await redis.multi().zrange(parkedKey(scope), 0, -1).del(parkedKey(scope)).exec();
      return (results?.[0]?.[1] as string[] | undefined) ?? [];
    },
  };
}
