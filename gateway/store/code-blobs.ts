/**
 * Content-addressed code: one `code_blobs` row per SHA-256 of a canonical
 * archive, written once however many versions point at it. Writers hold the
 * content's code lock (`code-gc.ts`) around these calls.
 */
import { eq } from 'drizzle-orm';
import { codeBlobs } from '../../migrations/schema.ts';
import type { NewCode } from './function-views.ts';
import type { Transaction } from './provisioned-memory.ts';

/** Stores the archive of `code` unless that content is stored already (a no-op for reused code, `tarGz: null`). */
export async function storeCode(tx: Transaction, code: NewCode): Promise<void> {
  // Reused code needs no write: the version's foreign key proves it is stored.
  if (code.tarGz === null) return;
  await tx
    .insert(codeBlobs)
    .values({
      sha256: code.sha256,
      tarGz: code.tarGz,
      sizeBytes: code.tarGz.length,
      unpackedBytes: code.unpackedBytes,
      fileCount: code.fileCount,
    })
    .onConflictDoNothing({ target: codeBlobs.sha256 });
}

/** The stored size of code reused by address (0 if absent: the version's foreign key then refuses the write). */
export async function storedSize(tx: Transaction, sha256: string): Promise<number> {
  const [row] = await tx.select({ size: codeBlobs.sizeBytes }).from(codeBlobs).where(eq(codeBlobs.sha256, sha256)).limit(1);
  return row?.size ?? 0;
}
