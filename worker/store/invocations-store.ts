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

/**
 * Column order of the batch insert, with each column's array type. The
 * statement text never changes, so Postgres plans it once (a named prepared
 * statement) however many rows a batch holds: each column travels as one array.
 */
const COLUMNS = [
  ['id', 'uuid'],
  ['namespace', 'text'],
  ['function_id', 'uuid'],
  ['function_name', 'text'],
  ['version', 'int4'],
  ['mode', 'text'],
  ['status', 'text'],
  ['cold_start', 'bool'],
  ['start_kind', 'text'],
  ['queued_at', 'timestamptz'],
  ['started_at', 'timestamptz'],
  ['finished_at', 'timestamptz'],
  ['queue_wait_ms', 'float4'],
  ['acquire_ms', 'float4'],
  ['init_ms', 'float4'],
  ['duration_ms', 'float4'],
  ['billed_ms', 'int4'],
  ['memory_mb', 'int4'],
  ['error_code', 'text'],
  ['error_type', 'text'],
  ['error_message', 'text'],
  ['result', 'text'],
  ['result_truncated', 'bool'],
  ['logs', 'text'],
  ['logs_truncated', 'bool'],
  ['worker_id', 'text'],
] as const;

const INSERT_SQL = `insert into invocations (${COLUMNS.map(([c]) => c).join(', ')})
select * from unnest(${COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})
on conflict (id) do nothing`;

/** Writes many records in one statement (insert-or-ignore on each id). */
export async function insertInvocations(
  db: Database,
  entries: ReadonlyArray<{ job: InvocationJob; outcome: InvocationOutcome }>,
  workerId: string,
): Promise<void> {
  if (entries.length === 0) return;
  const columns: unknown[][] = COLUMNS.map(() => []);
  for (const { job, outcome } of entries) {
    const row = toRow(job, outcome, workerId);
    for (let i = 0; i < row.length; i++) columns[i]!.push(row[i]);
  }
  await db.$client.query({ name: 'hearth-insert-invocations', text: INSERT_SQL, values: columns });
}

function toRow(job: InvocationJob, outcome: InvocationOutcome, workerId: string): unknown[] {
  const result = outcome.result;
  const truncated = result !== null && Buffer.byteLength(result) > RECORDED_RESULT_CAP;
  return [
    job.invocationId,
    job.namespace,
    job.functionId,
    job.functionName,
    job.version,
    job.mode,
    outcome.status,
    outcome.coldStart,
    outcome.startKind,
    new Date(outcome.queuedAt),
    new Date(outcome.startedAt),
    new Date(outcome.finishedAt),
    outcome.queueWaitMs,
    outcome.acquireMs,
    outcome.initMs,
    outcome.durationMs,
    outcome.billedMs,
    outcome.memoryMb,
    outcome.error?.code ?? null,
    outcome.error?.type ?? null,
    outcome.error?.message ?? null,
    truncated ? Buffer.from(result).subarray(0, RECORDED_RESULT_CAP).toString('utf8') : result,
    truncated,
    outcome.logs,
    outcome.logsTruncated,
    workerId,
  ];
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
