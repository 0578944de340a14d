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
import { redisOptionsFromUrl } from './connection-options.ts';
import { openRedis } from './redis-client.ts';

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

/** How long the check waits for Redis to answer before it gives up (saying nothing). */
const CHECK_TIMEOUT_MS = 3000;

/**
 * Reads a Redis's memory settings: over `target` itself when it is an open
 * client (a deployable's own), else over a probe connection opened for it
 * (a URL or options). Warnings as `redisMemoryWarnings`; none if it will not say.
 */
export async function checkRedisMemoryPolicy(target: Redis | string | RedisOptions): Promise<string[]> {
  if (target instanceof Redis) return readWarnings(target);
  let probe: Redis | undefined;
  try {
    probe = openRedis(typeof target === 'string' ? redisOptionsFromUrl(target) : target, 'memory policy probe', 'immediate', {
      lazyConnect: true,
      retryStrategy: () => null,
      connectTimeout: CHECK_TIMEOUT_MS,
    });
    await probe.connect();
    return await readWarnings(probe);
  } catch {
    return [];
  } finally {
    probe?.disconnect();
  }
}

async function readWarnings(redis: Redis): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const info = await Promise.race([
      redis.info('memory'),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer')), CHECK_TIMEOUT_MS);
      }),
    ]);
    return redisMemoryWarnings(info);
  } catch {
    return [];
  } finally {
    clearTimeout(timer);
  }
}
