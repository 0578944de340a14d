/**
 * Idle containers waiting for their next call, grouped by key (a function
 * version, or a pre-warmed class). Pure bookkeeping: it never starts or stops
 * anything itself; it tells its owner (through `onExpire`) when a member has
 * been idle past its keep-alive.
 *
 * Reuse is most-recently-used first, so a burst's extra containers fall idle
 * at the bottom of the stack and expire, shrinking the pool back to what the
 * steady load needs (and to zero when calls stop). Eviction under memory
 * pressure takes the least recently used member across all keys.
 */

export interface PoolMember {
  /** Members are only handed to calls with the same key. */
  readonly key: string;
}

export interface WarmPoolOptions<T> {
  /** Keep-alive for members released without one of their own. */
  keepAliveMs: number;
  /** Called when a member expires; it has already left the pool. */
  onExpire(member: T): void;
}

export class WarmPool<T extends PoolMember> {
  private readonly idle = new Map<string, T[]>();
  /** Every idle member, in the order it was released (oldest first). */
  private readonly byRelease = new Map<T, NodeJS.Timeout>();

  constructor(private readonly options: WarmPoolOptions<T>) {}

  /** Takes the most recently used idle member for `key`, if any. */
  take(key: string): T | undefined {
    const stack = this.idle.get(key);
    const member = stack?.pop();
    if (!member) return undefined;
    if (stack!.length === 0) this.idle.delete(key);
    this.forget(member);
    return member;
  }

  /** Returns a member to the pool as idle; its keep-alive starts now. */
  release(member: T, keepAliveMs = this.options.keepAliveMs): void {
    let stack = this.idle.get(member.key);
    if (!stack) {
      stack = [];
      this.idle.set(member.key, stack);
    }
    stack.push(member);
    const timer = setTimeout(() => {
      if (this.remove(member)) this.options.onExpire(member);
    }, keepAliveMs);
    timer.unref?.();
    this.byRelease.set(member, timer);
  }

  /** Removes an idle member (it died, or is being evicted). True if it was idle here. */
  remove(member: T): boolean {
    const stack = this.idle.get(member.key);
    const index = stack?.indexOf(member) ?? -1;
    if (index < 0) return false;
    stack!.splice(index, 1);
    if (stack!.length === 0) this.idle.delete(member.key);
    this.forget(member);
    return true;
  }

  /** Removes and returns the least recently used idle member matching `predicate`. */
  evictLeastRecentlyUsed(predicate: (member: T) => boolean = () => true): T | undefined {
    for (const member of this.byRelease.keys()) {
      if (predicate(member)) {
        this.remove(member);
        return member;
      }
    }
    return undefined;
  }

  /** Removes and returns every idle member matching `predicate`. */
  removeWhere(predicate: (member: T) => boolean): T[] {
    const removed: T[] = [];
    for (const member of [...this.byRelease.keys()]) {
      if (predicate(member) && this.remove(member)) removed.push(member);
    }
    return removed;
  }

  /** Removes and returns every idle member (shutdown). */
  drain(): T[] {
    return this.removeWhere(() => true);
  }

  isIdle(member: T): boolean {
    return this.byRelease.has(member);
  }

  /** Number of idle members, for one key or in total. */
  size(key?: string): number {
    if (key !== undefined) return this.idle.get(key)?.length ?? 0;
    return this.byRelease.size;
  }

  private forget(member: T): void {
    const timer = this.byRelease.get(member);
    if (timer) clearTimeout(timer);
    this.byRelease.delete(member);
  }
}
