/**
 * Runs one source trigger while its gateway holds the lease: pulls batches
 * from the source, runs each as one invocation, and acknowledges a message
 * only once an invocation that included it succeeded (Lambda's event source
 * mappings behave so). A failed batch is retried with backoff — only its
 * failed messages when the function answered Lambda's `batchItemFailures` —
 * and after `maxRetries` goes to the dead letter, then is acknowledged.
 *
 * Pure over its ports: the source, `invoke` (dispatch and wait for the
 * record, in `source-host.ts`), the status sink and the clock.
 */
import type { EventSource, SourceMessage } from './event-source.ts';
import type { TriggerStatus } from './trigger-record.ts';
import type { SourceSettings } from './trigger-settings.ts';

/** How one attempt at a batch ended. */
export interface AttemptResult {
  invocationId: string | null;
  /** True when the invocation succeeded; `failedIds` then names the messages it reported failed (empty: all done). */
  succeeded: boolean;
  failedIds: readonly string[];
  /** Why it failed, for the status and the dead letter. */
  reason: string | null;
}

/** Thrown by `invoke` when the platform, not the function, could not run the batch (queue away, quota full): retried without using an attempt. */
export class PlatformBusy extends Error {
  override name = 'PlatformBusy';
}

export interface BatchRunnerOptions {
  settings: SourceSettings;
  source: EventSource;
  /** Runs `messages` as one invocation, attempt `attempt` (0 first), and resolves once it ended (or `isStopped()` turned true). */
  invoke(messages: readonly SourceMessage[], attempt: number, isStopped: () => boolean): Promise<AttemptResult>;
  status(patch: Partial<TriggerStatus>): void;
  /** Retry back-off after attempt `attempt` failed (1 first); default 1 s doubling to 30 s. */
  backoffMs?: (attempt: number) => number;
  /** How often held messages are touched while a batch runs. */
  touchEveryMs?: number;
  log: { warn(message: string, fields?: Record<string, unknown>): void };
}

export interface BatchRunner {
  /** Runs until `stop`; rejects when the source fails (the host reopens it). */
  run(): Promise<void>;
  /** Stops pulling; batches in flight are abandoned unacknowledged (the broker redelivers them to the next holder). */
  stop(): void;
}

const defaultBackoff = (attempt: number) => Math.min(30_000, 1000 * 2 ** (attempt - 1));

/**
 * The ids a function reported failed, from its JSON result, or null when the
 * result is not a valid report (then the whole batch failed, as in Lambda).
 * `{}`, `null` or no `batchItemFailures` at all: every message succeeded.
 */
export function reportedFailures(result: string | null, ids: readonly string[]): string[] | null {
  if (result === null) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(result);
  } catch {
    return [];
  }
  if (parsed === null || typeof parsed !== 'object' || !('batchItemFailures' in parsed)) return [];
  const failures = (parsed as { batchItemFailures: unknown }).batchItemFailures;
  if (failures === null) return [];
  if (!Array.isArray(failures)) return null;
  const known = new Set(ids);
  const failed = new Set<string>();
  for (const entry of failures) {
    const id = (entry as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    // An identifier that is empty, not a string or not in the batch makes the report invalid.
    if (typeof id !== 'string' || !known.has(id)) return null;
    failed.add(id);
  }
  return ids.filter((id) => failed.has(id));
}

export function createBatchRunner(options: BatchRunnerOptions): BatchRunner {
  const { settings, source } = options;
  const backoff = options.backoffMs ?? defaultBackoff;
  const touchEveryMs = options.touchEveryMs ?? 10_000;
  let stopped = false;
  let wakeStop: () => void = () => {};
  const stopping = new Promise<void>((resolve) => (wakeStop = resolve));
  const inFlight = new Set<Promise<void>>();
  /** Keys of batches in flight (ordered triggers start a batch only when none of its keys is busy). */
  const busyKeys = new Map<string, number>();
  let totals = { batches: 0, messages: 0, failures: 0 };
  /** A batch that ended with an error: its messages stay held by this source until it closes, so the runner ends and the host reopens it. */
  let broken: unknown = null;

  const pause = (ms: number) => Promise.race([new Promise<void>((r) => setTimeout(r, ms).unref()), stopping]);

  const runBatch = async (messages: SourceMessage[]) => {
    let pending = messages;
    const touch = setInterval(() => void source.touch(pending).catch(() => {}), touchEveryMs);
    touch.unref();
    try {
      let busy = 0;
      for (let attempt = 0; !stopped; attempt++) {
        let result: AttemptResult;
        try {
          result = await options.invoke(pending, attempt, () => stopped);
          busy = 0;
        } catch (err) {
          if (!(err instanceof PlatformBusy)) throw err;
          options.status({ lastError: { message: err.message, at: Date.now() } });
          await pause(backoff(++busy));
          attempt--;
          continue;
        }
        if (stopped) return;
        options.status({ lastRunAt: Date.now(), lastInvocationId: result.invocationId, lastBatchSize: pending.length });
        if (result.succeeded) {
          const failed = new Set(result.failedIds);
          const done = pending.filter((m) => !failed.has(m.id));
          if (done.length > 0) await source.ack(done);
          pending = pending.filter((m) => failed.has(m.id));
          if (pending.length === 0) return;
        }
        totals.failures++;
        options.status({ failures: totals.failures });
        const reason = result.reason ?? `the function reported ${pending.length} of its messages failed`;
        if (attempt >= settings.maxRetries) {
          // Out of retries: the user's dead letter (or Hearth's records of the failed attempts) keeps them; the broker forgets them.
          const kept = await source.deadLetter(pending, reason);
          await source.ack(pending);
          options.log.warn('trigger batch failed every retry: dead-lettered', { messages: pending.length, deadLetter: kept ? settings.deadLetter : 'records', reason });
          return;
        }
        await pause(backoff(attempt + 1));
      }
    } finally {
      clearInterval(touch);
    }
  };

  const keysOf = (messages: readonly SourceMessage[]) => [...new Set(messages.map((m) => m.key))];
  const keysFree = (messages: readonly SourceMessage[]) => keysOf(messages).every((k) => !busyKeys.has(k));

  const start = (messages: SourceMessage[]) => {
    totals = { ...totals, batches: totals.batches + 1, messages: totals.messages + messages.length };
    options.status({ batches: totals.batches, messages: totals.messages });
    const keys = settings.ordered ? keysOf(messages) : [];
    for (const k of keys) busyKeys.set(k, (busyKeys.get(k) ?? 0) + 1);
    const work: Promise<void> = runBatch(messages)
      .catch((err: unknown) => {
        // A failed ack, dead letter or claim: its messages stay held by this source, so the runner ends and the host reopens the source.
        options.log.warn('trigger batch ended with an error; the source is reopened so its messages are redelivered', { err });
        broken ??= err;
      })
      .finally(() => {
        inFlight.delete(work);
        for (const k of keys) {
          const n = (busyKeys.get(k) ?? 1) - 1;
          if (n === 0) busyKeys.delete(k);
          else busyKeys.set(k, n);
        }
      });
    inFlight.add(work);
  };

  return {
    async run() {
      let lagAt = 0;
      while (!stopped) {
        if (broken) throw broken;
        if (inFlight.size >= settings.maxConcurrency) {
          await Promise.race([...inFlight, stopping]);
          continue;
        }
        const messages = await source.pull(settings.batchSize, settings.batchWindowMs);
        if (stopped) return;
        if (broken) throw broken;
        if (Date.now() - lagAt > 2000) {
          lagAt = Date.now();
          void source.lag().then((lag) => options.status({ lag }), () => {});
        }
        if (messages.length === 0) continue;
        // In order: a batch waits for every in-flight batch that shares one of its keys.
        while (settings.ordered && !keysFree(messages) && !stopped) await Promise.race([...inFlight, stopping]);
        if (stopped) return;
        start(messages);
      }
    },
    stop() {
      stopped = true;
      wakeStop();
    },
  };
}
