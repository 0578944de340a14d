/**
 * What Redis must be told about memory for Hearth. The queue holds every
 * queued call's event (up to 6 MB each), so Redis needs a ceiling
 * (`maxmemory`) or a backlog grows it until the host runs out of memory; and
 * it must never evict (`maxmemory-policy noeviction`), because an evicted
 * key is a lost call, lease or record of BullMQ's. At the ceiling, writes
 * fail and the gateway answers 503 `QueueUnavailable`, which a caller can
 * retry; the queued-call quotas (`queued-call-quota.ts`) keep any one tenant
 * far below it.
 *
 * Read from `INFO memory` (managed Redis often refuses `CONFIG GET`).
 */
import { Redis, type RedisOptions } from 'ioredis';

/** Warnings for the `INFO memory` text of a Redis; empty when its settings suit the queue. */
export function redisMemoryWarnings(info: string): string[] {
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const maxmemory = Number(field('maxmemory') ?? NaN);
  const policy = field('maxmemory_policy');
  const warnings: string[] = [];
  if (maxmemory === 0) {
    warnings.push(
      'Redis has no maxmemory: queued calls can grow it until the host runs out of memory; set maxmemory ' +
        '(e.g. a quarter of the host memory) with maxmemory-policy noeviction',
    );
  }
  if (policy !== undefined && policy !== 'noeviction') {
    warnings.push(`Redis maxmemory-policy is ${policy}: it may evict queued calls and concurrency leases; the queue needs noeviction`);
  }
  return warnings;
}

/** Connects to Redis (a URL or options) once and reads its memory settings; warnings as `redisMemoryWarnings`, none if it will not say. */
export async function checkRedisMemoryPolicy(target: string | RedisOptions): Promise<string[]> {
  const probe = { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 };
  const redis = typeof target === 'string' ? new Redis(target, probe) : new Redis({ ...target, ...probe });
  // A probe: its failure is the answer (no warnings), seen from connect() below; the event only must not go unhandled.
  redis.on('error', () => {});
  try {
    await redis.connect();
    return redisMemoryWarnings(await redis.info('memory'));
  } catch {
    return [];
  } finally {
    redis.disconnect();
  }
}
