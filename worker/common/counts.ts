/** Counts per key that go up and down; a key whose count reaches zero is forgotten. */
export class Counts<K = string> {
  private readonly counts = new Map<K, number>();

  get(key: K): number {
    return this.counts.get(key) ?? 0;
  }

  /** Adds `delta` (never going below zero) and returns the new count. */
  add(key: K, delta: number): number {
    const n = Math.max(0, this.get(key) + delta);
    if (n > 0) this.counts.set(key, n);
    else this.counts.delete(key);
    return n;
  }

  /** The sum over every key. */
  total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }
}
