/** The invocation queue without Redis, and the records and worker reports the gateway reads. */
import type { IdempotencyClaim } from '../../../worker/common/redis/idempotency-keys.ts';
import type { RecordRow } from '../../../gateway/metrics/metrics-store.ts';
import type { InvocationOutcome } from '../../../worker/contract/invocation-outcome.ts';
import type { InvocationQueue, WaitResult } from '../../../gateway/queue/invocation-queue.ts';
import type { InvocationJob, InvocationState } from '../../../worker/contract/invocation-job.ts';
import type { QueuedCallRefusal } from '../../../worker/common/redis/queued-call-quota.ts';
import type { InvocationRow } from '../../../worker/common/invocations-store.ts';
import type { WorkerReport } from '../../../worker/contract/worker-report.ts';
import { iso } from './postgres-refusals.ts';

/** How the fake queue answers a sync call: by default the function returns its event. */
export type SyncResponder = (job: InvocationJob) => WaitResult;

/** A succeeded outcome of `job` returning `result` (JSON text). */
export function succeeded(job: InvocationJob, result: string = job.event): InvocationOutcome {
  const now = Date.now();
  return {
    invocationId: job.invocationId,
    functionName: job.functionName,
    version: job.version,
    status: 'succeeded',
    result,
    error: null,
    coldStart: false,
    startKind: 'warm',
    queuedAt: job.enqueuedAt,
    startedAt: now,
    finishedAt: now,
    queueWaitMs: 0,
    acquireMs: 0,
    initMs: 0,
    durationMs: 1,
    billedMs: 1,
    memoryMb: job.memoryMb,
    logs: '',
    logsTruncated: false,
    concurrency: 1,
  };
}

/** The queue without Redis: jobs are kept in a list, sync calls answered by `respond`. */
export class FakeInvocationQueue implements InvocationQueue {
  readonly replyTo = 'gateway-under-test';
  readonly enqueued: InvocationJob[] = [];
  readonly deletedFunctions: string[] = [];
  readonly states = new Map<string, InvocationState>();
  private readonly claimed = new Map<string, number>();
  respond: SyncResponder = (job) => succeeded(job);

  async enqueue(job: InvocationJob): Promise<void> {
    this.enqueued.push(job);
  }
  async enqueueAndWait(job: InvocationJob): Promise<WaitResult> {
    this.enqueued.push(job);
    return this.respond(job);
  }
  async state(invocationId: string): Promise<InvocationState> {
    return this.states.get(invocationId) ?? 'unknown';
  }
  async claimIdempotencyKey(namespace: string, functionId: string, key: string, enqueuedAt: number): Promise<IdempotencyClaim> {
    const id = `${namespace}\u0000${functionId}\u0000${key}`;
    const first = this.claimed.get(id);
    if (first !== undefined) return { first: false, firstEnqueuedAt: first };
    this.claimed.set(id, enqueuedAt);
    return { first: true, firstEnqueuedAt: enqueuedAt };
  }
  async markFunctionDeleted(functionId: string): Promise<void> {
    this.deletedFunctions.push(functionId);
  }
  async admitQueued(): Promise<QueuedCallRefusal | null> {
    return null;
  }
  async releaseQueued(): Promise<void> {}
  async counts(): Promise<Record<string, number>> {
    return { waiting: this.enqueued.length };
  }
  async reapWorkerQueue(): Promise<number> {
    throw new Error('reapWorkerQueue is not used in API tests');
  }
  async close(): Promise<void> {}
}

/** A finished invocation record as `findInvocation` returns it. */
export function invocationRow(fields: { id: string; namespace: string; functionId: string; functionName: string } & Partial<InvocationRow>): InvocationRow {
  const at = new Date(Date.UTC(2025, 0, 1));
  return {
    version: 1,
    alias: null,
    mode: 'sync',
    trigger: null,
    causedBy: null,
    scheduledFor: null,
    status: 'succeeded',
    coldStart: false,
    startKind: 'warm',
    queuedAt: at,
    startedAt: at,
    finishedAt: at,
    queueWaitMs: 0,
    acquireMs: 0,
    initMs: 0,
    durationMs: 1,
    billedMs: 1,
    memoryMb: 128,
    errorCode: null,
    errorType: null,
    errorMessage: null,
    result: '"ok"',
    resultTruncated: false,
    logs: 'hello\n',
    logsTruncated: false,
    concurrency: 1,
    workerId: 'worker-1',
    ...fields,
  };
}

/** What a record looks like to the logs and history routes. */
export function recordRow(row: InvocationRow): RecordRow {
  return {
    id: row.id,
    queuedAt: row.queuedAt,
    finishedAt: row.finishedAt,
    version: row.version,
    mode: row.mode,
    trigger: row.trigger ?? null,
    status: row.status,
    startKind: row.startKind,
    coldStart: row.coldStart,
    durationMs: row.durationMs,
    initMs: row.initMs,
    billedMs: row.billedMs,
    memoryMb: row.memoryMb,
    errorCode: row.errorCode,
    logs: row.logs,
    logsTruncated: row.logsTruncated,
  };
}

/** A worker's report as the registry returns it. */
export function workerReport(workerId: string): WorkerReport {
  const counts = { busy: 0, warm: 1, prewarmed: 0 };
  return {
    workerId,
    host: 'host-1',
    startedAt: iso(Date.UTC(2025, 0, 1)),
    seenAt: new Date().toISOString(),
    concurrency: 4,
    inFlight: 1,
    runtimes: ['nodejs20'],
    pool: { ...counts, byRuntime: { nodejs20: counts }, memoryUsedMb: 128, memoryBudgetMb: 1024 },
    warm: [],
  };
}
