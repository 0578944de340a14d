/**
 * Turning rollup rows (already summed per series bucket by the store) into
 * the metrics answer. Pure: the same rows always give the same numbers.
 */
import { addHistograms, countOf, quantile } from './histogram.ts';
import type { WindowPlan } from './metrics-windows.ts';
import type { FunctionMetrics, Percentiles, SeriesPoint } from './metrics-view.ts';

/** Sums of the rollups in one series bucket. */
export interface BucketRow {
  t: Date;
  invocations: number;
  errors: number;
  throttles: number;
  cold: number;
  prewarmed: number;
  warm: number;
  functionErrors: number;
  timeouts: number;
  outOfMemory: number;
  crashes: number;
  billedMs: number;
  gbSeconds: number;
  maxConcurrency: number;
  latencyCold: number[];
  latencyPrewarmed: number[];
  latencyWarm: number[];
  duration: number[];
  init: number[];
  queueWait: number[];
}

export const EMPTY_BUCKET: Omit<BucketRow, 't'> = {
  invocations: 0,
  errors: 0,
  throttles: 0,
  cold: 0,
  prewarmed: 0,
  warm: 0,
  functionErrors: 0,
  timeouts: 0,
  outOfMemory: 0,
  crashes: 0,
  billedMs: 0,
  gbSeconds: 0,
  maxConcurrency: 0,
  latencyCold: [],
  latencyPrewarmed: [],
  latencyWarm: [],
  duration: [],
  init: [],
  queueWait: [],
};

function percentiles(histogram: number[]): Percentiles {
  return {
    count: countOf(histogram),
    p50: quantile(histogram, 0.5),
    p95: quantile(histogram, 0.95),
    p99: quantile(histogram, 0.99),
  };
}

function merge(a: Omit<BucketRow, 't'>, b: Omit<BucketRow, 't'>): Omit<BucketRow, 't'> {
  return {
    invocations: a.invocations + b.invocations,
    errors: a.errors + b.errors,
    throttles: a.throttles + b.throttles,
    cold: a.cold + b.cold,
    prewarmed: a.prewarmed + b.prewarmed,
    warm: a.warm + b.warm,
    functionErrors: a.functionErrors + b.functionErrors,
    timeouts: a.timeouts + b.timeouts,
    outOfMemory: a.outOfMemory + b.outOfMemory,
    crashes: a.crashes + b.crashes,
    billedMs: a.billedMs + b.billedMs,
    gbSeconds: a.gbSeconds + b.gbSeconds,
    maxConcurrency: Math.max(a.maxConcurrency, b.maxConcurrency),
    latencyCold: addHistograms(a.latencyCold, b.latencyCold),
    latencyPrewarmed: addHistograms(a.latencyPrewarmed, b.latencyPrewarmed),
    latencyWarm: addHistograms(a.latencyWarm, b.latencyWarm),
    duration: addHistograms(a.duration, b.duration),
    init: addHistograms(a.init, b.init),
    queueWait: addHistograms(a.queueWait, b.queueWait),
  };
}

export const round = (n: number, digits = 6) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Cold and pre-warmed starts over all starts (throttled calls did not start), to four places. */
export function coldStartRate(starts: { cold: number; prewarmed: number; warm: number }): number {
  const ran = starts.cold + starts.prewarmed + starts.warm;
  return ran === 0 ? 0 : round((starts.cold + starts.prewarmed) / ran, 4);
}

const allLatency = (b: Pick<BucketRow, 'latencyCold' | 'latencyPrewarmed' | 'latencyWarm'>) =>
  addHistograms(addHistograms(b.latencyCold, b.latencyPrewarmed), b.latencyWarm);

/** Builds the answer for `plan`, with a series point for every bucket from `from` (empty ones zero). */
export function computeMetrics(
  functionName: string | null,
  plan: WindowPlan,
  from: Date,
  now: Date,
  rows: BucketRow[],
): FunctionMetrics {
  const byTime = new Map(rows.map((r) => [r.t.getTime(), r]));
  let total = EMPTY_BUCKET;
  const series: SeriesPoint[] = [];
  for (let i = 0; i < plan.points; i++) {
    const t = from.getTime() + i * plan.bucketSeconds * 1000;
    const row = byTime.get(t) ?? { t: new Date(t), ...EMPTY_BUCKET };
    total = merge(total, row);
    const all = allLatency(row);
    series.push({
      t: new Date(t).toISOString(),
      invocations: row.invocations,
      errors: row.errors,
      throttles: row.throttles,
      coldStarts: row.cold + row.prewarmed,
      p50Ms: quantile(all, 0.5),
      p99Ms: quantile(all, 0.99),
      initP50Ms: quantile(row.init, 0.5),
      gbSeconds: round(row.gbSeconds),
    });
  }
  const byCode: Record<string, number> = {};
  for (const [code, n] of [
    ['FunctionError', total.functionErrors],
    ['FunctionTimeout', total.timeouts],
    ['FunctionOutOfMemory', total.outOfMemory],
    ['FunctionCrashed', total.crashes],
  ] as const) {
    if (n > 0) byCode[code] = n;
  }
  return {
    function: functionName,
    window: plan.window,
    from: from.toISOString(),
    to: now.toISOString(),
    bucketSeconds: plan.bucketSeconds,
    invocations: total.invocations,
    errors: { total: total.errors, byCode },
    throttles: total.throttles,
    startKinds: { cold: total.cold, prewarmed: total.prewarmed, warm: total.warm },
    coldStarts: { count: total.cold + total.prewarmed, rate: coldStartRate(total) },
    latencyMs: {
      all: percentiles(allLatency(total)),
      cold: percentiles(total.latencyCold),
      prewarmed: percentiles(total.latencyPrewarmed),
      warm: percentiles(total.latencyWarm),
    },
    durationMs: percentiles(total.duration),
    initMs: percentiles(total.init),
    queueWaitMs: percentiles(total.queueWait),
    peakConcurrency: total.maxConcurrency,
    usage: { billedMs: total.billedMs, gbSeconds: round(total.gbSeconds) },
    series,
  };
}
