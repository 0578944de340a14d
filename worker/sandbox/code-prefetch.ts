/**
 * Unpacks newly deployed code before its first call (issue 16: a function of
 * thousands of files spends most of its first call creating them). A deploy's
 * broadcast names the code; this worker fetches and unpacks it, one archive
 * at a time and at most `maxQueued` waiting, so a burst of deploys costs a
 * bounded queue, not a burst of work, and what does not fit is left to the
 * first call as before. Nothing here is needed for correctness: a call that
 * arrives first simply joins (or starts) the same load.
 */
import type { Logger } from '../common/logger.ts';

export interface CodePrefetcher {
  /** Queues `sha256` for unpacking, unless it is queued already or the queue is full. */
  add(sha256: string): void;
  /** Takes nothing more and waits for the archive being unpacked, if any. */
  stop(): Promise<void>;
}

export function createCodePrefetcher(cache: { prefetch(sha256: string): Promise<boolean> }, log: Logger, maxQueued = 16): CodePrefetcher {
  const queue: string[] = [];
  let running: Promise<void> | null = null;
  let stopped = false;
  const drain = async () => {
    for (let sha256 = queue.shift(); sha256 !== undefined && !stopped; sha256 = queue.shift()) {
      const started = performance.now();
      try {
        if (await cache.prefetch(sha256)) log.info('code prefetched', { sha256, ms: Math.round(performance.now() - started) });
      } catch (err) {
        log.warn('could not prefetch code', { sha256, err });
      }
    }
    running = null;
  };
  return {
    add(sha256) {
      if (stopped || queue.includes(sha256) || queue.length >= maxQueued) return;
      queue.push(sha256);
      running ??= drain();
    },
    async stop() {
      stopped = true;
      queue.length = 0;
      await running;
    },
  };
}
