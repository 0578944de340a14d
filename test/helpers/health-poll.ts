/** Watching the gateway's event loop from outside while a test sends it something hostile. */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

/**
 * Polls `/healthz` every 10 ms until stopped. The worst wait is the longest
 * a client arriving at any moment waited for an answer: from when the next
 * poll was due (10 ms after the last answer) to its answer, so a stall
 * between polls counts too. The returned stop function carries `ready`,
 * which resolves at the first answer: await it before sending what is to be
 * measured, so the polling covers all of it.
 */
export function pollHealth(url: string) {
  let stopped = false;
  let worst = 0;
  let failures = 0;
  let answered!: () => void;
  const ready = new Promise<void>((resolve) => (answered = resolve));
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const loop = (async () => {
    let due = performance.now();
    while (!stopped) {
      try {
        const res = await fetch(`${url}/healthz`);
        await res.arrayBuffer();
        if (res.status !== 200) failures++;
      } catch {
        failures++;
      }
      const answeredAt = performance.now();
      worst = Math.max(worst, answeredAt - due);
      answered();
      await new Promise((r) => setTimeout(r, 10));
      due = answeredAt + 10;
    }
  })();
  const stop = async () => {
    stopped = true;
    await loop;
    delay.disable();
    return { worstHealthMs: Math.round(worst), worstLoopDelayMs: Math.round(delay.max / 1e6), failures };
  };
  return Object.assign(stop, { ready });
}
