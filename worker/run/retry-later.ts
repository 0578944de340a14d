/** Raised by the job policy to put a call back in the queue for `delayMs` (not a failure: no attempt is used). */
export class RetryLater extends Error {
  override name = 'RetryLater';
  constructor(
    readonly delayMs: number,
    /**
     * Called with the job's wake name (for `InvocationConsumer.wake`) once it
     * is back in the queue, so that whoever frees what it waits for can wake
     * it before `delayMs`; resolving true wakes it at once.
     */
    readonly park?: (wakeName: string) => Promise<boolean>,
  ) {
    super(`retry in ${delayMs} ms`);
  }
}
