/** Reading rollups (for metrics) and records (for logs and invocation lists) from Postgres. */
import { sql } from 'drizzle-orm';
import type { Database } from '../../worker/common/database.ts';
import type { BucketRow } from './compute-metrics.ts';
import type { VersionTotalsRow } from './version-breakdown.ts';

const SUMS = `
  sum(invocations)::int as invocations, sum(errors)::int as errors, sum(throttles)::int as throttles,
  sum(cold)::int as cold, sum(prewarmed)::int as prewarmed, sum(warm)::int as warm,
  sum(function_errors)::int as function_errors, sum(timeouts)::int as timeouts,
  sum(out_of_memory)::int as out_of_memory, sum(crashes)::int as crashes,
  sum(billed_ms)::float8 as billed_ms, sum(gb_seconds)::float8 as gb_seconds, max(max_concurrency)::int as max_concurrency`;

const HISTOGRAMS = `
  hearth_hist_sum(latency_cold) as latency_cold, hearth_hist_sum(latency_prewarmed) as latency_prewarmed,
  hearth_hist_sum(latency_warm) as latency_warm, hearth_hist_sum(duration) as duration,
  hearth_hist_sum(init) as init, hearth_hist_sum(queue_wait) as queue_wait`;

type RawRow = Record<string, unknown>;

function toBucketRow(r: RawRow): BucketRow {
  return {
    t: r.t as Date,
    invocations: r.invocations as number,
    errors: r.errors as number,
    throttles: r.throttles as number,
    cold: r.cold as number,
    prewarmed: r.prewarmed as number,
    warm: r.warm as number,
    functionErrors: r.function_errors as number,
    timeouts: r.timeouts as number,
    outOfMemory: r.out_of_memory as number,
    crashes: r.crashes as number,
    billedMs: r.billed_ms as number,
    gbSeconds: r.gb_seconds as number,
    maxConcurrency: r.max_concurrency as number,
    latencyCold: (r.latency_cold as number[] | null) ?? [],
    latencyPrewarmed: (r.latency_prewarmed as number[] | null) ?? [],
    latencyWarm: (r.latency_warm as number[] | null) ?? [],
    duration: (r.duration as number[] | null) ?? [],
    init: (r.init as number[] | null) ?? [],
    queueWait: (r.queue_wait as number[] | null) ?? [],
  };
}

export interface MetricsScope {
  /** One function (by id), or a whole namespace. */
  functionId?: string;
  namespace: string;
  /** Only this version's calls (with `functionId`). */
  version?: number;
}

/** Rollups summed per series bucket of `bucketSeconds`, from `from` on. */
export async function readBuckets(
  db: Database,
  scope: MetricsScope,
  resolution: number,
  bucketSeconds: number,
  from: Date,
): Promise<BucketRow[]> {
  const oneVersion = scope.functionId !== undefined && scope.version !== undefined;
  const where = scope.functionId ? `function_id = $1${oneVersion ? ' and version = $5' : ''}` : 'namespace = $1';
  const { rows } = await db.$client.query({
    name: `hearth-metrics-${scope.functionId ? (oneVersion ? 'fn-version' : 'fn') : 'ns'}`,
    text: `select to_timestamp(floor(extract(epoch from bucket) / $4) * $4) as t, ${SUMS}, ${HISTOGRAMS}
           from invocation_rollups
           where ${where} and resolution = $2 and bucket >= $3
           group by 1 order by 1`,
    values: [scope.functionId ?? scope.namespace, resolution, from, bucketSeconds, ...(oneVersion ? [scope.version] : [])],
  });
  return rows.map(toBucketRow);
}

/** One function's rollups summed per version over the window, histograms included. */
export async function readVersionTotals(db: Database, functionId: string, resolution: number, from: Date): Promise<VersionTotalsRow[]> {
  const { rows } = await db.$client.query({
    name: 'hearth-metrics-per-version',
    text: `select version, ${SUMS}, ${HISTOGRAMS}
           from invocation_rollups
           where function_id = $1 and resolution = $2 and bucket >= $3
           group by version order by version desc`,
    values: [functionId, resolution, from],
  });
  return rows.map((r: RawRow) => {
    const { t: _t, ...totals } = toBucketRow({ ...r, t: null });
    return { version: r.version as number, ...totals };
  });
}

/** Per-function totals in a namespace over the window (no histograms). */
export async function readFunctionTotals(db: Database, namespace: string, resolution: number, from: Date) {
  const { rows } = await db.$client.query({
    name: 'hearth-metrics-per-function',
    text: `select function_name, ${SUMS}
           from invocation_rollups
           where namespace = $1 and resolution = $2 and bucket >= $3
           group by function_id, function_name order by function_name`,
    values: [namespace, resolution, from],
  });
  return rows.map((r: RawRow) => ({ name: r.function_name as string, ...toBucketRow({ ...r, t: null }) }));
}

/** The current id of a function, or null. */
export async function functionIdOf(db: Database, namespace: string, name: string): Promise<string | null> {
  const result = await db.execute<{ id: string }>(
    sql`select id from functions where namespace = ${namespace} and name = ${name} limit 1`,
  );
  return result.rows[0]?.id ?? null;
}

/** Records of one function, newest first, for logs and invocation lists. */
export interface RecordQuery {
  functionId: string;
  /** Only records queued after this time. */
  since?: Date;
  status?: string;
  /** Keyset position: records strictly older than (queuedAt, id). */
  before?: { queuedAt: Date; id: string };
  limit: number;
}

export async function readRecords(db: Database, q: RecordQuery) {
  const conditions = ['function_id = $1'];
  const values: unknown[] = [q.functionId];
  if (q.since) {
    values.push(q.since);
    conditions.push(`queued_at > $${values.length}`);
  }
  if (q.status) {
    values.push(q.status);
    conditions.push(`status = $${values.length}`);
  }
  if (q.before) {
    values.push(q.before.queuedAt, q.before.id);
    conditions.push(`(queued_at, id) < ($${values.length - 1}, $${values.length}::uuid)`);
  }
  values.push(q.limit);
  // `nulls last` matches the index's order exactly, so Postgres reads the
  // newest rows off the index instead of sorting every row of the function.
  const { rows } = await db.$client.query(
    `select id, queued_at, finished_at, version, mode, trigger, status, start_kind, cold_start, duration_ms, init_ms,
            billed_ms, memory_mb, error_code, logs, logs_truncated
     from invocations where ${conditions.join(' and ')}
     order by queued_at desc nulls last, id desc nulls last limit $${values.length}`,
    values,
  );
  return rows.map((r: RawRow) => ({
    id: r.id as string,
    queuedAt: r.queued_at as Date,
    finishedAt: r.finished_at as Date,
    version: r.version as number,
    mode: r.mode as string,
    trigger: (r.trigger as string | null) ?? null,
    status: r.status as string,
    startKind: r.start_kind as string,
    coldStart: r.cold_start as boolean,
    durationMs: r.duration_ms as number,
    initMs: r.init_ms as number,
    billedMs: r.billed_ms as number,
    memoryMb: r.memory_mb as number,
    errorCode: r.error_code as string | null,
    logs: r.logs as string,
    logsTruncated: r.logs_truncated as boolean,
  }));
}

export type RecordRow = Awaited<ReturnType<typeof readRecords>>[number];
