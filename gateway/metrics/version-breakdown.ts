/**
 * A function's metrics split by version: each version's rollups over the
 * window, already summed by the store, turned into the answer's
 * `versions` entries. Pure.
 */
import { addHistograms, quantile } from './histogram.ts';
import { coldStartRate, round, type BucketRow } from './compute-metrics.ts';
import type { VersionMetrics } from './metrics-view.ts';

/** One version's rollups summed over the window. */
export type VersionTotalsRow = Omit<BucketRow, 't'> & { version: number };

/** Failed calls over calls that ran (throttled calls did not), to four places. */
export function errorRate(row: Pick<BucketRow, 'errors' | 'invocations' | 'throttles'>): number {
  const ran = row.invocations - row.throttles;
  return ran <= 0 ? 0 : round(row.errors / ran, 4);
}

/** The breakdown, newest version first. */
export function versionBreakdown(rows: readonly VersionTotalsRow[]): VersionMetrics[] {
  return [...rows]
    .sort((a, b) => b.version - a.version)
    .map((row) => {
      const latency = addHistograms(addHistograms(row.latencyCold, row.latencyPrewarmed), row.latencyWarm);
      return {
        version: row.version,
        invocations: row.invocations,
        errors: row.errors,
        errorRate: errorRate(row),
        throttles: row.throttles,
        coldStarts: row.cold + row.prewarmed,
        coldStartRate: coldStartRate(row),
        p50Ms: quantile(latency, 0.5),
        p95Ms: quantile(latency, 0.95),
        p99Ms: quantile(latency, 0.99),
        durationP50Ms: quantile(row.duration, 0.5),
        durationP99Ms: quantile(row.duration, 0.99),
        gbSeconds: round(row.gbSeconds),
      };
    });
}
