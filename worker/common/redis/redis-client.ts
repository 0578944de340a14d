/**
 * The one way Hearth opens a Redis connection, called where a deployable is
 * assembled (`worker/worker-redis.ts`, `gateway/create-gateway.ts`) and by the
 * one-off memory probe; the adapters beside this file take the clients they
 * are given. Every
 * client is made from the deployable's connection options
 * (`connection-options.ts`) and one of a few
 * behaviours for when Redis is away, and its errors are reported, not
 * swallowed: ioredis emits an `error` on every failed reconnect, so a
 * client says once that Redis became unreachable, and once that it is back.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { createLogger, type Logger } from '../logger.ts';

/** How a client behaves while Redis cannot be reached. */
export const REDIS_BEHAVIOURS = {
  /** Short commands: one retry after a reconnect, then the caller sees the failure (and decides). */
  commands: { maxRetriesPerRequest: 1 },
  /** Commands that may wait a little longer for a reconnect (concurrency leases). */
  patient: { maxRetriesPerRequest: 3 },
  /** Subscribers and queue connections: wait through an outage, however long. */
  waiting: { maxRetriesPerRequest: null },
  /** Fail at once while Redis is away: no retry and no offline queue (answers a caller quickly with 503). */
  immediate: { maxRetriesPerRequest: 0, enableOfflineQueue: false },
} as const satisfies Record<string, Partial<RedisOptions>>;

export type RedisBehaviour = keyof typeof REDIS_BEHAVIOURS;

let defaultLog: Logger | null = null;

/** Where clients opened without a logger report (each deployable's `main.ts` sets its own). */
export function setRedisLogger(log: Logger): void {
  defaultLog = log;
}

/**
 * A client named `name` (as it appears in the logs) that behaves as
 * `behaviour` while Redis is away; `extra` options (e.g. `lazyConnect`) win.
 */
export function openRedis(
  options: RedisOptions,
  name: string,
  behaviour: RedisBehaviour,
  extra: Partial<RedisOptions> = {},
  log?: Logger,
): Redis {
  const redis = new Redis({ ...options, ...REDIS_BEHAVIOURS[behaviour], ...extra });
  reportOutages(redis, name, log);
  return redis;
}

/**
 * Reports a connection's outages (anything with ioredis's or BullMQ's
 * `error` event): the first error of one as a warning, its end (`ready`
 * again) as info. Never throws: an unhandled `error` event would.
 */
export function reportOutages(emitter: { on(event: string, listener: (...args: unknown[]) => void): unknown }, name: string, log?: Logger): void {
  let down = false;
  const logger = () => log ?? (defaultLog ??= createLogger('redis'));
  emitter.on('error', (err) => {
    if (down) return;
    down = true;
    logger().warn('Redis is unreachable', { client: name, err: err instanceof Error ? err.message : String(err) });
  });
  emitter.on('ready', () => {
    if (!down) return;
    down = false;
    logger().info('Redis is reachable again', { client: name });
  });
}
