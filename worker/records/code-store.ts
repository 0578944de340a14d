/** Reads code archives from Postgres for the worker's code cache. */
import { eq } from 'drizzle-orm';
import type { Database } from '../common/database.ts';
import { codeBlobs } from '../../migrations/schema.ts';
import type { CodeSource } from '../sandbox/code-cache.ts';

export function createPostgresCodeSource(db: Database): CodeSource {
  return {
    async fetch(sha256) {
      const rows = await db
        .select({ tarGz: codeBlobs.tarGz })
        .from(codeBlobs)
        .where(eq(codeBlobs.sha256, sha256))
        .limit(1);
      const row = rows[0];
      if (!row) throw new Error(`code ${sha256} is not in the store`);
      return row.tarGz;
    },
  };
}
