import { describe, expect, it } from 'vitest';
import { RouteBook, chooseWorker } from '../../gateway/invoke/router.ts';
import type { WorkerReport } from '../../worker/contract/worker-report.ts';

const now = new Date().toISOString();
function worker(id: string, options: { inFlight?: number; concurrency?: number; warm?: Array<[string, number]>; runtimes?: string[] } = {}): WorkerReport {
  return {
    workerId: id,
    host: 'h',
    startedAt: now,
    seenAt: now,
    concurrency: options.concurrency ?? 4,
    inFlight: options.inFlight ?? 0,
    runtimes: options.runtimes ?? ['nodejs20', 'python3'],
    pool: { busy: 0, warm: 0, prewarmed: 0, byRuntime: {}, memoryUsedMb: 0, memoryBudgetMb: 1024 },
    warm: (options.warm ?? []).map(([key, idle]) => ({ key, namespace: 'default', functionName: 'f', version: 1, idle, total: idle })),
  };
}

describe('routing', () => {
  it('sends a version to the worker that holds it warm', () => {
    const workers = [worker('a'), worker('b', { warm: [['f@1', 1]] }), worker('c')];
    expect(chooseWorker(workers, 'f@1', 'nodejs20', new RouteBook())).toBe('b');
  });

  it('gives each version a stable home, the same on every gateway, spread across workers', () => {
    const workers = [worker('a'), worker('b'), worker('c')];
    const homes = new Map<string, string>();
    for (let i = 0; i < 60; i++) {
      const key = `fn-${i}@1`;
      const home = chooseWorker(workers, key, 'nodejs20', new RouteBook());
      expect(chooseWorker(workers, key, 'nodejs20', new RouteBook())).toBe(home);
      homes.set(key, home!);
    }
    const perWorker = ['a', 'b', 'c'].map((id) => [...homes.values()].filter((h) => h === id).length);
    for (const n of perWorker) expect(n).toBeGreaterThan(10);
    // A worker leaving moves only its own versions.
    const without = workers.filter((w) => w.workerId !== 'c');
    for (const [key, home] of homes) if (home !== 'c') expect(chooseWorker(without, key, 'nodejs20', new RouteBook())).toBe(home);
  });

  it('overflows a full worker to the next, counting calls sent since its report', () => {
    const workers = [worker('a', { concurrency: 2 }), worker('b', { concurrency: 2 })];
    const book = new RouteBook();
    const first = chooseWorker(workers, 'f@1', 'nodejs20', book)!;
    const sync = book.note(first, true)!;
    book.note(first, false);
    const next = chooseWorker(workers, 'f@1', 'nodejs20', book)!;
    expect(next).not.toBe(first);
    // An answered sync call no longer counts.
    book.done(sync);
    expect(chooseWorker(workers, 'f@1', 'nodejs20', book)).toBe(first);
    book.note(first, true);
    book.note(next, false);
    book.note(next, false);
    // Everyone full: the least loaded still takes it (the queue holds it).
    expect(['a', 'b']).toContain(chooseWorker(workers, 'f@1', 'nodejs20', book));
  });

  it('skips workers without the runtime, and falls back to the shared queue when none is live', () => {
    expect(chooseWorker([worker('a', { runtimes: ['python3'] })], 'f@1', 'nodejs20', new RouteBook())).toBeNull();
    expect(chooseWorker([], 'f@1', 'nodejs20', new RouteBook())).toBeNull();
  });
});
