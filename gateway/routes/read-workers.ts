/**
 * `GET /v1/workers`: live workers, their load, and the warm containers they
 * hold. Admin key only: the load and memory of shared workers are
 * platform-wide numbers, from which one tenant could time another's calls.
 */
import { Hono } from 'hono';
import { listWorkers } from '../api/history-api.ts';
import { validated } from '../api/validated.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';

export function readWorkersRoute(deps: GatewayDeps) {
  // `access: 'admin'`: `validated` refuses other keys.
  return new Hono<GatewayEnv>().get(listWorkers.honoPath, validated(listWorkers), async (c) => {
    const workers = (await deps.metrics.workers()).map((w) => ({
      workerId: w.workerId,
      host: w.host,
      startedAt: w.startedAt,
      seenAt: w.seenAt,
      concurrency: w.concurrency,
      inFlight: w.inFlight,
      load: w.concurrency === 0 ? 0 : Math.round((w.inFlight / w.concurrency) * 1000) / 1000,
      runtimes: w.runtimes,
      memoryUsedMb: w.pool.memoryUsedMb,
      memoryBudgetMb: w.pool.memoryBudgetMb,
      containers: { busy: w.pool.busy, warm: w.pool.warm, prewarmed: w.pool.prewarmed },
      warm: w.warm.map((e) => ({ namespace: e.namespace, functionName: e.functionName, version: e.version, idle: e.idle, total: e.total })),
    }));
    return c.json({ workers });
  });
}
