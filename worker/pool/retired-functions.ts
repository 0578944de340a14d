/**
 * Deleted functions whose sandboxes must not go idle again. A call that
 * passed the worker's deleted check just before the deletion still runs;
 * when it ends, its sandbox is discarded instead of kept warm.
 *
 * An entry is needed only while such a call may still be on its way: from
 * the check to holding a sandbox takes at most a memory wait, a start and an
 * init (minutes at worst), and holding one lasts as long as the call. So an
 * entry is kept `graceMs` after the deletion, and beyond that only while the
 * pool still holds a sandbox of the function; older entries are dropped at
 * the next deletion. The set holds about one grace window's deletions, not
 * every deletion since the worker started.
 */

/** Longer than any path from the deleted check to a held sandbox (60 s memory wait, start timeout, 10 s init). */
export const RETIRED_GRACE_MS = 10 * 60_000;

export class RetiredFunctions {
  /** When each function was retired, oldest first. */
  private readonly since = new Map<string, number>();

  constructor(private readonly graceMs = RETIRED_GRACE_MS) {}

  /** Remembers `functionId`, and forgets older entries past the grace whose function `held` says the pool no longer holds. */
  add(functionId: string, held: (functionId: string) => boolean): void {
    const now = Date.now();
    for (const [id, at] of this.since) {
      // Insertion order is retirement order: the rest are younger.
      if (now - at < this.graceMs) break;
      if (!held(id)) this.since.delete(id);
    }
    this.since.delete(functionId);
    this.since.set(functionId, now);
  }

  has(functionId: string): boolean {
    return this.since.has(functionId);
  }

  get size(): number {
    return this.since.size;
  }
}
