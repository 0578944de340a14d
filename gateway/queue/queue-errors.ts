/** What the gateway's queue handle raises; the dispatcher and the routes turn them into answers. */

/** Raised when a job failed for a platform reason (not the function's). */
export class InvocationPlatformError extends Error {
  override name = 'InvocationPlatformError';
}

/** Raised when the queue cannot take a call right now (Redis unreachable). */
export class QueueUnavailableError extends Error {
  override name = 'QueueUnavailableError';
  constructor(
    message: string,
    /** True when the add was sent but not confirmed in time: it may still land. */
    readonly mayHaveQueued = false,
  ) {
    super(message);
  }
}

/** `work`, with any failure of Redis said as `QueueUnavailableError`. */
export async function orUnavailable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw err instanceof QueueUnavailableError ? err : new QueueUnavailableError(`the queue is unreachable (${(err as Error).message})`);
  }
}
