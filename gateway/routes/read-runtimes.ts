/**
 * `GET /v1/runtimes`: the catalogue joined with the live workers' reports.
 * Any valid key: what runtimes an installation has is no tenant's secret,
 * and unlike `GET /v1/workers` it holds no load or memory figures.
 */
import { Hono } from 'hono';
import { listRuntimes } from '../api/runtimes-api.ts';
import { validated } from '../api/validated.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import { listRuntimes as runtimeListing } from '../runtimes/runtime-list.ts';

export function readRuntimesRoute(deps: Pick<GatewayDeps, 'metrics'>) {
  return new Hono<GatewayEnv>().get(listRuntimes.honoPath, validated(listRuntimes), async (c) => c.json(runtimeListing(await deps.metrics.workers())));
}
