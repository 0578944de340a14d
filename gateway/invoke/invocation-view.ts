/** The JSON shapes of an invocation as callers see it, from a record or an outcome. */
import type { InvocationOutcome } from '../../worker/invocation-outcome.ts';
import type { InvocationRow } from '../../worker/store/invocations-store.ts';

/** Rebuilds an outcome from its record (when the queue's event was missed). */
export function outcomeFromRow(row: InvocationRow): InvocationOutcome {
  return {
    invocationId: row.id,
    functionName: row.functionName,
    version: row.version,
    status: row.status as InvocationOutcome['status'],
    result: row.result,
    error: row.errorCode
      ? {
          code: row.errorCode as NonNullable<InvocationOutcome['error']>['code'],
          type: row.errorType ?? 'Error',
          message: row.errorMessage ?? '',
        }
      : null,
    coldStart: row.coldStart,
    startKind: row.startKind as InvocationOutcome['startKind'],
    queuedAt: row.queuedAt.getTime(),
    startedAt: row.startedAt.getTime(),
    finishedAt: row.finishedAt.getTime(),
    queueWaitMs: row.queueWaitMs,
    acquireMs: row.acquireMs,
    initMs: row.initMs,
    durationMs: row.durationMs,
    billedMs: row.billedMs,
    memoryMb: row.memoryMb,
    logs: row.logs,
    logsTruncated: row.logsTruncated,
    concurrency: row.concurrency,
  };
}

/** `GET /v1/invocations/{id}` for a finished invocation. */
export function finishedInvocationView(row: InvocationRow) {
  let result: unknown = null;
  if (row.result !== null) {
    // A cut result is no longer JSON; hand it back as the text it is. So is
    // any other stored text that does not parse: a record must always be readable.
    result = row.result;
    if (!row.resultTruncated) {
      try {
        result = JSON.parse(row.result);
      } catch {
        // keep the text
      }
    }
  }
  return {
    invocationId: row.id,
    functionName: row.functionName,
    version: row.version,
    mode: row.mode,
    status: row.status,
    coldStart: row.coldStart,
    startKind: row.startKind,
    result,
    resultTruncated: row.resultTruncated,
    error: row.errorCode ? { code: row.errorCode, type: row.errorType, message: row.errorMessage } : null,
    timings: {
      queuedAt: row.queuedAt.toISOString(),
      startedAt: row.startedAt.toISOString(),
      finishedAt: row.finishedAt.toISOString(),
      queueWaitMs: row.queueWaitMs,
      acquireMs: row.acquireMs,
      initMs: row.initMs,
      durationMs: row.durationMs,
      billedMs: row.billedMs,
    },
    memoryMb: row.memoryMb,
    logs: row.logs,
    logsTruncated: row.logsTruncated,
  };
}
