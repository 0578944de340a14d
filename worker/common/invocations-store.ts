/**
 * Invocation records. The worker that ran an invocation writes its row once
 * (insert-or-ignore on the invocation id, so a repeated write cannot
 * duplicate it); the gateway reads rows for status and history.
 */
import { RECORDED_RESULT_CAP } from '../contract/limits.ts';
import { and, eq, gte, lt } from 'drizzle-orm';
import { queuedWindowOf } from './invocation-id.ts';
import { utcDay } from './retention-settings.ts';
import type { Database } from './database.ts';
import { invocations } from '../../migrations/schema.ts';
import type { InvocationOutcome } from '../contract/invocation-outcome.ts';
import type { InvocationJob } from '../contract/invocation-job.ts';
import { storableFloat, storableInt, storableText } from './storable.ts';


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
  ['alias', 'text'],
  ['mode', 'text'],
  ['trigger', 'text'],
  ['caused_by', 'uuid'],
  ['scheduled_for', 'timestamptz'],
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
  ['concurrency', 'int4'],
  ['worker_id', 'text'],
] as const;

/** Failure codes with a rollup column of their own. */
const CODE_COLUMNS = [
  ['function_errors', 'FunctionError'],
  ['timeouts', 'FunctionTimeout'],
  ['out_of_memory', 'FunctionOutOfMemory'],
  ['crashes', 'FunctionCrashed'],
] as const;
const COUNT_COLUMNS = ['invocations', 'errors', 'throttles', 'cold', 'prewarmed', 'warm', ...CODE_COLUMNS.map(([c]) => c), 'billed_ms'];
const HISTOGRAM_COLUMNS = ['latency_cold', 'latency_prewarmed', 'latency_warm', 'duration', 'init', 'queue_wait'];

/**
 * One statement: insert the records (ignoring any already there), then fold
 * exactly the rows inserted into the 10 s, 1 min, 15 min and 1 h rollups (per
 * function and version). Rollup rows
 * are written in key order so concurrent writers take their locks in the
 * same order.
 */
const INSERT_SQL = `with ins as (
  insert into invocations (${COLUMNS.map(([c]) => c).join(', ')})
  select * from unnest(${COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})
  on conflict do nothing
  returning function_id, version, namespace, function_name, queued_at, finished_at, status, start_kind, error_code,
            billed_ms, memory_mb, queue_wait_ms, init_ms, duration_ms, concurrency
), res(seconds) as (values (10), (60), (900), (3600)),
r as (
  select ins.*, res.seconds,
         to_timestamp(floor(extract(epoch from ins.finished_at) / res.seconds) * res.seconds) as bucket,
         extract(epoch from (ins.finished_at - ins.queued_at))::float8 * 1000 as latency_ms,
         ins.status <> 'throttled' as ran
  from ins cross join res
)
insert into invocation_rollups (function_id, version, resolution, bucket, namespace, function_name, ${COUNT_COLUMNS.join(', ')},
  gb_seconds, max_concurrency, ${HISTOGRAM_COLUMNS.join(', ')})
select function_id, version, seconds, bucket, min(namespace), min(function_name),
  count(*)::int,
  (count(*) filter (where status = 'failed'))::int,
  (count(*) filter (where status = 'throttled'))::int,
  (count(*) filter (where ran and start_kind = 'cold'))::int,
  (count(*) filter (where ran and start_kind = 'prewarmed'))::int,
  (count(*) filter (where ran and start_kind = 'warm'))::int,
  ${CODE_COLUMNS.map(([, code]) => `(count(*) filter (where error_code = '${code}'))::int`).join(',\n  ')},
  coalesce(sum(billed_ms), 0),
  coalesce(sum(memory_mb / 1024.0 * billed_ms / 1000.0), 0)::float8,
  coalesce(max(concurrency), 0),
  hearth_hist_of(latency_ms) filter (where ran and start_kind = 'cold'),
  hearth_hist_of(latency_ms) filter (where ran and start_kind = 'prewarmed'),
  hearth_hist_of(latency_ms) filter (where ran and start_kind = 'warm'),
  hearth_hist_of(duration_ms::float8) filter (where ran),
  hearth_hist_of(init_ms::float8) filter (where ran and start_kind <> 'warm'),
  hearth_hist_of(queue_wait_ms::float8) filter (where ran)
from r
group by function_id, version, seconds, bucket
order by function_id, version, seconds, bucket
on conflict (function_id, resolution, bucket, version) do update set
  ${COUNT_COLUMNS.map((c) => `${c} = invocation_rollups.${c} + excluded.${c}`).join(',\n  ')},
  gb_seconds = invocation_rollups.gb_seconds + excluded.gb_seconds,
  max_concurrency = greatest(invocation_rollups.max_concurrency, excluded.max_concurrency),
  ${HISTOGRAM_COLUMNS.map((c) => `${c} = hearth_hist_add(invocation_rollups.${c}, excluded.${c})`).join(',\n  ')}`;

/** Writes many records, and their rollups, in one statement (insert-or-ignore on each id). */
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
  const insert = () => db.$client.query({ name: 'hearth-insert-invocations', text: INSERT_SQL, values: columns });
  try {
    await insert();
  } catch (err) {
    if (!isMissingPartition(err)) throw err;
    // A day with no partition (the worker's housekeeping makes them ahead; this is a call queued long ago): made now.
    for (const day of new Set(entries.map(({ job }) => utcDay(job.enqueuedAt)))) {
      await db.$client.query('select hearth_invocation_partitions($1::date, $1::date)', [day]);
    }
    await insert();
  }
}

/** True for Postgres's refusal of a row no partition of `invocations` holds. */
export function isMissingPartition(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return e?.code === '23514' && /no partition of relation/.test(e.message ?? '');
}

/**
 * One record's column values, every one of them storable: text through
 * `storableText`, numbers range-checked. Whatever an outcome holds, this row
 * cannot make Postgres refuse the batch it travels in.
 */
function toRow(job: InvocationJob, outcome: InvocationOutcome, workerId: string): unknown[] {
  const text = (value: string) => storableText(value).text;
  const optional = (value: string | null | undefined) => (value === null || value === undefined ? null : text(value));
  const result = outcome.result === null ? null : storableText(outcome.result, RECORDED_RESULT_CAP);
  return [
    job.invocationId,
    text(job.namespace),
    job.functionId,
    text(job.functionName),
    storableInt(job.version),
    optional(job.alias),
    text(job.mode),
    optional(job.trigger),
    job.causedBy ?? null,
    job.scheduledFor === null || job.scheduledFor === undefined ? null : new Date(job.scheduledFor),
    outcome.status,
    outcome.coldStart,
    outcome.startKind,
    new Date(outcome.queuedAt),
    new Date(outcome.startedAt),
    new Date(outcome.finishedAt),
    storableFloat(outcome.queueWaitMs),
    storableFloat(outcome.acquireMs),
    storableFloat(outcome.initMs),
    storableFloat(outcome.durationMs),
    storableInt(outcome.billedMs),
    storableInt(outcome.memoryMb),
    optional(outcome.error?.code),
    optional(outcome.error?.type),
    optional(outcome.error?.message),
    result?.text ?? null,
    result?.truncated ?? false,
    text(outcome.logs),
    outcome.logsTruncated,
    storableInt(outcome.concurrency),
    text(workerId),
  ];
}

/** The recorded invocation, if it has finished and belongs to `namespace`. */
export async function findInvocation(db: Database, namespace: string, id: string): Promise<InvocationRow | null> {
  // A v7 id names its day: only that partition is read.
  const window = queuedWindowOf(id);
  const rows = await db
    .select()
    .from(invocations)
    .where(
      and(
        eq(invocations.id, id),
        eq(invocations.namespace, namespace),
        ...(window ? [gte(invocations.queuedAt, window.from), lt(invocations.queuedAt, window.to)] : []),
      ),
    )
    .limit(1);
  return rows[0] ?? null;
}
