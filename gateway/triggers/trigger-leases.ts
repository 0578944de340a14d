/**
 * Who runs a source trigger, and what it is doing, in Redis. A trigger is
 * read by one gateway at a time: the one holding its lease, a key that
 * expires unless renewed, so when the holder dies another gateway takes it
 * within one lease. The holder writes the trigger's status (state, lag, last
 * error) beside it for the API to show.
 */
import type { Redis } from 'ioredis';
import type { TriggerStatus } from './trigger-record.ts';

// KEYS: lease. ARGV: holder, ttl ms. Takes a free lease or renews our own; 1 when held by us now.
const HOLD = `
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;
// KEYS: lease. ARGV: holder. Lets go only of our own lease.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export interface TriggerLeases {
  /** Takes the lease of trigger `id` for `holder`, or renews it; true when `holder` holds it for the next `ttlMs`. */
  hold(id: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if `holder` holds it. */
  release(id: string, holder: string): Promise<void>;
}

export interface TriggerStatusBoard {
  /** Merges `patch` into the trigger's status (kept a week after the last write). */
  update(id: string, patch: Partial<TriggerStatus>): Promise<void>;
  /** The statuses of `ids` (missing: never run). */
  read(ids: readonly string[]): Promise<Map<string, Partial<TriggerStatus>>>;
  /** Forgets a deleted trigger's status. */
  clear(id: string): Promise<void>;
}

type LeaseRedis = Redis & {
  hearthHoldLease(key: string, holder: string, ttlMs: number): Promise<number>;
  hearthReleaseLease(key: string, holder: string): Promise<number>;
};

export function createTriggerLeases(client: Redis, prefix: string): TriggerLeases {
  const redis = client as LeaseRedis;
  redis.defineCommand('hearthHoldLease', { numberOfKeys: 1, lua: HOLD });
  redis.defineCommand('hearthReleaseLease', { numberOfKeys: 1, lua: RELEASE });
  const key = (id: string) => `${prefix}:trigger-lease:${id}`;
  return {
    async hold(id, holder, ttlMs) {
      return (await redis.hearthHoldLease(key(id), holder, ttlMs)) === 1;
    },
    async release(id, holder) {
      await redis.hearthReleaseLease(key(id), holder);
    },
  };
}

const STATUS_TTL_S = 7 * 24 * 3600;

export function createTriggerStatusBoard(redis: Redis, prefix: string): TriggerStatusBoard {
  const key = (id: string) => `${prefix}:trigger-status:${id}`;
  return {
    async update(id, patch) {
      const fields = Object.entries(patch).flatMap(([field, value]) => [field, JSON.stringify(value ?? null)]);
      if (fields.length === 0) return;
      await redis.multi().hset(key(id), ...fields).expire(key(id), STATUS_TTL_S).exec();
    },
    async read(ids) {
      const out = new Map<string, Partial<TriggerStatus>>();
      if (ids.length === 0) return out;
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hgetall(key(id));
      const results = (await pipeline.exec()) ?? [];
      ids.forEach((id, i) => {
        const raw = (results[i]?.[1] ?? {}) as Record<string, string>;
        const status: Record<string, unknown> = {};
        for (const [field, text] of Object.entries(raw)) {
          try {
            status[field] = JSON.parse(text);
          } catch {
            // A field this code did not write: left out.
          }
        }
        out.set(id, status as Partial<TriggerStatus>);
      });
      return out;
    },
    async clear(id) {
      await redis.del(key(id));
    },
  };
}
