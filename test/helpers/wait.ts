export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every `intervalMs` until it holds or `timeoutMs` passes; resolves with its last answer. */
export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(intervalMs);
  }
  return check();
}

/**
 * Polls `check` (a throw counts as not yet) until it holds; throws
 * "`what` not ready within `timeoutMs` ms" if it never does.
 */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000, intervalMs = 100): Promise<void> {
  const settled = async () => {
    try {
      return await check();
    } catch {
      return false;
    }
  };
  if (!(await waitUntil(settled, timeoutMs, intervalMs))) throw new Error(`${what} not ready within ${timeoutMs} ms`);
}
