/**
 * What a deploy learns from the live workers' reports: whether any serves
 * its runtime, and how a Lambda name it gave was resolved. Pure, over the
 * reports (`MetricsReader.workers`).
 *
 * The refusal applies only once at least one worker has reported: with no
 * report at all (a gateway started before any worker, or in-memory tests
 * with no workers) nothing is known of this installation's images, and a
 * deploy is accepted as it always was; its calls wait in the queue for a
 * worker that serves the runtime.
 */
import { RUNTIME_NAMES, type RuntimeName } from '../../runtime-images/runtimes.ts';
import type { WorkerReport } from '../../worker/contract/worker-report.ts';
import { HearthError } from '../errors.ts';
import { listRuntimes, primaryVersion } from './runtime-list.ts';

/** Says how a runtime name given at deploy was resolved, when it was not Hearth's own. */
export interface RuntimeResolved {
  /** The name as given (`nodejs22.x`). */
  requested: string;
  /** The Hearth runtime it runs on (`nodejs20`). */
  runtime: RuntimeName;
  /** The version that runtime carries (`20.19.2`), when live workers know it. */
  version?: string;
}

/**
 * Throws 400 `RuntimeUnavailable` when workers have reported and none serves
 * `runtime`, naming the runtimes that are available. `requested` is the name
 * the caller gave, when it was a Lambda one.
 */
export function assertRuntimeServed(reports: readonly WorkerReport[], runtime: RuntimeName, requested?: string): void {
  if (reports.length === 0) return;
  if (reports.some((r) => r.runtimes.includes(runtime))) return;
  const available = RUNTIME_NAMES.filter((name) => reports.some((r) => r.runtimes.includes(name)));
  const asked = requested !== undefined && requested !== runtime ? `"${requested}" runs on ${runtime}, which` : `runtime ${runtime}`;
  throw new HearthError(
    'RuntimeUnavailable',
    `${asked} is not available on this installation: none of the ${reports.length} live worker(s) serves it. Available: ${available.join(', ') || 'none'} (GET /v1/runtimes).`,
    { runtime, available },
  );
}

/** `runtimeResolved` for a deploy that named `requested` and runs on `runtime`. */
export function runtimeResolved(reports: readonly WorkerReport[], runtime: RuntimeName, requested: string): RuntimeResolved {
  const view = listRuntimes(reports).runtimes.find((r) => r.name === runtime);
  const version = view && primaryVersion(view);
  return { requested, runtime, ...(version ? { version } : {}) };
}

/**
 * The live reports, or none when they cannot be read (Redis away): then
 * nothing is known, and a deploy goes on rather than failing on a read it
 * does not need.
 */
export async function reportsOrNone(read: () => Promise<WorkerReport[]>): Promise<WorkerReport[]> {
  try {
    return await read();
  } catch {
    return [];
  }
}
