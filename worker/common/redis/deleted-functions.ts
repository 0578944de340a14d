/**
 * Tombstones of deleted functions, shared by gateways and workers through
 * Redis. Deleting a function removes its rows from Postgres, but calls
 * already queued still carry everything needed to run it (the job is
 * self-contained), so without a tombstone they would run the deleted code.
 *
 * The gateway writes the tombstone *before* it deletes the rows, so there
 * is no moment when the function is gone but its calls may still start.
 * A worker checks it for every call just before running it (one `EXISTS`;
 * a broadcast that a function was deleted short-cuts even that), and
 * records such a call as failed with `FunctionDeleted`, never run.
 *
 * Tombstones are keyed by function id, which a later deploy under the same
 * name never reuses, and live far longer than any call can stay queued
 * (the maximum event age, 6 h by default, plus retries).
 */
import type { Redis } from 'ioredis';

/** How long a tombstone lives: longer than any call can wait in a queue. */
const DELETED_FUNCTION_TTL_S = 7 * 24 * 3600;

function deletedFunctionKey(prefix: string, functionId: string): string {
  return `${prefix}:deleted-function:${functionId}`;
}

/** A gateway's side: writes tombstones. */
export interface FunctionTombstones {
  /** From now on no worker starts a queued call of `functionId`. Rejects while Redis is away: then do not delete the rows. */
  markDeleted(functionId: string): Promise<void>;
}

/** Tombstones written over `redis`, a commands connection its owner closes. */
export function createFunctionTombstones(redis: Redis, prefix: string): FunctionTombstones {
  return {
    async markDeleted(functionId) {
      await redis.set(deletedFunctionKey(prefix, functionId), '1', 'EX', DELETED_FUNCTION_TTL_S);
    },
  };
}

/** A worker's view of the tombstones. */
export interface DeletedFunctions {
  /** True when `functionId` was deleted. Redis unreachable: only what broadcasts said (the queue is away too then). */
  isDeleted(functionId: string): Promise<boolean>;
  /** Notes a deletion heard by broadcast, so later checks need no round trip. */
  noteDeleted(functionId: string): void;
}

/** Known deletions kept in memory; a function id is 36 bytes, so this bounds memory to well under a megabyte. */
const MAX_REMEMBERED = 10_000;

/** Tombstones read over `redis`, a commands connection its owner closes. */
export function createDeletedFunctions(redis: Redis, prefix: string): DeletedFunctions {
  const known = new Set<string>();
  const remember = (functionId: string) => {
    if (known.size >= MAX_REMEMBERED) known.delete(known.values().next().value!);
    known.add(functionId);
  };
  return {
    async isDeleted(functionId) {
      if (known.has(functionId)) return true;
      try {
        if ((await redis.exists(deletedFunctionKey(prefix, functionId))) === 0) return false;
      } catch {
        return false;
      }
      remember(functionId);
      return true;
    },
    noteDeleted: remember,
  };
}
