/**
 * Idle containers waiting for their next call, grouped by function version.
 * Pure bookkeeping: it never starts or stops anything itself; it tells its
 * owner (through `onExpire`) when a member has been idle past the keep-alive.
 *
 * Reuse is most-recently-used first, so a burst's extra containers fall idle
 * at the bottom of the stack and expire, shrinking the pool back to what the
 * steady load needs (and to zero when calls stop).
 */

export interface PoolMember {
  /** Members are only handed to calls with the same key (function version). */
  readonly key: string;
}

export interface WarmPoolOptions<T> {
  keepAliveMs: number;
  /** Called when a member expires; it has already left the pool. */
  onExpire(member: T): void;
}

export class WarmPool<T extends PoolMember> {
  private readonly idle = new Map<string, T[]>();
  private readonly timers = new Map<T, NodeJS.Timeout>();

  constructor(private readonly options: WarmPoolOptions<T>) {}

  /** Takes the most recently used idle member for `key`, if any. */
  take(key: string): T | undefined {
    const stack = this.idle.get(key);
    const member = stack?.pop();
    if (!member) return undefined;
    if (stack!.length === 0) this.idle.delete(key);
    this.clearTimer(member);
    return member;
  }

  /** Returns a member to the pool as idle; its keep-alive starts now. */
  release(member: T): void {
    let stack = this.idle.get(member.key);
    if (!stack) {
      stack = [];
      this.idle.set(member.key, stack);
    }
    stack.push(member);
    const timer = setTimeout(() => {
      if (this.remove(member)) this.options.onExpire(member);
    }, this.options.keepAliveMs);
    timer.unref?.();
    this.timers.set(member, timer);
  }

  /** Removes an idle member (it died, or is being evicted). True if it was idle here. */
  remove(member: T): boolean {
    const stack = this.idle.get(member.key);
    const index = stack?.indexOf(member) ?? -1;
    if (index < 0) return false;
    stack!.splice(index, 1);
    if (stack!.length === 0) this.idle.delete(member.key);
    this.clearTimer(member);
    return true;
  }

  /** Removes and returns every idle member matching `predicate`. */
  removeWhere(predicate: (member: T) => boolean): T[] {
    const removed: T[] = [];
    for (const stack of [...this.idle.values()]) {
      for (const member of [...stack]) {
        if (predicate(member) && this.remove(member)) removed.push(member);
      }
    }
    return removed;
  }

  /** Removes and returns every idle member (shutdown). */
  drain(): T[] {
    return this.removeWhere(() => true);
  }

  /** Number of idle members, for one key or in total. */
  size(key?: string): number {
    if (key !== undefined) return this.idle.get(key)?.length ?? 0;
    let total = 0;
    for (const stack of this.idle.values()) total += stack.length;
    return total;
  }

  private clearTimer(member: T): void {
    const timer = this.timers.get(member);
    if (timer) clearTimeout(timer);
    this.timers.delete(member);
  }
}
