/** Turns a `redis://` URL into the connection options BullMQ and ioredis take. */
import type { RedisOptions } from 'ioredis';
import { FailoverSafeSentinelConnector } from './sentinel-connector.ts';

/**
 * What a client reached through Sentinel does about a failover. A master
 * that stops answering without closing its connections (frozen, or behind a
 * partition) would hold every command sent to it, and once back, still
 * believing itself master until the Sentinels demote it, would take writes
 * that its demotion then throws away: so each client also listens for the
 * Sentinels' `+switch-master` (ioredis's `failoverDetector`) and reconnects
 * at once to the master they name, resending what it had sent unanswered. A
 * command that reaches a demoted master anyway is refused with `READONLY`
 * (a replica runs no write): the client reconnects, through the Sentinels,
 * and resends it.
 */
const SENTINEL_FAILOVER = {
  failoverDetector: true,
  // ioredis's own connector, without a race that ends a client for good (see the file).
  Connector: FailoverSafeSentinelConnector,
  // A frozen master never answers the close: drop the socket after 200 ms instead of ioredis's 2 s.
  disconnectTimeout: 200,
  // Each try asks the Sentinels first, so retrying often is cheap and finds the promoted master
  // within half a second of its promotion (not up to 2 s later, as the plain back-off would).
  retryStrategy: (times: number) => Math.min(100 * times, 500),
  reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 2 : false),
} as const satisfies Partial<RedisOptions>;

/**
 * Options from a `redis://` URL; with `sentinels` (`host:port,…`) and a
 * master name, connects through Redis Sentinel instead of the URL's host.
 */
export function redisOptionsFromUrl(url: string, sentinel?: { sentinels?: string; name?: string }): RedisOptions {
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`REDIS_URL must start with redis:// or rediss://, got "${parsed.protocol}"`);
  }
  const db = parsed.pathname.replace(/^\//, '');
  const sentinels = sentinel?.sentinels
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [host, port] = s.split(':');
      return { host: host!, port: port ? Number(port) : 26379 };
    });
  return {
    // Reconnect quickly after Redis restarts (ioredis and BullMQ back off to 20 s otherwise).
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
    ...(sentinels && sentinels.length > 0 ? { sentinels, name: sentinel?.name ?? 'mymaster', ...SENTINEL_FAILOVER } : {}),
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}
