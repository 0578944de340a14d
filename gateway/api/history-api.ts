/** What happened: a function's logs, invocations and metrics, the namespace's summary, the workers, Prometheus. */
import { z } from 'zod';
import { functionNameParam, says, versionParam } from './fields.ts';
import { defineOperation } from './operation.ts';
import { limitQuery, recordCursorQuery, sinceQuery } from './paging-fields.ts';

/** Every status a record can have (`worker/contract/invocation-outcome.ts`). */
export const RECORD_STATUSES = ['succeeded', 'failed', 'throttled', 'expired', 'dead-letter'] as const;

const named = z.object({ name: functionNameParam });
const windowQuery = z.object({
  window: z
    .enum(['5m', '1h', '24h', '7d'], says('window must be one of 5m, 1h, 24h, 7d'))
    .default('1h')
    .meta({ description: 'the time window (default 1h)' }),
});

export const listFunctionLogs = defineOperation({
  method: 'get',
  path: '/v1/functions/{name}/logs',
  operationId: 'listFunctionLogs',
  summary: "A function's logs, newest first",
  tag: 'history',
  access: 'key',
  params: named,
  query: z.object({ limit: limitQuery(50, 500), since: sinceQuery, cursor: recordCursorQuery }),
  success: { 200: { description: '`{ items: [...], nextCursor }`' } },
  errors: ['FunctionNotFound'],
});

export const listFunctionInvocations = defineOperation({
  method: 'get',
  path: '/v1/functions/{name}/invocations',
  operationId: 'listFunctionInvocations',
  summary: "A function's invocations, newest first",
  tag: 'history',
  access: 'key',
  params: named,
  query: z.object({
    limit: limitQuery(50, 500),
    since: sinceQuery,
    status: z
      .enum(RECORD_STATUSES, says(`status must be one of ${RECORD_STATUSES.join(', ')}`))
      .optional()
      .meta({ description: 'only invocations that ended so' }),
    cursor: recordCursorQuery,
  }),
  success: { 200: { description: '`{ items: [...], nextCursor }`' } },
  errors: ['FunctionNotFound'],
});

export const getFunctionMetrics = defineOperation({
  method: 'get',
  path: '/v1/functions/{name}/metrics',
  operationId: 'getFunctionMetrics',
  summary: "A function's cold starts, latency and usage over a window, split by version",
  description:
    'With `?version=N` every number is that version\'s alone. `versions` lists each version that had calls in the window (only N with `?version=`), newest first.',
  tag: 'history',
  access: 'key',
  params: named,
  query: windowQuery.extend({ version: versionParam.optional().meta({ description: "only this version's calls (1 to 2147483647)" }) }),
  success: { 200: { description: 'totals, percentiles, a series of points, and `versions`: `[{ version, invocations, errors, errorRate, p50Ms, p99Ms, ... }]`' } },
  errors: ['FunctionNotFound', 'VersionNotFound'],
});

export const getMetricsSummary = defineOperation({
  method: 'get',
  path: '/v1/metrics/summary',
  operationId: 'getMetricsSummary',
  summary: "The namespace's metrics over a window, per function; with the admin key, the workers' pools too",
  tag: 'history',
  access: 'key',
  query: windowQuery,
  success: { 200: { description: 'totals, a series, per-function figures, and `pool` (null without the admin key)' } },
});

export const listWorkers = defineOperation({
  method: 'get',
  path: '/v1/workers',
  operationId: 'listWorkers',
  summary: 'Live workers, their load, and the warm containers they hold',
  tag: 'platform',
  access: 'admin',
  success: { 200: { description: '`{ workers: [...] }`' } },
});

export const getPrometheusMetrics = defineOperation({
  method: 'get',
  path: '/metrics',
  operationId: 'getPrometheusMetrics',
  summary: "The gateway's Prometheus metrics",
  tag: 'platform',
  access: 'admin',
  success: { 200: { description: 'the Prometheus text format', contentType: 'text/plain' } },
});
