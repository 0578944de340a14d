/**
 * Which worker a call goes to. Calls of one function version go where that
 * version is already warm; failing that, to its "home" worker — the first in
 * a ranking by rendezvous hash of (version, worker), so a version keeps the
 * same home while workers come and go — and past a full home, down the same
 * ranking, then to the least loaded. It is OpenWhisk's home-invoker idea
 * without shared state: every gateway computes the same ranking.
 */
import { createHash } from 'node:crypto';
import { Counts } from '../../worker/common/counts.ts';
import type { WorkerReport } from '../../worker/contract/worker-report.ts';

/**
 * What this gateway has sent each worker that its last report may not show
 * yet, so a burst between two reports does not all land on one worker: sync
 * calls still waiting for their answer, and async calls sent since the
 * report. Constant time per call.
 */
export class RouteBook {
  private readonly syncInFlight = new Counts();
  /** Async send times per worker, oldest first. */
  private readonly asyncSent = new Map<string, number[]>();

  /** Counts a call sent to `workerId`; for a sync call, returns a token for `done`. */
  note(workerId: string, sync: boolean, at = Date.now()): object | null {
    if (sync) {
      this.syncInFlight.add(workerId, 1);
      return { workerId };
    }
    let times = this.asyncSent.get(workerId);
    if (!times) this.asyncSent.set(workerId, (times = []));
    times.push(at);
    // Reports come every 2 s; nothing older than a few seconds matters.
    let drop = 0;
    while (drop < times.length && times[drop]! < at - 10_000) drop++;
    if (drop > 0) times.splice(0, drop);
    return null;
  }

  done(token: object): void {
    const { workerId } = token as { workerId: string };
    this.syncInFlight.add(workerId, -1);
  }

  /** The worker's load as this gateway best knows it. */
  load(worker: { workerId: string; inFlight: number; seenAt: string }): number {
    const since = Date.parse(worker.seenAt);
    const times = this.asyncSent.get(worker.workerId) ?? [];
    // Binary search for the first async send after the report.
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! <= since) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(worker.inFlight, this.syncInFlight.get(worker.workerId)) + (times.length - lo);
  }
}

function rank(key: string, workerId: string): string {
  return createHash('sha1').update(`${key}\0${workerId}`).digest('hex');
}

/**
 * The worker for a call to `key` (`functionId@version`) of `runtime`, or null
 * when no live worker can take it (the call then goes to the shared queue).
 */
export function chooseWorker(workers: readonly WorkerReport[], key: string, runtime: string, book: RouteBook): string | null {
  const live = workers.filter((w) => w.runtimes.includes(runtime));
  if (live.length === 0) return null;
  const load = (w: WorkerReport) => book.load(w);
  const hasRoom = (w: WorkerReport) => load(w) < w.concurrency;

  const warm = live
    .map((w) => ({ w, entry: w.warm.find((e) => e.key === key) }))
    .filter((c): c is { w: WorkerReport; entry: NonNullable<typeof c.entry> } => c.entry !== undefined && hasRoom(c.w))
    .sort((a, b) => b.entry.idle - a.entry.idle || load(a.w) - load(b.w));
  if (warm[0]) return warm[0].w.workerId;

  const ranked = live.map((w) => ({ w, rank: rank(key, w.workerId) })).sort((a, b) => (a.rank < b.rank ? 1 : -1));
  const home = ranked.find((r) => hasRoom(r.w))?.w;
  if (home) return home.workerId;
  return [...live].sort((a, b) => load(a) / a.concurrency - load(b) / b.concurrency)[0]!.workerId;
}
