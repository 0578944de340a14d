/**
 * `GET /v1/functions/{name}/metrics[?version=N]` (with its per-version breakdown) and
 * `GET /v1/metrics/summary`: cold starts, latency and usage over a window.
 */
import { Hono } from 'hono';
import { getFunctionMetrics, getMetricsSummary } from '../api/history-api.ts';
import { validated } from '../api/validated.ts';
import { notFound } from '../errors.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import { coldStartRate, computeMetrics, round } from '../metrics/compute-metrics.ts';
import type { FunctionMetricsReport, MetricsSummary, WorkerPoolView } from '../metrics/metrics-view.ts';
import { planWindow, windowStart } from '../metrics/metrics-windows.ts';
import { versionBreakdown } from '../metrics/version-breakdown.ts';
import { functionIdOr404 } from './read-logs.ts';

export function readMetricsRoute(deps: GatewayDeps) {
  return new Hono<GatewayEnv>()
    .get(getFunctionMetrics.honoPath, validated(getFunctionMetrics), async (c) => {
      const { name } = c.req.valid('param');
      const query = c.req.valid('query');
      const plan = planWindow(query.window);
      const namespace = c.get('namespace');
      const functionId = await functionIdOr404(deps, namespace, name);
      const now = new Date();
      const from = windowStart(plan, now.getTime());
      const scope = { functionId, namespace, ...(query.version !== undefined ? { version: query.version } : {}) };
      const [rows, perVersion] = await Promise.all([
        deps.metrics.readBuckets(scope, plan.resolution, plan.bucketSeconds, from),
        deps.metrics.readVersionTotals(functionId, plan.resolution, from),
      ]);
      const shown = query.version === undefined ? perVersion : perVersion.filter((v) => v.version === query.version);
      // A deleted version's calls stay readable; a version that never ran here and does not exist is a mistake.
      if (query.version !== undefined && shown.length === 0 && !(await deps.functions.getVersion(namespace, name, query.version))) {
        throw notFound('VersionNotFound', `function "${name}" has no version ${query.version}`);
      }
      const report: FunctionMetricsReport = {
        ...computeMetrics(name, plan, from, now, rows),
        version: query.version ?? null,
        versions: versionBreakdown(shown),
      };
      return c.json(report);
    })
    .get(getMetricsSummary.honoPath, validated(getMetricsSummary), async (c) => {
      const plan = planWindow(c.req.valid('query').window);
      const namespace = c.get('namespace');
      const now = new Date();
      const from = windowStart(plan, now.getTime());
      // The workers' pools hold every tenant's containers: platform-wide numbers, for the admin key only.
      const [rows, perFunction, pool] = await Promise.all([
        deps.metrics.readBuckets({ namespace }, plan.resolution, plan.bucketSeconds, from),
        deps.metrics.readFunctionTotals(namespace, plan.resolution, from),
        c.get('admin') ? poolView(deps) : null,
      ]);
      const summary: MetricsSummary = {
        ...computeMetrics(null, plan, from, now, rows),
        functions: perFunction.map((f) => ({
          name: f.name,
          invocations: f.invocations,
          errors: f.errors,
          coldStarts: f.cold + f.prewarmed,
          coldStartRate: coldStartRate(f),
          gbSeconds: round(f.gbSeconds),
        })),
        pool,
      };
      return c.json(summary);
    });
}

/** Every worker's containers by state, and their sums. */
async function poolView(deps: GatewayDeps): Promise<NonNullable<MetricsSummary['pool']>> {
  const workers = await deps.metrics.workers();
  const views: WorkerPoolView[] = workers.map((w) => ({
    workerId: w.workerId,
    seenAt: w.seenAt,
    memoryUsedMb: w.pool.memoryUsedMb,
    memoryBudgetMb: w.pool.memoryBudgetMb,
    byRuntime: w.pool.byRuntime,
  }));
  const totals = { busy: 0, warm: 0, prewarmed: 0 };
  for (const w of workers) {
    totals.busy += w.pool.busy;
    totals.warm += w.pool.warm;
    totals.prewarmed += w.pool.prewarmed;
  }
  return { workers: views, totals };
}
