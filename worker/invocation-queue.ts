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
import { DelayedError, Queue, QueueEvents, Worker, type ConnectionOptions, type Job } from 'bullmq';
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
  /** Idle time before this version's containers are removed; null: the worker's default. */
  keepAliveMs: number | null;
  /** Most invocations of this function running at once; null: no limit. */
  maxConcurrency: number | null;
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
   * With `startWithinMs`, a job that has not *started* by then is taken back
   * out of the queue and the answer is `'throttled'` (it will never run).
   * Rejects if the job failed for a platform reason.
   */
  enqueueAndWait(
    job: InvocationJob,
    waitMs: number,
    startWithinMs?: number,
  ): Promise<InvocationOutcome | 'throttled' | null>;
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
  resolve(outcome: InvocationOutcome | 'throttled' | null): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  started: boolean;
  startTimer?: NodeJS.Timeout;
}

/** Raised by a processor to put its job back in the queue for `delayMs` (not a failure). */
export class RetryLater extends Error {
  override name = 'RetryLater';
  constructor(readonly delayMs: number) {
    super(`retry in ${delayMs} ms`);
  }
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

  const settle = (jobId: string): Waiter | undefined => {
    const waiter = waiters.get(jobId);
    if (!waiter) return undefined;
    waiters.delete(jobId);
    clearTimeout(waiter.timer);
    clearTimeout(waiter.startTimer);
    return waiter;
  };
  events.on('completed', ({ jobId, returnvalue }) => {
    settle(jobId)?.resolve(returnvalue as unknown as InvocationOutcome);
  });
  events.on('failed', ({ jobId, failedReason }) => {
    settle(jobId)?.reject(new InvocationPlatformError(failedReason));
  });
  // Workers report progress once a gated invocation has really started.
  events.on('progress', ({ jobId }) => {
    const waiter = waiters.get(jobId);
    if (waiter) waiter.started = true;
  });

  /** Past the start deadline: take the job back unless a worker has begun it. */
  const checkStarted = (jobId: string) => {
    const waiter = waiters.get(jobId);
    if (!waiter || waiter.started) return;
    queue.remove(jobId).then(
      (removed) => {
        if (removed === 1) settle(jobId)?.resolve('throttled');
        // Locked by a worker this instant (it may be putting the job back): look again shortly.
        else if (waiters.get(jobId) === waiter && !waiter.started) waiter.startTimer = setTimeout(() => checkStarted(jobId), 50);
      },
      () => {
        if (waiters.get(jobId) === waiter) waiter.startTimer = setTimeout(() => checkStarted(jobId), 50);
      },
    );
  };

  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);

  const add = (job: InvocationJob) =>
    queue.add('invoke', job, { ...JOB_OPTIONS, jobId: job.invocationId });

  return {
    async enqueue(job) {
      await add(job);
    },
    enqueueAndWait(job, waitMs, startWithinMs) {
      return new Promise<InvocationOutcome | 'throttled' | null>((resolve, reject) => {
        const id = job.invocationId;
        const timer = setTimeout(() => settle(id)?.resolve(null), waitMs);
        const waiter: Waiter = { resolve, reject, timer, started: false };
        if (startWithinMs !== undefined) waiter.startTimer = setTimeout(() => checkStarted(id), startWithinMs);
        waiters.set(id, waiter);
        add(job).catch((err: unknown) => {
          settle(id);
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
      for (const id of [...waiters.keys()]) settle(id)?.resolve(null);
      await Promise.all([events.close(), queue.close()]);
    },
  };
}

/** A worker's consumer: runs `process` for each job, `concurrency` at a time. */
export interface InvocationConsumer {
  close(): Promise<void>;
}

/** What a processor can tell the queue about the job it is running. */
export interface JobControl {
  /** Signals that the invocation really began (waiting callers stop the start deadline). */
  started(): Promise<void>;
}

/**
 * `process` returns the outcome, or throws `RetryLater` to put the job back
 * in the queue (delayed), or throws anything else for a platform failure.
 */
export function startInvocationConsumer(
  options: QueueConnection & {
    concurrency: number;
    process: (job: InvocationJob, control: JobControl) => Promise<InvocationOutcome>;
    onError?: (err: Error) => void;
  },
): InvocationConsumer {
  const worker = new Worker<InvocationJob, InvocationOutcome>(
    INVOCATION_QUEUE_NAME,
    async (job: Job<InvocationJob, InvocationOutcome>, token?: string) => {
      try {
        return await options.process(job.data, { started: () => job.updateProgress(1) });
      } catch (err) {
        if (!(err instanceof RetryLater) || !token) throw err;
        await job.moveToDelayed(Date.now() + err.delayMs, token);
        throw new DelayedError();
      }
    },
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
