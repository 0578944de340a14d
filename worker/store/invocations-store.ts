/**
 * Invocation records. The worker that ran an invocation writes its row once
 * (insert-or-ignore on the invocation id, so a repeated write cannot
 * duplicate it); the gateway reads rows for status and history.
 */
import { and, eq } from 'drizzle-orm';
import type { Database } from '../../migrations/database.ts';
import { invocations } from '../../migrations/schema.ts';
import type { InvocationOutcome } from '../invocation-outcome.ts';
import type { InvocationJob } from '../invocation-queue.ts';

/** Results above this many bytes of JSON are stored cut, with `resultTruncated`. */
export const RECORDED_RESULT_CAP = 1024 * 1024;

export type InvocationRow = typeof invocations.$inferSelect;

/** Writes one record; a record that already exists is left as it is. */
export function insertInvocation(db: Database, job: InvocationJob, outcome: InvocationOutcome, workerId: string): Promise<void> {
  return insertInvocations(db, [{ job, outcome }], workerId);
}

/** Writes many records in one statement (insert-or-ignore on each id). */
export async function insertInvocations(
  db: Database,
  entries: ReadonlyArray<{ job: InvocationJob; outcome: InvocationOutcome }>,
  workerId: string,
): Promise<void> {
  if (entries.length === 0) return;
  await db
    .insert(invocations)
    .values(entries.map(({ job, outcome }) => toRow(job, outcome, workerId)))
    .onConflictDoNothing({ target: invocations.id });
}

function toRow(job: InvocationJob, outcome: InvocationOutcome, workerId: string): typeof invocations.$inferInsert {
  const result = outcome.result;
  const truncated = result !== null && Buffer.byteLength(result) > RECORDED_RESULT_CAP;
  return {
    id: job.invocationId,
    namespace: job.namespace,
    functionId: job.functionId,
    functionName: job.functionName,
    version: job.version,
    mode: job.mode,
    status: outcome.status,
    coldStart: outcome.coldStart,
    startKind: outcome.startKind,
    queuedAt: new Date(outcome.queuedAt),
    startedAt: new Date(outcome.startedAt),
    finishedAt: new Date(outcome.finishedAt),
    queueWaitMs: outcome.queueWaitMs,
    acquireMs: outcome.acquireMs,
    initMs: outcome.initMs,
    durationMs: outcome.durationMs,
    billedMs: outcome.billedMs,
    memoryMb: outcome.memoryMb,
    errorCode: outcome.error?.code ?? null,
    errorType: outcome.error?.type ?? null,
    errorMessage: outcome.error?.message ?? null,
    result: truncated ? Buffer.from(result).subarray(0, RECORDED_RESULT_CAP).toString('utf8') : result,
    resultTruncated: truncated,
    logs: outcome.logs,
    logsTruncated: outcome.logsTruncated,
    workerId,
  };
}

/** The recorded invocation, if it has finished and belongs to `namespace`. */
export async function findInvocation(db: Database, namespace: string, id: string): Promise<InvocationRow | null> {
  const rows = await db
    .select()
    .from(invocations)
    .where(and(eq(invocations.id, id), eq(invocations.namespace, namespace)))
    .limit(1);
  return rows[0] ?? null;
}
