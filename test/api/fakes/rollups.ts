/**
 * Rollup rows without Postgres: the metrics reads of `gateway/metrics/metrics-store.ts`
 * over rows a test adds, summed per series bucket or per version as the SQL does.
 */
import type { BucketRow } from '../../../gateway/metrics/compute-metrics.ts';
import { EMPTY_BUCKET } from '../../../gateway/metrics/compute-metrics.ts';
import { addHistograms } from '../../../gateway/metrics/histogram.ts';
import type { MetricsScope } from '../../../gateway/metrics/metrics-store.ts';
import type { VersionTotalsRow } from '../../../gateway/metrics/version-breakdown.ts';

/** One row of `invocation_rollups`. */
export interface RollupRow extends BucketRow {
  functionId: string;
  functionName: string;
  namespace: string;
  version: number;
  resolution: number;
}

type Totals = Omit<BucketRow, 't'>;

const HISTOGRAMS = ['latencyCold', 'latencyPrewarmed', 'latencyWarm', 'duration', 'init', 'queueWait'] as const;

function sum(a: Totals, b: Totals): Totals {
  const out: Totals = { ...a };
  for (const key of Object.keys(EMPTY_BUCKET) as Array<keyof Totals>) {
    if ((HISTOGRAMS as readonly string[]).includes(key)) continue;
    (out[key] as number) = key === 'maxConcurrency' ? Math.max(a[key], b[key]) : (a[key] as number) + (b[key] as number);
  }
  for (const key of HISTOGRAMS) out[key] = addHistograms(a[key], b[key]);
  return out;
}

/** A histogram with `count` samples in bucket `bucket` (see histogram.ts for what a bucket stands for). */
export function histogramAt(bucket: number, count: number): number[] {
  const histogram = new Array<number>(bucket + 1).fill(0);
  histogram[bucket] = count;
  return histogram;
}

export class InMemoryRollups {
  readonly rows: RollupRow[] = [];

  /** Adds a row; counts and histograms left out are zero. */
  add(row: Pick<RollupRow, 'functionId' | 'functionName' | 'namespace' | 'version' | 'resolution' | 't'> & Partial<Totals>): void {
    this.rows.push({ ...EMPTY_BUCKET, ...row });
  }

  readBuckets(scope: MetricsScope, resolution: number, bucketSeconds: number, from: Date): BucketRow[] {
    const width = bucketSeconds * 1000;
    const byBucket = new Map<number, Totals>();
    for (const row of this.matching(resolution, from)) {
      if (scope.functionId ? row.functionId !== scope.functionId : row.namespace !== scope.namespace) continue;
      if (scope.functionId && scope.version !== undefined && row.version !== scope.version) continue;
      const t = Math.floor(row.t.getTime() / width) * width;
      byBucket.set(t, sum(byBucket.get(t) ?? EMPTY_BUCKET, row));
    }
    return [...byBucket].sort(([a], [b]) => a - b).map(([t, totals]) => ({ t: new Date(t), ...totals }));
  }

  readVersionTotals(functionId: string, resolution: number, from: Date): VersionTotalsRow[] {
    const byVersion = new Map<number, Totals>();
    for (const row of this.matching(resolution, from)) {
      if (row.functionId === functionId) byVersion.set(row.version, sum(byVersion.get(row.version) ?? EMPTY_BUCKET, row));
    }
    return [...byVersion].sort(([a], [b]) => b - a).map(([version, totals]) => ({ version, ...totals }));
  }

  private matching(resolution: number, from: Date): RollupRow[] {
    return this.rows.filter((r) => r.resolution === resolution && r.t >= from);
  }
}
