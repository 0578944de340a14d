/**
 * Connecting to a user's Redis for a redis-stream trigger, checking its
 * settings, and publishing to a stream: connections that fail fast with a
 * sentence naming `host:port` and the cause, never the password.
 */
import { Redis } from 'ioredis';
import type { BrokerPublisher } from '../event-source.ts';
import { SourceError } from '../event-source.ts';
import type { RedisStreamSettings } from '../trigger-settings.ts';

/** Longest a blocking read waits in one command. */
export const MAX_BLOCK_MS = 5_000;
export const CONNECT_TIMEOUT_MS = 3_000;
const COMMAND_TIMEOUT_MS = 5_000;

export type Log = { warn(msg: string, fields?: object): void };

/** Where a URL points, for messages (`host:port`, never the password), and the secrets to scrub from any error text. */
export interface Target {
  label: string;
  secrets: string[];
}

export function targetOf(url: string): Target {
  const parsed = new URL(url);
  const secrets = [parsed.password, safeDecode(parsed.password)].filter((s) => s.length >= 3);
  return { label: `${parsed.hostname}:${parsed.port || 6379}`, secrets };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function causeOf(err: unknown, target: Target): string {
  let text = (err instanceof Error ? err.message : String(err)).slice(0, 500);
  for (const secret of target.secrets) text = text.split(secret).join('***');
  return text;
}

/** `redis-stream: <what> on host:port failed: <cause>` as a SourceError. */
export function failure(err: unknown, what: string, target: Target): SourceError {
  return new SourceError(`redis-stream: ${what} on ${target.label} failed: ${causeOf(err, target)}`);
}

/**
 * One connection that fails fast: no offline queue, and a command whose
 * reply was lost is failed, never sent again (a read or take script that
 * ran unnoticed is found again in the pending list, a second run would take
 * more); `persistent` ones reconnect in the background afterwards.
 */
export async function connect(url: string, target: Target, persistent: boolean, log?: Log, blocking = false): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: blocking ? MAX_BLOCK_MS + COMMAND_TIMEOUT_MS : COMMAND_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: persistent ? (times) => Math.min(50 * 2 ** Math.min(times - 1, 6), 2_000) : () => null,
    connectionName: 'hearth-trigger',
  });
  let lastError: unknown;
  let wasReady = false;
  redis.on('error', (err) => {
    lastError = err;
    if (wasReady) log?.warn('redis-stream: connection lost', { target: target.label, error: causeOf(err, target) });
    wasReady = false;
  });
  redis.on('ready', () => (wasReady = true));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS + 200))),
    ]);
  } catch (err) {
    redis.disconnect();
    throw new SourceError(`redis-stream: cannot connect to ${target.label}: ${causeOf(lastError ?? err, target)}`);
  } finally {
    clearTimeout(timer);
  }
  return redis;
}

export async function quit(redis: Redis): Promise<void> {
  await Promise.race([redis.quit().catch(() => {}), new Promise((r) => setTimeout(r, 1_000).unref())]);
  redis.disconnect();
}

/** The checks open and check-time share: Redis 6.2+, scripts allowed, `stream` a stream, the dead letter key free or a stream. */
export async function checkStream(redis: Redis, settings: RedisStreamSettings, target: Target): Promise<void> {
  const info = await redis.info('server').catch(() => '');
  const version = /redis_version:(\d+)\.(\d+)/.exec(info);
  if (version && Number(version[1]) * 100 + Number(version[2]) < 602) {
    throw new SourceError(`redis-stream: ${target.label} runs Redis ${version[1]}.${version[2]}; stream triggers need Redis 6.2 or later`);
  }
  await redis.eval('return 1', 0).catch((err: unknown) => {
    throw new SourceError(`redis-stream: ${target.label} does not allow scripts (EVAL) for this user: ${causeOf(err, target)}`);
  });
  const keys = [['stream', settings.stream] as const, ...(settings.deadLetter ? [['dead-letter stream', settings.deadLetter] as const] : [])];
  for (const [what, key] of keys) {
    const type = await redis.type(key).catch((err: unknown) => {
      throw failure(err, `TYPE ${JSON.stringify(key)}`, target);
    });
    if (type === 'none' && what === 'stream') throw new SourceError(`redis-stream: stream ${JSON.stringify(key)} does not exist on ${target.label}`);
    if (type !== 'none' && type !== 'stream') throw new SourceError(`redis-stream: ${what} ${JSON.stringify(key)} on ${target.label} is a ${type}, not a stream`);
  }
}

/**
 * At configuration time: the server answers within 3 s, runs Redis 6.2+,
 * allows scripts, and holds `settings.stream` as a stream (an unknown stream
 * is a mistake in the settings, never created for the user). Throws a
 * `SourceError` whose message names `host:port` and never the password.
 */
export async function checkRedisStreamSettings(settings: RedisStreamSettings): Promise<void> {
  const target = targetOf(settings.url);
  const redis = await connect(settings.url, target, false);
  try {
    await checkStream(redis, settings, target);
  } finally {
    redis.disconnect();
  }
}

/** Publishes to `stream` (XADD): the body as field `body`, each header as a field `h-<name>` (at most 64). */
export async function openRedisStreamPublisher(url: string, stream: string): Promise<BrokerPublisher> {
  const target = targetOf(url);
  const redis = await connect(url, target, true);
  return {
    async publish(body, headers) {
      const fields = Object.entries(headers).slice(0, 64).flatMap(([name, value]) => [`h-${name}`, value]);
      await redis.call('XADD', stream, '*', 'body', body, ...fields).catch((err: unknown) => {
        throw failure(err, `XADD to ${JSON.stringify(stream)}`, target);
      });
    },
    close: () => quit(redis),
  };
}
