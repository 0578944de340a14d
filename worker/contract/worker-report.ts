/**
 * What each worker tells everyone every few seconds (`worker-registry.ts`
 * stores it): that it is alive, its pool by state and runtime, and which
 * function versions it holds warm. Gateways route and pre-warm by it.
 */

export const REPORT_INTERVAL_MS = 2000;
/** A report older than this is from a worker presumed dead. */
export const STALE_MS = 10_000;

/** Sandboxes of one kind by state. */
export interface StateCounts {
  busy: number;
  warm: number;
  prewarmed: number;
}

/** A worker's pool: sandboxes by state, overall and per runtime, and memory held. */
export interface PoolStats extends StateCounts {
  byRuntime: Record<string, StateCounts>;
  memoryUsedMb: number;
  memoryBudgetMb: number;
  /** Pre-warmed containers starting now (absent from workers older than this field). */
  prewarmStarting?: number;
}

/** Idle and total containers of one function version on a worker. */
export interface WarmEntry {
  /** `functionId@version`, the pool key (`sandboxKey`). */
  key: string;
  namespace: string;
  functionName: string;
  version: number;
  idle: number;
  total: number;
}

/** One runtime image a worker has (`worker/run/runtime-inventory.ts`). */
export interface RuntimeImageReport {
  runtime: string;
  /** The tag it was looked up by. */
  image: string;
  /** The engine's image id: workers with the same id run the same bytes. */
  imageId: string;
  sizeBytes: number;
  /** When the image was built, ISO time. */
  createdAt: string;
  /** What it carries, by component: `{ node: "20.19.2" }`; empty until known. */
  versions: Record<string, string>;
}

export interface WorkerReport {
  workerId: string;
  host: string;
  startedAt: string;
  /** ISO time of this report. */
  seenAt: string;
  /** Most invocations it runs at once. */
  concurrency: number;
  /** Invocations running now. */
  inFlight: number;
  /** The runtimes it serves: those it was asked to (`HEARTH_RUNTIMES`) whose image it has. */
  runtimes: string[];
  pool: PoolStats;
  warm: WarmEntry[];
  /** The images of `runtimes`, as it inspected them at start; absent from workers older than this field. */
  runtimeImages?: RuntimeImageReport[];
}
