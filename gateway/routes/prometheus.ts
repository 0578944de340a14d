/**
 * `GET /metrics`: the gateway's Prometheus metrics (text format). Admin key
 * only: queue depths and request counts are platform-wide, not a tenant's.
 */
import { Hono } from 'hono';
import { getPrometheusMetrics } from '../api/history-api.ts';
import { validated } from '../api/validated.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';

export function prometheusRoute(deps: GatewayDeps) {
  // `access: 'admin'`: `validated` refuses other keys.
  return new Hono<GatewayEnv>().get(getPrometheusMetrics.honoPath, validated(getPrometheusMetrics), async (c) => {
    const { contentType, body } = await deps.prometheus.render();
    return c.body(body, 200, { 'Content-Type': contentType });
  });
}
