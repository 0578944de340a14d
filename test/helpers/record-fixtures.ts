/**
 * Invocation records written through the worker's own insert (the path that
 * also folds rollups and makes a missing day's partition), at chosen queued
 * times, into a database of the test's own.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createAndMigrate, dropDatabase } from '../../migrations/database.ts';
import { openDatabase, type DatabaseHandle } from '../../worker/common/database.ts';
import { insertInvocations } from '../../worker/common/invocations-store.ts';
import { newInvocationId } from '../../worker/common/invocation-id.ts';
import type { InvocationOutcome } from '../../worker/contract/invocation-outcome.ts';
import { jobOf } from './invocation-jobs.ts';

export const DAY_MS = 86_400_000;

/** A fresh, migrated database; `drop()` removes it. */
export async function ownDatabase(label: string): Promise<DatabaseHandle & { url: string; drop(): Promise<void> }> {
  const url = inject('databaseUrl').replace(/\/[^/]*$/, `/hearth_test_${label}_${randomBytes(4).toString('hex')}`);
  await createAndMigrate(url);
  const handle = openDatabase(url);
  return {
    ...handle,
    url,
    async drop() {
      await handle.close();
      await dropDatabase(url);
    },
  };
}

/** Writes `count` succeeded records of `functionId` in `namespace`, queued at `queuedAt` (epoch ms) plus i ms; answers their ids. */
export async function writeRecords(
  db: DatabaseHandle,
  options: { namespace?: string; functionId: string; queuedAt: number; count?: number; logs?: string; status?: 'succeeded' | 'failed' },
): Promise<string[]> {
  const ids: string[] = [];
  const entries = [];
  for (let i = 0; i < (options.count ?? 1); i++) {
    const at = options.queuedAt + i;
    const job = jobOf({ invocationId: newInvocationId(at), namespace: options.namespace ?? 'default', functionId: options.functionId, enqueuedAt: at });
    const outcome: InvocationOutcome = {
      invocationId: job.invocationId, functionName: job.functionName, version: job.version,
      status: options.status ?? 'succeeded', result: '{"ok":true}', error: null, coldStart: false, startKind: 'warm',
      queuedAt: at, startedAt: at + 1, finishedAt: at + 3, queueWaitMs: 1, acquireMs: 0, initMs: 0, durationMs: 2, billedMs: 2,
      memoryMb: 128, logs: options.logs ?? '', logsTruncated: false, concurrency: 1,
    };
    if (outcome.status === 'failed') outcome.error = { code: 'FunctionError', type: 'Error', message: 'boom' };
    entries.push({ job, outcome });
    ids.push(job.invocationId);
  }
  for (let i = 0; i < entries.length; i += 500) await insertInvocations(db.db, entries.slice(i, i + 500), 'fixture-worker');
  return ids;
}
