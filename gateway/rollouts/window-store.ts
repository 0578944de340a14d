/**
 * A rollout check's numbers, read from the invocation records: per version,
 * the calls that ran (succeeded or failed; throttled and expired calls never
 * ran), how many failed and the p99 of their durations, over calls queued
 * in [start, end). One indexed range read (function id, queued time).
 */
import { and, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import { invocations } from '../../migrations/schema.ts';
import type { Transaction } from '../store/provisioned-memory.ts';
import type { WindowCounts } from './rollout-guard.ts';

/** Both versions' counts over the window (zero calls for a version with none). */
export async function readWindow(
  tx: Transaction,
  functionId: string,
  versions: { from: number; to: number },
  start: Date,
  end: Date,
): Promise<{ from: WindowCounts; to: WindowCounts }> {
  const rows = await tx
    .select({
      version: invocations.version,
      calls: sql<number>`count(*)::int`,
      errors: sql<number>`(count(*) filter (where ${invocations.status} = 'failed'))::int`,
      p99Ms: sql<number | null>`percentile_cont(0.99) within group (order by ${invocations.durationMs})`,
    })
    .from(invocations)
    .where(
      and(
        eq(invocations.functionId, functionId),
        gte(invocations.queuedAt, start),
        lt(invocations.queuedAt, end),
        inArray(invocations.version, [versions.from, versions.to]),
        inArray(invocations.status, ['succeeded', 'failed']),
      ),
    )
    .groupBy(invocations.version);
  const of = (version: number): WindowCounts => {
    const row = rows.find((r) => r.version === version);
    return row ? { version, calls: row.calls, errors: row.errors, p99Ms: row.p99Ms === null ? null : Number(row.p99Ms) } : { version, calls: 0, errors: 0, p99Ms: null };
  };
  return { from: of(versions.from), to: of(versions.to) };
}
