/**
 * The JSON shapes of the metrics and logs API. The dashboard and the CLI
 * read exactly these, so every surface shows the same numbers.
 */

export const METRICS_WINDOWS = ['5m', '1h', '24h', '7d'] as const;
export type MetricsWindow = (typeof METRICS_WINDOWS)[number];

/**
 * A logs `since` as an ISO time, epoch milliseconds, or a duration back from
 * `now` (`30s`, `15m`, `2h`, `1d`); null when it is none of those.
 */
export function sinceFrom(raw: string, now: number): Date | null {
  const duration = /^(\d+)(s|m|h|d)$/.exec(raw);
  if (duration) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[duration[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now - Number(duration[1]) * unit);
  }
  const date = /^\d+$/.test(raw) ? new Date(Number(raw)) : new Date(raw);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Percentiles in milliseconds, from log-bucketed histograms (within ±7%); null when there were no samples. */
export interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface StartKindCounts {
  cold: number;
  prewarmed: number;
  warm: number;
}

/** One time bucket of the series. */
export interface SeriesPoint {
  /** Bucket start, ISO 8601. */
  t: string;
  invocations: number;
  errors: number;
  throttles: number;
  /** Calls that started a container or loaded code (`cold` + `prewarmed`). */
  coldStarts: number;
  /** End-to-end latency percentiles in this bucket (queued → finished), all start kinds. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** Median code-load time of the cold and pre-warmed calls in this bucket. */
  initP50Ms: number | null;
  gbSeconds: number;
}

export interface FunctionMetrics {
  /** Function name, or null for the namespace summary. */
  function: string | null;
  window: MetricsWindow;
  from: string;
  to: string;
  /** Width of each series bucket, in seconds. */
  bucketSeconds: number;
  /** Every invocation that finished in the window, throttled ones included. */
  invocations: number;
  /** Failed calls (the function's own failures), by code. */
  errors: { total: number; byCode: Record<string, number> };
  throttles: number;
  startKinds: StartKindCounts;
  coldStarts: {
    /** `cold` + `prewarmed`: calls that paid a start or a code load. */
    count: number;
    /** count / calls that ran (throttled calls excluded), 0..1. */
    rate: number;
  };
  /** End-to-end latency (queued → finished), split by how the container was obtained. */
  latencyMs: { all: Percentiles; cold: Percentiles; prewarmed: Percentiles; warm: Percentiles };
  /** Handler time alone (what is billed). */
  durationMs: Percentiles;
  /** Code load (init) time of cold and pre-warmed calls. */
  initMs: Percentiles;
  queueWaitMs: Percentiles;
  /** Most calls of the function running at once on one worker, in the window. */
  peakConcurrency: number;
  usage: {
    /** Sum of billed durations (handler time rounded up to 1 ms). */
    billedMs: number;
    /** Σ memory (GB, 1 GB = 1024 MB) × billed seconds. */
    gbSeconds: number;
  };
  series: SeriesPoint[];
}

/**
 * One version's calls over the window, in `GET /v1/functions/{name}/metrics`:
 * what a canary did next to the version it may replace. Version 0 holds
 * calls recorded before rollups kept their version.
 */
export interface VersionMetrics {
  version: number;
  /** Every call of this version that finished in the window, throttled ones included. */
  invocations: number;
  /** Failed calls (the function's own failures). */
  errors: number;
  /** errors / calls that ran (throttled calls excluded), 0..1, to four places. */
  errorRate: number;
  throttles: number;
  /** `cold` + `prewarmed` starts, and their share of the calls that ran. */
  coldStarts: number;
  coldStartRate: number;
  /** End-to-end latency percentiles (queued → finished), all start kinds; null without samples. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** Handler time percentiles (what a rollout's guard compares). */
  durationP50Ms: number | null;
  durationP99Ms: number | null;
  gbSeconds: number;
}

/** `GET /v1/functions/{name}/metrics[?version=N]`. */
export interface FunctionMetricsReport extends FunctionMetrics {
  /** The version every number is about, or null for all of them. */
  version: number | null;
  /** Per version that had calls in the window (only `version` when one is asked for), newest version first. */
  versions: VersionMetrics[];
}

/** Containers on one worker, by state, per runtime. */
export interface WorkerPoolView {
  workerId: string;
  /** ISO time of the worker's last report. */
  seenAt: string;
  memoryUsedMb: number;
  memoryBudgetMb: number;
  byRuntime: Record<string, { busy: number; warm: number; prewarmed: number }>;
}

/** `GET /v1/metrics/summary`. */
export interface MetricsSummary extends FunctionMetrics {
  functions: Array<{ name: string; invocations: number; errors: number; coldStarts: number; coldStartRate: number; gbSeconds: number }>;
  /** The workers' containers (every tenant's): null unless the caller holds the admin key. */
  pool: { workers: WorkerPoolView[]; totals: { busy: number; warm: number; prewarmed: number } } | null;
}

/** One invocation in `GET /v1/functions/{name}/logs`, newest first. */
export interface LogEntry {
  invocationId: string;
  /** When it was queued, ISO 8601. */
  time: string;
  version: number;
  /** How the call came in: sync, async, http, schedule, event. */
  mode: string;
  /** The trigger that made it (mode schedule or event), or null. */
  trigger: string | null;
  status: string;
  logs: string;
  logsTruncated: boolean;
  /** Lambda-style one-line report: `REPORT RequestId: … Duration: … Billed Duration: … Memory Size: … Init Duration: … Start: cold`. */
  report: string;
}

/** One invocation in `GET /v1/functions/{name}/invocations`. */
export interface InvocationSummary {
  invocationId: string;
  time: string;
  version: number;
  mode: string;
  /** The trigger that made it (mode schedule or event), or null. */
  trigger: string | null;
  status: string;
  startKind: string;
  coldStart: boolean;
  durationMs: number;
  latencyMs: number;
  initMs: number;
  billedMs: number;
  errorCode: string | null;
}

/** A page of a list; pass `nextCursor` as `?cursor=` for the next (older) page; null at the end. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
