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
 *
 * A batch the database refuses for a value in it (a data error: bad
 * encoding, out of range, too large) is split in halves until the rows it
 * refuses are alone, so one bad row never fails its neighbours;
 * a row refused alone is written once more stripped of everything the
 * function produced (result, logs, error text) with a note saying so. A
 * record is never lost, and never a reason to run the user's code again.
 * Any other refusal (a bug, a deadlock) fails the batch's callers as before.
 */
import { isDataError, isTransientDatabaseError } from '../common/database.ts';
import type { InvocationOutcome } from '../contract/invocation-outcome.ts';
import type { InvocationJob } from '../contract/invocation-job.ts';
import type { InvocationRecorder } from '../run/invoker.ts';

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
  /** Told when the database refused one record alone (it is then written stripped). */
  onRefused?: (err: unknown, entry: RecordEntry) => void;
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
      while (this.queue.length > 0) await this.writeSplitting(this.queue.splice(0, this.maxBatch));
    } finally {
      this.writing = false;
    }
  }

  /** Writes `batch`; on a refusal, halves it and writes each half, down to single rows. */
  private async writeSplitting(batch: Pending[]): Promise<void> {
    const err = await this.writeHeld(batch);
    if (err === null) {
      for (const entry of batch) entry.resolve();
      return;
    }
    if (!isDataError(err)) {
      for (const entry of batch) entry.reject(err);
      return;
    }
    if (batch.length > 1) {
      const half = Math.ceil(batch.length / 2);
      await this.writeSplitting(batch.slice(0, half));
      await this.writeSplitting(batch.slice(half));
      return;
    }
    const entry = batch[0]!;
    this.options.onRefused?.(err, entry);
    const strippedErr = await this.writeHeld([{ ...entry, ...strippedEntry(entry, err) }]);
    if (strippedErr === null) entry.resolve();
    else entry.reject(strippedErr);
  }

  /** One write, retried while the database is away; resolves with the refusal, or null once written. */
  private async writeHeld(entries: RecordEntry[]): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.write(entries.map(({ job, outcome }) => ({ job, outcome })));
        return null;
      } catch (err) {
        if (!isTransientDatabaseError(err)) return err;
        this.options.onRetry?.(err, attempt);
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** Math.min(attempt - 1, 6))));
      }
    }
  }
}

/** The record with nothing the function produced: what is written when the database refused the full one. */
export function strippedEntry(entry: RecordEntry, refusal: unknown): RecordEntry {
  const reason = refusal instanceof Error ? refusal.message : String(refusal);
  const note = `[hearth] this record was stored without the function's result, logs and error text: the database refused them (${reason.slice(0, 200)})\n`;
  const { outcome } = entry;
  return {
    job: entry.job,
    outcome: {
      ...outcome,
      result: null,
      logs: note,
      logsTruncated: true,
      error: outcome.error ? { code: outcome.error.code, type: outcome.error.code, message: 'error text dropped (see logs)' } : null,
    },
  };
}
