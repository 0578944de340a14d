/** Watching the gateway's event loop from outside while a test sends it something hostile. */
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';

/**
 * Polls `/healthz` every 10 ms until stopped. The worst wait is the longest
 * a client arriving at any moment waited for an answer: from when the next
 * poll was due (10 ms after the last answer) to its answer, so a stall
 * between polls counts too. The returned stop function carries `ready`,
 * which resolves at the first answer: await it before sending what is to be
 * measured, so the polling covers all of it.
 *
 * It also reports the longest garbage-collection pause seen meanwhile. The
 * gateway shares this process with the test runner and the worker, so a
 * collection of that shared heap stalls the gateway too, though in a
 * deployment the gateway's heap is its own and far smaller.
 */
export function pollHealth(url: string) {
  let stopped = false;
  let worst = 0;
  let failures = 0;
  let answered!: () => void;
  const ready = new Promise<void>((resolve) => (answered = resolve));
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let worstGc = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) worstGc = Math.max(worstGc, entry.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  const loop = (async () => {
    let due = performance.now();
    let first = true;
    while (!stopped) {
      try {
        const res = await fetch(`${url}/healthz`);
        await res.arrayBuffer();
        if (res.status !== 200) failures++;
      } catch {
        failures++;
      }
      const answeredAt = performance.now();
      // The first poll is not counted: it is the one `ready` waits for, and it pays for this process's first fetch.
      if (first) first = false;
      else worst = Math.max(worst, answeredAt - due);
      answered();
      await new Promise((r) => setTimeout(r, 10));
      due = answeredAt + 10;
    }
  })();
  const stop = async () => {
    stopped = true;
    await loop;
    delay.disable();
    gc.disconnect();
    return { worstHealthMs: Math.round(worst), worstLoopDelayMs: Math.round(delay.max / 1e6), worstGcMs: Math.round(worstGc), failures };
  };
  return Object.assign(stop, { ready });
}
