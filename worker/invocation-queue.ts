/**
 * The invocation queue: the only contract between gateways and workers.
 * This module owns the queue's name, the job payload, the job options and
 * how a caller waits for an outcome; it is the only code that imports BullMQ.
 *
 * Every invocation, sync ones included, is one job whose id is the
 * invocation id. The worker's processor returns an `InvocationOutcome`; a
 * job only *fails* (BullMQ sense) on a platform fault, never because the
 * function failed.
 */
import { Queue, QueueEvents, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { RuntimeName } from '../runtime-images/runtimes.ts';
import type { InvocationMode, InvocationOutcome } from './invocation-outcome.ts';

export const INVOCATION_QUEUE_NAME = 'invocations';

/** Everything a worker needs to run one invocation, so it reads no metadata. */
export interface InvocationJob {
  invocationId: string;
  namespace: string;
  functionId: string;
  functionName: string;
  version: number;
  runtime: RuntimeName;
  handler: string;
  memoryMb: number;
  timeoutMs: number;
  env: Record<string, string>;
  codeSha256: string;
  mode: InvocationMode;
  /** The event as JSON text, already validated by the gateway. */
  event: string;
  /** Epoch milliseconds when the gateway accepted the call. */
  enqueuedAt: number;
}

export type InvocationState = 'queued' | 'running' | 'finished' | 'unknown';

export interface QueueConnection {
  /** ioredis options or URL-derived options; BullMQ opens its own connections. */
  connection: ConnectionOptions;
  /** Key prefix; tests use a random one per run. */
  prefix: string;
}

/** A gateway's handle on the queue: enqueue, wait for outcomes, look up state. */
export interface InvocationQueue {
  enqueue(job: InvocationJob): Promise<void>;
  /**
   * Enqueues and resolves with the outcome once a worker finishes, or with
   * `null` when `waitMs` passes first (the caller then consults the record).
   * Rejects if the job failed for a platform reason.
   */
  enqueueAndWait(job: InvocationJob, waitMs: number): Promise<InvocationOutcome | null>;
  state(invocationId: string): Promise<InvocationState>;
  close(): Promise<void>;
}

/** Raised when a job failed for a platform reason (not the function's). */
export class InvocationPlatformError extends Error {
  override name = 'InvocationPlatformError';
}

const JOB_OPTIONS = {
  attempts: 1,
  // Outcomes travel on the events stream and are recorded in Postgres, so
  // finished jobs only need to linger long enough for late lookups.
  removeOnComplete: { age: 300, count: 10_000 },
  removeOnFail: { age: 24 * 3600 },
} as const;

interface Waiter {
  resolve(outcome: InvocationOutcome | null): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Opens the queue for a gateway. One `QueueEvents` reader serves every
 * waiting caller through a map keyed by job id, registered before the job is
 * added so no completion can slip by unseen.
 */
export async function openInvocationQueue(options: QueueConnection): Promise<InvocationQueue> {
  const queue = new Queue<InvocationJob, InvocationOutcome>(INVOCATION_QUEUE_NAME, {
    connection: options.connection,
    prefix: options.prefix,
  });
  const events = new QueueEvents(INVOCATION_QUEUE_NAME, {
    connection: options.connection,
    prefix: options.prefix,
  });
  queue.on('error', () => {});
  events.on('error', () => {});
  const waiters = new Map<string, Waiter>();

  events.on('completed', ({ jobId, returnvalue }) => {
    const waiter = waiters.get(jobId);
    if (!waiter) return;
    waiters.delete(jobId);
    clearTimeout(waiter.timer);
    waiter.resolve(returnvalue as unknown as InvocationOutcome);
  });
  events.on('failed', ({ jobId, failedReason }) => {
    const waiter = waiters.get(jobId);
    if (!waiter) return;
    waiters.delete(jobId);
    clearTimeout(waiter.timer);
    waiter.reject(new InvocationPlatformError(failedReason));
  });

  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);

  const add = (job: InvocationJob) =>
    queue.add('invoke', job, { ...JOB_OPTIONS, jobId: job.invocationId });

  return {
    async enqueue(job) {
      await add(job);
    },
    enqueueAndWait(job, waitMs) {
      return new Promise<InvocationOutcome | null>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(job.invocationId);
          resolve(null);
        }, waitMs);
        waiters.set(job.invocationId, { resolve, reject, timer });
        add(job).catch((err: unknown) => {
          waiters.delete(job.invocationId);
          clearTimeout(timer);
          reject(err);
        });
      });
    },
    async state(invocationId) {
      const state = await queue.getJobState(invocationId);
      switch (state) {
        case 'waiting':
        case 'delayed':
        case 'prioritized':
        case 'waiting-children':
          return 'queued';
        case 'active':
          return 'running';
        case 'completed':
        case 'failed':
          return 'finished';
        default:
          return 'unknown';
      }
    },
    async close() {
      for (const [id, waiter] of waiters) {
        clearTimeout(waiter.timer);
        waiter.resolve(null);
        waiters.delete(id);
      }
      await Promise.all([events.close(), queue.close()]);
    },
  };
}

/** A worker's consumer: runs `process` for each job, `concurrency` at a time. */
export interface InvocationConsumer {
  close(): Promise<void>;
}

export function startInvocationConsumer(
  options: QueueConnection & {
    concurrency: number;
    process: (job: InvocationJob) => Promise<InvocationOutcome>;
    onError?: (err: Error) => void;
  },
): InvocationConsumer {
  const worker = new Worker<InvocationJob, InvocationOutcome>(
    INVOCATION_QUEUE_NAME,
    (job: Job<InvocationJob, InvocationOutcome>) => options.process(job.data),
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
    },
  );
  worker.on('error', (err) => options.onError?.(err));
  return {
    close: () => worker.close(),
  };
}
