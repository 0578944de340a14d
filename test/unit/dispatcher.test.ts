import { describe, expect, it } from 'vitest';
import { Dispatcher, type DispatchStore } from '../../gateway/invoke/dispatcher.ts';
import type { ResolvedVersion } from '../../gateway/store/functions-store.ts';
import { QueueUnavailableError, type InvocationQueue } from '../../gateway/queue/invocation-queue.ts';
import { FakeInvocationQueue, invocationRow } from '../api/fakes/invocation-queue.ts';

const version: ResolvedVersion = {
  functionId: '00000000-0000-0000-0000-000000000001',
  name: 'f',
  namespace: 'default',
  version: 1,
  runtime: 'nodejs20',
  handler: 'index.handler',
  memoryMb: 128,
  timeoutMs: 100,
  env: {},
  keepAliveMs: null,
  minWarm: 0,
  maxConcurrency: null,
  network: 'none',
  public: false,
  codeSha256: '0'.repeat(64),
};

/** A finished record of call `id`, as the store finds it when the reply was lost. */
const row = (id: string) =>
  invocationRow({ id, namespace: 'default', functionId: version.functionId, functionName: 'f', result: '"from the record"', logs: '' });


/** A store that resolves every call to `version` and has no records, but for what a test overrides. */
function storeWith(overrides: Partial<DispatchStore> = {}): DispatchStore {
  return {
    resolveVersion: async () => version,
    resolveAlias: async () => ({ functionId: version.functionId, alias: 'latest', version: version.version, weighted: null }),
    findInvocation: async () => null,
    recordUnstarted: async () => {},
    namespaceQuota: async () => null,
    ...overrides,
  };
}
function fakes(recordAfterMs: number) {
  const started = Date.now();
  let enqueued: string | null = null;
  const store = storeWith({
    findInvocation: async (_ns, id) => (Date.now() - started >= recordAfterMs && id === enqueued ? row(id) : null),
  });
  // A queue whose replies never arrive.
  const queue: InvocationQueue = new FakeInvocationQueue();
  queue.enqueueAndWait = (job, waitMs) => {
    enqueued = job.invocationId;
    return new Promise((resolve) => setTimeout(() => resolve(null), waitMs));
  };
  return { store, queue };
}

describe('dispatcher', () => {
  it('answers a sync call from its record when the reply is lost', async () => {
    const { store, queue } = fakes(500);
    const dispatcher = new Dispatcher({ store, queue, syncGraceMs: 60_000, throttleWaitMs: 0 });
    const t0 = Date.now();
    const outcome = await dispatcher.dispatchSync({ namespace: 'default', name: 'f' }, '{}', 'sync');
    expect(outcome.result).toBe('"from the record"');
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});

describe('idempotent async calls', () => {
  it('queues a retried call whose first attempt failed to queue, under the same id, exactly once', async () => {
    const claimed = new Map<string, number>();
    const queued: string[] = [];
    const released: string[] = [];
    let failNext = true;
    const queue: InvocationQueue = new FakeInvocationQueue();
    queue.claimIdempotencyKey = async (ns, functionId, key, enqueuedAt) => {
      const k = `${ns}/${functionId}/${key}`;
      const first = claimed.get(k);
      if (first !== undefined) return { first: false, firstEnqueuedAt: first };
      claimed.set(k, enqueuedAt);
      return { first: true, firstEnqueuedAt: enqueuedAt };
    };
    queue.enqueue = async (job) => {
      if (failNext) {
        failNext = false;
        throw new QueueUnavailableError('redis away');
      }
      // BullMQ ignores a second add of the same job id.
      if (!queued.includes(job.invocationId)) queued.push(job.invocationId);
    };
    queue.state = async (id) => (queued.includes(id) ? 'queued' : 'unknown');
    queue.releaseQueued = async (job) => void released.push(job.invocationId);
    const store = storeWith();
    const dispatcher = new Dispatcher({ store, queue, syncGraceMs: 1000, throttleWaitMs: 0 });
    const target = { namespace: 'default', name: 'f' };
    await expect(dispatcher.dispatchAsync(target, '{}', 'k-1')).rejects.toMatchObject({ status: 503, code: 'QueueUnavailable' });
    // Certainly not queued: it no longer counts against the queued-call quotas.
    expect(released).toHaveLength(1);
    const retry = await dispatcher.dispatchAsync(target, '{}', 'k-1');
    expect(released).toEqual([retry.invocationId]);
    expect(retry.repeated).toBe(true);
    expect(queued).toEqual([retry.invocationId]);
    const again = await dispatcher.dispatchAsync(target, '{}', 'k-1');
    expect(again.invocationId).toBe(retry.invocationId);
    expect(queued).toEqual([retry.invocationId]);
    const other = await dispatcher.dispatchAsync(target, '{}', 'k-2');
    expect(other.invocationId).not.toBe(retry.invocationId);
    expect(queued).toHaveLength(2);
  });
});

describe('queued-call quotas', () => {
  it('refuses an async call with 429 TooManyQueuedCalls when a quota is full, and queues nothing', async () => {
    const queued: string[] = [];
    const queue: InvocationQueue = new FakeInvocationQueue();
    queue.admitQueued = async () => ({ scope: 'function', what: 'bytes', limit: 64 * 1024 * 1024 });
    queue.enqueue = async (job) => void queued.push(job.invocationId);
    const store = storeWith();
    const dispatcher = new Dispatcher({ store, queue, syncGraceMs: 1000, throttleWaitMs: 0 });
    const refused = dispatcher.dispatchAsync({ namespace: 'default', name: 'f' }, '{}');
    await expect(refused).rejects.toMatchObject({ status: 429, code: 'TooManyQueuedCalls', details: { scope: 'function', quota: 'bytes' } });
    await expect(refused).rejects.toThrow(/64 MB of async events/);
    expect(queued).toEqual([]);
  });
});
