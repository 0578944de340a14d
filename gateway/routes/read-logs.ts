/**
 * Logs and invocation history: `GET /v1/invocations/{id}/logs`,
 * `GET /v1/functions/{name}/logs?since=&limit=&cursor=` and
 * `GET /v1/functions/{name}/invocations?since=&status=&limit=&cursor=`, newest first,
 * paged by an opaque cursor.
 */
import { Hono } from 'hono';
import { assertFunctionName } from '../deploy/function-settings.ts';
import { badRequest, notFound } from '../errors.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import { UUID, isQueryableTime } from '../ids.ts';
import type { RecordRow } from '../metrics/metrics-store.ts';
import { sinceFrom, type InvocationSummary, type LogEntry, type Page } from '../metrics/metrics-view.ts';
import { reportLine } from '../metrics/report-line.ts';

/** Every status a record can have (`worker/contract/invocation-outcome.ts`). */
const STATUSES = ['succeeded', 'failed', 'throttled', 'expired', 'dead-letter'];

/** The id of the namespace's function `name`; 400 for a bad name, 404 for none. */
export async function functionIdOr404(deps: GatewayDeps, namespace: string, name: string): Promise<string> {
  assertFunctionName(name);
  const id = await deps.metrics.functionIdOf(namespace, name);
  if (!id) throw notFound('FunctionNotFound', `function "${name}" does not exist`);
  return id;
}

export function readLogsRoute(deps: GatewayDeps) {
  return new Hono<GatewayEnv>()
    .get('/v1/invocations/:id/logs', async (c) => {
      const id = c.req.param('id').toLowerCase();
      const row = UUID.test(id) ? await deps.invocations.find(c.get('namespace'), id) : null;
      if (!row) throw notFound('InvocationNotFound', `invocation "${id.slice(0, 64)}" does not exist or has not finished`);
      return c.json({
        invocationId: row.id,
        logs: row.logs,
        logsTruncated: row.logsTruncated,
        report: reportLine(row),
      });
    })
    .get('/v1/functions/:name/logs', async (c) => {
      const functionId = await functionIdOr404(deps, c.get('namespace'), c.req.param('name'));
      const limit = parseLimit(c.req.query('limit'), 50, 500);
      const since = parseSince(c.req.query('since'));
      const before = parseCursor(c.req.query('cursor'));
      const rows = await deps.metrics.readRecords({ functionId, limit: limit + 1, ...(since ? { since } : {}), ...(before ? { before } : {}) });
      return c.json(page(rows, limit, toLogEntry));
    })
    .get('/v1/functions/:name/invocations', async (c) => {
      const functionId = await functionIdOr404(deps, c.get('namespace'), c.req.param('name'));
      const limit = parseLimit(c.req.query('limit'), 50, 500);
      const status = c.req.query('status');
      if (status !== undefined && !STATUSES.includes(status)) {
        throw badRequest('InvalidParameter', `status must be one of ${STATUSES.join(', ')}`);
      }
      const since = parseSince(c.req.query('since'));
      const before = parseCursor(c.req.query('cursor'));
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

export function parseLimit(raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw badRequest('InvalidParameter', `limit must be an integer from 1 to ${max}`);
  return n;
}

function parseSince(raw: string | undefined, now = Date.now()): Date | undefined {
  if (raw === undefined || raw === '') return undefined;
  const date = sinceFrom(raw, now);
  if (!date || !isQueryableTime(date)) {
    throw badRequest('InvalidParameter', 'since must be an ISO time, epoch milliseconds, or a duration like 15m, from year 1 to 9999');
  }
  return date;
}

function parseCursor(raw: string | undefined): { queuedAt: Date; id: string } | undefined {
  if (raw === undefined || raw === '') return undefined;
  const [time, id] = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  const queuedAt = new Date(time ?? '');
  if (!id || !UUID.test(id) || !isQueryableTime(queuedAt)) throw badRequest('InvalidParameter', 'cursor is not valid');
  return { queuedAt, id };
}
