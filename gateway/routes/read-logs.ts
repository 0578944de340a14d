/**
 * Logs and invocation history: `GET /v1/invocations/{id}/logs`,
 * `GET /v1/functions/{name}/logs?since=&limit=&cursor=` and
 * `GET /v1/functions/{name}/invocations?since=&status=&limit=&cursor=`, newest first,
 * paged by an opaque cursor. Inputs are checked by their operations (`api/history-api.ts`, `api/invoke-api.ts`).
 */
import { Hono } from 'hono';
import { listFunctionInvocations, listFunctionLogs } from '../api/history-api.ts';
import { getInvocationLogs } from '../api/invoke-api.ts';
import { validated } from '../api/validated.ts';
import { notFound } from '../errors.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import type { RecordRow } from '../metrics/metrics-store.ts';
import type { InvocationSummary, LogEntry, Page } from '../metrics/metrics-view.ts';
import { reportLine } from '../metrics/report-line.ts';

/** The id of the namespace's function `name` (already a valid name); 404 for none. */
export async function functionIdOr404(deps: GatewayDeps, namespace: string, name: string): Promise<string> {
  const id = await deps.metrics.functionIdOf(namespace, name);
  if (!id) throw notFound('FunctionNotFound', `function "${name}" does not exist`);
  return id;
}

export function readLogsRoute(deps: GatewayDeps) {
  return new Hono<GatewayEnv>()
    .get(getInvocationLogs.honoPath, validated(getInvocationLogs), async (c) => {
      const { id } = c.req.valid('param');
      const row = await deps.invocations.find(c.get('namespace'), id);
      if (!row) throw notFound('InvocationNotFound', `invocation "${id}" does not exist or has not finished`);
      return c.json({
        invocationId: row.id,
        logs: row.logs,
        logsTruncated: row.logsTruncated,
        report: reportLine(row),
      });
    })
    .get(listFunctionLogs.honoPath, validated(listFunctionLogs), async (c) => {
      const functionId = await functionIdOr404(deps, c.get('namespace'), c.req.valid('param').name);
      const { limit, since, cursor: before } = c.req.valid('query');
      const rows = await deps.metrics.readRecords({ functionId, limit: limit + 1, ...(since ? { since } : {}), ...(before ? { before } : {}) });
      return c.json(page(rows, limit, toLogEntry));
    })
    .get(listFunctionInvocations.honoPath, validated(listFunctionInvocations), async (c) => {
      const functionId = await functionIdOr404(deps, c.get('namespace'), c.req.valid('param').name);
      const { limit, since, status, cursor: before } = c.req.valid('query');
      const rows = await deps.metrics.readRecords({
        functionId,
        limit: limit + 1,
        ...(since ? { since } : {}),
        ...(status ? { status } : {}),
        ...(before ? { before } : {}),
      });
      return c.json(page(rows, limit, toSummary));
    });
}

function page<T>(rows: RecordRow[], limit: number, map: (r: RecordRow) => T): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(map),
    nextCursor: rows.length > limit && last ? Buffer.from(`${last.queuedAt.toISOString()}|${last.id}`).toString('base64url') : null,
  };
}

function toLogEntry(r: RecordRow): LogEntry {
  return {
    invocationId: r.id,
    time: r.queuedAt.toISOString(),
    version: r.version,
    mode: r.mode,
    trigger: r.trigger,
    status: r.status,
    logs: r.logs,
    logsTruncated: r.logsTruncated,
    report: reportLine(r),
  };
}

function toSummary(r: RecordRow): InvocationSummary {
  return {
    invocationId: r.id,
    time: r.queuedAt.toISOString(),
    version: r.version,
    mode: r.mode,
    trigger: r.trigger,
    status: r.status,
    startKind: r.startKind,
    coldStart: r.coldStart,
    durationMs: r.durationMs,
    latencyMs: r.finishedAt.getTime() - r.queuedAt.getTime(),
    initMs: r.initMs,
    billedMs: r.billedMs,
    errorCode: r.errorCode,
  };
}
