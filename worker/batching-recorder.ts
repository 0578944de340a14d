/**
 * Group commit for invocation records: while one write is in flight, newly
 * finished invocations queue up and go together in the next multi-row
 * insert. A lone call is written at once (no added wait); under load, one
 * round trip and one commit serve many invocations. Each caller's promise
 * settles when its own row is durable.
 *
 * While the database is unreachable, a batch is held and retried (backing
 * off up to 5 s) until it lands: outcomes are never dropped, and the jobs
 * holding them stay active in the queue meanwhile (which also stops the
 * worker from taking more work than it can hold).
 */
import { isTransientDatabaseError } from '../migrations/database.ts';
import type { InvocationOutcome } from './invocation-outcome.ts';
import type { InvocationJob } from './invocation-queue.ts';
import type { InvocationRecorder } from './invoker.ts';

export interface RecordEntry {
  job: InvocationJob;
  outcome: InvocationOutcome;
}

interface Pending extends RecordEntry {
  resolve(): void;
  reject(err: unknown): void;
}

export interface BatchingRecorderOptions {
  maxBatch?: number;
  /** Told once per failed attempt that will be retried. */
  onRetry?: (err: unknown, attempt: number) => void;
}

export class BatchingRecorder implements InvocationRecorder {
  private queue: Pending[] = [];
  private writing = false;
  private readonly maxBatch: number;

  constructor(
    private readonly write: (entries: RecordEntry[]) => Promise<void>,
    private readonly options: BatchingRecorderOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 200;
  }

  record(job: InvocationJob, outcome: InvocationOutcome): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, outcome, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        for (let attempt = 1; ; attempt++) {
          try {
            await this.write(batch);
            for (const entry of batch) entry.resolve();
            break;
          } catch (err) {
            // Retried only while the database is away; any other error is the batch's own.
            if (!isTransientDatabaseError(err)) {
              for (const entry of batch) entry.reject(err);
              break;
            }
            this.options.onRetry?.(err, attempt);
            await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** Math.min(attempt - 1, 6))));
          }
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
