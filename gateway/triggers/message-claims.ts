/**
 * Which invocation holds each message of a source trigger, in Redis. A
 * batch's messages are claimed for its invocation before it is queued, and
 * the claims dropped once they are acknowledged. A message redelivered by
 * the broker (its gateway died before the ack) may come back in a batch of
 * other messages; its claim tells the next holder that an invocation already
 * has it, so the message waits for that invocation's record instead of
 * running again under another id — which would record it twice.
 */
import type { Redis } from 'ioredis';

export interface MessageClaims {
  /** The invocation holding each of `ids` (absent: none). */
  read(triggerId: string, ids: readonly string[]): Promise<Map<string, string>>;
  /** Claims `ids` for `invocationId` (replacing earlier claims: a retry takes them over). */
  claim(triggerId: string, ids: readonly string[], invocationId: string): Promise<void>;
  /** Drops the claims of messages acknowledged or dead-lettered. */
  release(triggerId: string, ids: readonly string[]): Promise<void>;
}

/** A claim outlives any redelivery it is for; left behind only by a gateway that died between an ack and the release. */
const CLAIM_TTL_S = 6 * 3600;

export function createMessageClaims(redis: Redis, prefix: string): MessageClaims {
  const key = (triggerId: string, id: string) => `${prefix}:trigger-claim:${triggerId}:${id}`;
  return {
    async read(triggerId, ids) {
      const found = new Map<string, string>();
      if (ids.length === 0) return found;
      const values = await redis.mget(...ids.map((id) => key(triggerId, id)));
      ids.forEach((id, i) => {
        if (values[i]) found.set(id, values[i]!);
      });
      return found;
    },
    async claim(triggerId, ids, invocationId) {
      if (ids.length === 0) return;
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.set(key(triggerId, id), invocationId, 'EX', CLAIM_TTL_S);
      await pipeline.exec();
    },
    async release(triggerId, ids) {
      if (ids.length === 0) return;
      await redis.del(...ids.map((id) => key(triggerId, id)));
    },
  };
}

/** Claims in memory (one process), for tests of the runner and invoker. */
export function inMemoryMessageClaims(): MessageClaims {
  const claims = new Map<string, string>();
  return {
    async read(triggerId, ids) {
      return new Map(ids.flatMap((id) => (claims.has(`${triggerId}:${id}`) ? [[id, claims.get(`${triggerId}:${id}`)!] as const] : [])));
    },
    async claim(triggerId, ids, invocationId) {
      for (const id of ids) claims.set(`${triggerId}:${id}`, invocationId);
    },
    async release(triggerId, ids) {
      for (const id of ids) claims.delete(`${triggerId}:${id}`);
    },
  };
}
