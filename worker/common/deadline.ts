/** Waiting for an agent with a limit: init and invoke never hang the caller. */

export const TIMED_OUT = Symbol('timed out');

/** Settles with the value, the rejection as an Error, or TIMED_OUT; never rejects. */
export async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | Error | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise.catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
