/**
 * Waiting for a busy sandbox instead of starting a new one. When a call
 * finds no idle sandbox of its version but some are busy, and their recent
 * calls are short enough that one will come free well before a cold start
 * could finish, the call waits for the next one released (handed over
 * directly, FIFO). Under a burst of short calls this keeps a few containers
 * saturated instead of cold-starting one per concurrent call. A wait that
 * runs past the cold-start estimate gives up and the caller starts cold.
 */

/** Weight of the newest sample in the moving averages. */
const ALPHA = 0.2;

interface Waiter<T> {
  resolve(member: T | null): void;
  timer: NodeJS.Timeout;
}

export class HandOff<T> {
  private readonly waiters = new Map<string, Array<Waiter<T>>>();
  private readonly durationMs = new Map<string, number>();
  private coldStartMs: number;

  constructor(initialColdStartMs = 250) {
    this.coldStartMs = initialColdStartMs;
  }

  /** Feeds the time a call to `key` held its sandbox. */
  observeDuration(key: string, ms: number): void {
    const previous = this.durationMs.get(key);
    this.durationMs.set(key, previous === undefined ? ms : previous + ALPHA * (ms - previous));
  }

  /** Feeds how long a cold start took (any version). */
  observeColdStart(ms: number): void {
    this.coldStartMs += ALPHA * (ms - this.coldStartMs);
  }

  /**
   * Whether a call to `key`, finding `busy` sandboxes all in use (or still
   * starting), should wait for one. With no calls measured yet, it waits for
   * the first to finish: a burst of first calls then starts one container,
   * not one each, unless that first call turns out slow (the wait times out).
   */
  shouldWait(key: string, busy: number): boolean {
    if (busy === 0) return false;
    const duration = this.durationMs.get(key);
    if (duration === undefined) return true;
    const ahead = (this.waiters.get(key)?.length ?? 0) + 1;
    return (duration * ahead) / busy < this.coldStartMs / 2;
  }

  /** Resolves with a member handed over by `offer`, or null once waiting stops paying off. */
  wait(key: string): Promise<T | null> {
    return new Promise((resolve) => {
      const queue = this.waiters.get(key) ?? [];
      this.waiters.set(key, queue);
      const waiter: Waiter<T> = {
        resolve,
        timer: setTimeout(() => {
          this.drop(key, waiter);
          resolve(null);
        }, this.coldStartMs),
      };
      queue.push(waiter);
    });
  }

  /** Hands `member` to the longest waiting call for `key`; false if nobody waits. */
  offer(key: string, member: T): boolean {
    const waiter = this.waiters.get(key)?.[0];
    if (!waiter) return false;
    this.drop(key, waiter);
    waiter.resolve(member);
    return true;
  }

  /** A busy member of `key` went away: one waiter stops waiting for it. */
  cancelOne(key: string): void {
    const waiter = this.waiters.get(key)?.[0];
    if (!waiter) return;
    this.drop(key, waiter);
    waiter.resolve(null);
  }

  /** Everyone stops waiting (shutdown). */
  cancelAll(): void {
    for (const key of [...this.waiters.keys()]) while (this.waiters.get(key)?.length) this.cancelOne(key);
  }

  private drop(key: string, waiter: Waiter<T>): void {
    clearTimeout(waiter.timer);
    const queue = this.waiters.get(key);
    if (!queue) return;
    const index = queue.indexOf(waiter);
    if (index >= 0) queue.splice(index, 1);
    if (queue.length === 0) this.waiters.delete(key);
  }
}
