/**
 * Which worker a call goes to. Calls of one function version go where that
 * version is already warm; failing that, to its "home" worker — the first in
 * a ranking by rendezvous hash of (version, worker), so a version keeps the
 * same home while workers come and go — and past a full home, down the same
 * ranking, then to the least loaded. It is OpenWhisk's home-invoker idea
 * without shared state: every gateway computes the same ranking.
 */
import { createHash } from 'node:crypto';
import type { WorkerReport } from '../../worker/worker-registry.ts';

/**
 * Calls this gateway sent to each worker since that worker last reported, so
 * a burst between two reports does not all land on one worker. A sync call
 * stops counting when its answer comes (`done`); an async one when the next
 * report (which includes it, if still running) supersedes it.
 */
export class RouteBook {
  private readonly sent = new Set<{ workerId: string; at: number }>();

  /** Counts a call sent to `workerId`; returns a token for `done`. */
  note(workerId: string, at = Date.now()): object {
    const entry = { workerId, at };
    this.sent.add(entry);
    // Reports come every 2 s; nothing older than a few seconds matters.
    for (const old of this.sent) {
      if (old.at >= at - 10_000) break;
      this.sent.delete(old);
    }
    return entry;
  }

  done(token: object): void {
    this.sent.delete(token as { workerId: string; at: number });
  }

  sentSince(workerId: string, since: number): number {
    let n = 0;
    for (const s of this.sent) if (s.workerId === workerId && s.at > since) n++;
    return n;
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
  const load = (w: WorkerReport) => w.inFlight + book.sentSince(w.workerId, Date.parse(w.seenAt));
  const hasRoom = (w: WorkerReport) => load(w) < w.concurrency;

  const warm = live
    .map((w) => ({ w, entry: w.warm.find((e) => e.key === key) }))
    .filter((c): c is { w: WorkerReport; entry: NonNullable<typeof c.entry> } => c.entry !== undefined && hasRoom(c.w))
    .sort((a, b) => b.entry.idle - a.entry.idle || load(a.w) - load(b.w));
  if (warm[0]) return warm[0].w.workerId;

  const ranked = [...live].sort((a, b) => (rank(key, a.workerId) < rank(key, b.workerId) ? 1 : -1));
  const home = ranked.find(hasRoom);
  if (home) return home.workerId;
  return [...live].sort((a, b) => load(a) / a.concurrency - load(b) / b.concurrency)[0]!.workerId;
}
