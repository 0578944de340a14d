/**
 * Code garbage collection: a `code_blobs` row no version refers to is
 * deleted in the transaction that removed its last reference (a function's
 * delete, a version's prune), so stored code never outlives its versions.
 *
 * The race to close: a deploy of the same content inserts (or reuses) the
 * blob, then its version; a collector that deleted the blob between those two
 * steps would fail that deploy (or, without the foreign key, orphan it). Both
 * sides take a transaction-scoped advisory lock per content address before
 * touching the blob, so a collector's "no version refers to it" is read only
 * after any deploy of the same code has committed its version, and a deploy
 * that comes later finds the blob gone and stores it again. Locks are taken in
 * key order, all at once, so two transactions never wait on each other in a
 * cycle.
 */
import { and, eq, inArray, notExists, sql } from 'drizzle-orm';
import { codeBlobs, functionVersions } from '../../migrations/schema.ts';
import type { Transaction } from './provisioned-memory.ts';

/** First key of the advisory lock (the second is from the content hash): "HC", hearth code. */
const LOCK_CLASS = 0x4843;

/** A content address's lock key: its first 32 bits (the hash is uniform already). */
function lockKey(sha256: string): number {
  return Number.parseInt(sha256.slice(0, 8), 16) | 0;
}

/**
 * Takes the code locks of `sha256s` for the rest of the transaction, in key
 * order. Call it once per transaction, before the first blob or version write.
 */
export async function lockCode(tx: Transaction, sha256s: Iterable<string>): Promise<void> {
  const keys = [...new Set([...sha256s].map(lockKey))].sort((a, b) => a - b);
  for (const key of keys) await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_CLASS}, ${key}::int4)`);
}

/**
 * Deletes those of `sha256s` no version refers to any more; returns how many
 * went. The caller holds their code locks (`lockCode`).
 */
export async function collectCode(tx: Transaction, sha256s: Iterable<string>): Promise<number> {
  const candidates = [...new Set(sha256s)];
  if (candidates.length === 0) return 0;
  const gone = await tx
    .delete(codeBlobs)
    .where(
      and(
        inArray(codeBlobs.sha256, candidates),
        notExists(tx.select({ one: sql`1` }).from(functionVersions).where(eq(functionVersions.codeSha256, codeBlobs.sha256))),
      ),
    )
    .returning({ sha256: codeBlobs.sha256 });
  return gone.length;
}
