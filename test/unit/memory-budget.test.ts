import { describe, expect, it } from 'vitest';
import { MemoryBudget } from '../../worker/pool/memory-budget.ts';

describe('memory budget', () => {
  it('never reserves past the total', () => {
    const budget = new MemoryBudget(256);
    expect(budget.tryReserve(128)).toBe(true);
    expect(budget.tryReserve(128)).toBe(true);
    expect(budget.tryReserve(1)).toBe(false);
    expect(budget.used).toBe(256);
    budget.release(128);
    expect(budget.free).toBe(128);
    expect(budget.tryReserve(200)).toBe(false);
    expect(budget.tryReserve(64)).toBe(true);
  });

  it('wakes waiters when memory comes back or a container goes idle', async () => {
    const budget = new MemoryBudget(128);
    budget.tryReserve(128);
    let woken = 0;
    const waiting = budget.changed().then(() => woken++);
    budget.release(128);
    await waiting;
    expect(woken).toBe(1);
    const again = budget.changed().then(() => woken++);
    budget.notify();
    await again;
    expect(woken).toBe(2);
  });
});
