/**
 * Moves calls off dead workers: every few seconds one gateway (holding a
 * lease in Redis) looks for workers that reported before but not within the
 * staleness window, and moves their queued calls — and calls they were
 * running whose locks expired — to the shared queue, where any worker takes
 * them. A worker restarted under the same id would have resumed them itself;
 * the shared queue gets them only if it does not come back in time.
 */
import { randomBytes } from 'node:crypto';
import type { InvocationQueue } from '../queue/invocation-queue.ts';
import type { Logger } from '../../worker/common/logger.ts';
import type { WorkerRegistry } from '../../worker/common/redis/worker-registry.ts';

export const REAP_INTERVAL_MS = 3000;
/** Forget a dead worker's id after this long with nothing left to move. */
const FORGET_AFTER_MS = 3600_000;

export function startQueueReaper(registry: WorkerRegistry, queue: InvocationQueue, log: Logger) {
  const holder = `gw-${randomBytes(4).toString('hex')}`;
  const emptySince = new Map<string, number>();
  let running = false;
  const reap = async () => {
    if (running) return;
    running = true;
    try {
      if (!(await registry.tryLead('reaper', holder, REAP_INTERVAL_MS * 3))) return;
      const live = new Set((await registry.list()).map((w) => w.workerId));
      for (const id of await registry.knownIds()) {
        if (live.has(id)) {
          emptySince.delete(id);
          continue;
        }
        const moved = await queue.reapWorkerQueue(id);
        if (moved > 0) {
          log.warn('moved calls off a dead worker', { workerId: id, moved });
          emptySince.delete(id);
        } else {
          const since = emptySince.get(id) ?? Date.now();
          emptySince.set(id, since);
          if (Date.now() - since > FORGET_AFTER_MS) {
            await registry.forget(id);
            emptySince.delete(id);
          }
        }
      }
    } catch (err) {
      log.warn('reaping dead workers failed', { err });
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void reap(), REAP_INTERVAL_MS);
  timer.unref();
  return {
    /** Runs one round now (tests). */
    reapNow: reap,
    stop() {
      clearInterval(timer);
    },
  };
}
