/**
 * The worker's memory budget: the sum of the memory limits of every
 * container it holds (busy, idle, pre-warmed, starting) never exceeds it.
 * Limits, not current usage, are what is counted, so the host is never
 * over-committed however the functions behave.
 */
export class MemoryBudget {
  private usedMb = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly totalMb: number) {}

  get used(): number {
    return this.usedMb;
  }

  get free(): number {
    return this.totalMb - this.usedMb;
  }

  /** Takes `mb` if it fits; false (and nothing taken) otherwise. */
  tryReserve(mb: number): boolean {
    if (this.usedMb + mb > this.totalMb) return false;
    this.usedMb += mb;
    return true;
  }

  /** Gives `mb` back and wakes everyone waiting for room. */
  release(mb: number): void {
    this.usedMb = Math.max(0, this.usedMb - mb);
    this.notify();
  }

  /** Resolves at the next release or `notify` (a container went idle and may be evicted). */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  notify(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
