/** The JSON shapes of an invocation as callers see it, from a record or an outcome. */
import type { InvocationOutcome } from '../../worker/contract/invocation-outcome.ts';
import { jsonSyntaxError } from '../../worker/common/json-check.ts';
import type { InvocationRow } from '../../worker/common/invocations-store.ts';

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

/**
 * What `GET /v1/invocations/{id}` shows beside the record: the calls before
 * it in its chain of destinations (oldest first) and its own deliveries.
 */
export interface RelatedInvocations {
  chain: Array<{ id: string; function: string; status: string }>;
  deliveries: Array<Record<string, unknown>>;
}

/**
 * `GET /v1/invocations/{id}` for a finished invocation, as JSON text. The
 * stored result (up to 1 MB of the tenant's JSON) goes in as the text it was
 * stored as, never parsed and re-serialised here: that would hold the
 * event loop for every caller of this gateway on each read. A cut result is
 * no longer JSON, and is handed back as a string; so is any other stored
 * text that is not JSON (a record must always be readable).
 */
export function finishedInvocationJson(row: InvocationRow, related?: RelatedInvocations): string {
  const head = {
    invocationId: row.id,
    functionName: row.functionName,
    version: row.version,
    alias: row.alias,
    mode: row.mode,
    trigger: row.trigger ?? null,
    causedBy: row.causedBy ?? null,
    scheduledFor: row.scheduledFor ? row.scheduledFor.toISOString() : null,
    status: row.status,
    coldStart: row.coldStart,
    startKind: row.startKind,
  };
  const tail = {
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
    ...(related ? { chain: related.chain, deliveries: related.deliveries } : {}),
  };
  const result =
    row.result === null ? 'null' : !row.resultTruncated && jsonSyntaxError(row.result) === null ? row.result : JSON.stringify(row.result);
  return `${JSON.stringify(head).slice(0, -1)},"result":${result},${JSON.stringify(tail).slice(1)}`;
}
