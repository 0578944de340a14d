/**
 * `GET /metrics`: the gateway's Prometheus metrics (text format). Admin key
 * only: queue depths and request counts are platform-wide, not a tenant's.
 */
import { Hono } from 'hono';
import { assertAdmin } from '../auth.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';

export function prometheusRoute(deps: GatewayDeps) {
  return new Hono<GatewayEnv>().get('/metrics', async (c) => {
    assertAdmin(c);
    const { contentType, body } = await deps.prometheus.render();
    return c.body(body, 200, { 'Content-Type': contentType });
  });
}
