/**
 * Group commit for invocation records: while one write is in flight, newly
 * finished invocations queue up and go together in the next multi-row
 * insert. A lone call is written at once (no added wait); under load, one
 * round trip and one commit serve many invocations. Each caller's promise
 * settles when its own row is durable.
 */
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

export class BatchingRecorder implements InvocationRecorder {
  private queue: Pending[] = [];
  private writing = false;

  constructor(
    private readonly write: (entries: RecordEntry[]) => Promise<void>,
    private readonly maxBatch = 200,
  ) {}

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
        try {
          await this.write(batch);
          for (const entry of batch) entry.resolve();
        } catch (err) {
          for (const entry of batch) entry.reject(err);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
