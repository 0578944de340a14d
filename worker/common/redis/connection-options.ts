/** Turns a `redis://` URL into the connection options BullMQ and ioredis take. */
import type { RedisOptions } from 'ioredis';

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
    ...(sentinels && sentinels.length > 0 ? { sentinels, name: sentinel?.name ?? 'mymaster' } : {}),
    // Reconnect quickly after Redis restarts (ioredis and BullMQ back off to 20 s otherwise).
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}
