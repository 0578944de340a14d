/**
 * Tombstones of deleted functions, shared by gateways and workers through
 * Redis. Deleting a function removes its rows from Postgres, but calls
 * already queued still carry everything needed to run it (the job is
 * self-contained), so without a tombstone they would run the deleted code.
 *
 * The gateway writes the tombstone *before* it deletes the rows, so there
 * is no moment when the function is gone but its calls may still start; the
 * write and a broadcast of it on the tombstone channel are one `MULTI`, so
 * every subscriber connected at that moment hears of it. A worker checks
 * every call just before running it, and records such a call as failed with
 * `FunctionDeleted`, never run.
 *
 * The check is local while the worker can vouch for its knowledge: it
 * listed every tombstone after its subscription was confirmed (so any later
 * one is heard), its connection has not dropped since (a drop loses
 * broadcasts: it lists again once back), and it heard its own echo on the
 * channel within the last few seconds (a connection that stays open but
 * hears nothing cannot vouch either). Otherwise the check is one `EXISTS`
 * per call, as it always was before. A local answer waits one turn of the
 * event loop first, so a broadcast that arrived together with the job is
 * read before the job runs.
 *
 * Tombstones are keyed by function id, which a later deploy under the same
 * name never reuses, and live far longer than any call can stay queued
 * (the maximum event age, 6 h by default, plus retries).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** How long a tombstone lives: longer than any call can wait in a queue. */
const DELETED_FUNCTION_TTL_S = 7 * 24 * 3600;

function deletedFunctionKey(prefix: string, functionId: string): string {
  return `${prefix}:deleted-function:${functionId}`;
}

/** Where each tombstone is announced as it is written (and where workers hear their own echoes). */
function tombstoneChannel(prefix: string): string {
  return `${prefix}:tombstones`;
}

/** A gateway's side: writes tombstones. */
export interface FunctionTombstones {
  /** From now on no worker starts a queued call of `functionId`. Rejects while Redis is away: then do not delete the rows. */
  markDeleted(functionId: string): Promise<void>;
}

/** Tombstones written (and announced, in the same transaction) over `redis`, a commands connection its owner closes. */
export function createFunctionTombstones(redis: Redis, prefix: string): FunctionTombstones {
  return {
    async markDeleted(functionId) {
      const replies = await redis
        .multi()
        .set(deletedFunctionKey(prefix, functionId), '1', 'EX', DELETED_FUNCTION_TTL_S)
        .publish(tombstoneChannel(prefix), functionId)
        .exec();
      const failed = replies?.find(([err]) => err)?.[0];
      if (!replies || failed) throw failed ?? new Error('the tombstone transaction was aborted');
    },
  };
}

/** A worker's view of the tombstones. */
export interface DeletedFunctions {
  /** True when `functionId` was deleted. Redis unreachable: only what the worker has heard (the queue is away too then). */
  isDeleted(functionId: string): Promise<boolean>;
  /** Notes a deletion heard by broadcast, so later checks need no round trip. */
  noteDeleted(functionId: string): void;
  /** True while checks are answered locally (for tests and reports). */
  vouches(): boolean;
  /** Stops listening and echoing; the connections stay their owner's to close. */
  close(): Promise<void>;
}

export interface DeletedFunctionsTimings {
  /** How often the worker echoes itself on the channel. */
  echoMs: number;
  /** Without an echo heard for this long, checks go to Redis again. */
  deafAfterMs: number;
}

const DEFAULT_TIMINGS: DeletedFunctionsTimings = { echoMs: 1000, deafAfterMs: 3000 };

/**
 * Deletions kept in memory: a function id is 36 bytes. With more tombstones
 * than this (a week of deletions) the worker cannot hold them all and checks
 * every call in Redis.
 */
const MAX_REMEMBERED = 100_000;
/** A tombstone's function id as announced: ids are UUIDs; anything else on the channel is not one. */
const FUNCTION_ID = /^[0-9a-f-]{1,64}$/i;

/**
 * Tombstones read over `commands` (short commands) and heard on `subscriber`
 * (a connection in subscriber mode, `waiting` through outages); both are
 * their owner's to close. Starts listening at once; until it can vouch,
 * every check reads Redis.
 */
export function createDeletedFunctions(
  commands: Redis,
  subscriber: Redis,
  prefix: string,
  timings: DeletedFunctionsTimings = DEFAULT_TIMINGS,
): DeletedFunctions {
  const channel = tombstoneChannel(prefix);
  const known = new Set<string>();
  let overflowed = false;
  const remember = (functionId: string) => {
    if (known.has(functionId)) return;
    if (known.size >= MAX_REMEMBERED) {
      // Forgetting one would make a local "no" wrong: from now on every check reads Redis.
      overflowed = true;
      known.delete(known.values().next().value!);
    }
    known.add(functionId);
  };

  /** Bumped on every drop of the subscriber's connection: a listing begun before a drop does not count. */
  let generation = 0;
  let listed = false;
  let lastEchoAt = 0;
  let closed = false;
  const echo = `echo:${randomBytes(8).toString('hex')}`;

  const onMessage = (from: string, text: string) => {
    if (from !== channel) return;
    if (text === echo) lastEchoAt = Date.now();
    else if (FUNCTION_ID.test(text)) remember(text);
  };
  const onDrop = () => {
    generation++;
    listed = false;
  };
  /** Subscribes (again), then lists every tombstone: anything written after the subscription is heard, anything before is listed. */
  const list = async () => {
    const at = generation;
    try {
      await subscriber.subscribe(channel);
      const found: string[] = [];
      const head = deletedFunctionKey(prefix, '');
      let cursor = '0';
      do {
        const [next, keys] = await commands.scan(cursor, 'MATCH', `${head}*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) found.push(key.slice(head.length));
        if (found.length > MAX_REMEMBERED) overflowed = true;
      } while (cursor !== '0' && !overflowed);
      for (const id of found) remember(id);
      if (at !== generation || closed) return;
      listed = true;
      // Heard back at once, so the view vouches now rather than at the next echo.
      commands.publish(channel, echo).catch(() => {});
    } catch {
      // Redis away: checks read Redis (and fail open, as before) until the next `ready` lists again.
    }
  };
  const onReady = () => void list();
  subscriber.on('message', onMessage);
  subscriber.on('close', onDrop);
  subscriber.on('ready', onReady);
  if (subscriber.status === 'ready') void list();
  const echoTimer = setInterval(() => {
    commands.publish(channel, echo).catch(() => {});
  }, timings.echoMs);
  echoTimer.unref();

  const vouches = () => listed && !overflowed && !closed && Date.now() - lastEchoAt < timings.deafAfterMs;
  /** One turn of the event loop: a broadcast read in the same turn as the job is taken in first. */
  const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

  return {
    async isDeleted(functionId) {
      if (known.has(functionId)) return true;
      if (vouches()) {
        await nextTurn();
        return known.has(functionId);
      }
      try {
        if ((await commands.exists(deletedFunctionKey(prefix, functionId))) === 0) return false;
      } catch {
        return false;
      }
      remember(functionId);
      return true;
    },
    noteDeleted: remember,
    vouches,
    async close() {
      closed = true;
      clearInterval(echoTimer);
      subscriber.off('message', onMessage);
      subscriber.off('close', onDrop);
      subscriber.off('ready', onReady);
      await subscriber.unsubscribe(channel).catch(() => {});
    },
  };
}
