/** `GET /metrics`: the gateway's Prometheus metrics (text format), behind the API key. */
import { Hono } from 'hono';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';

export function prometheusRoute(deps: GatewayDeps) {
  return new Hono<GatewayEnv>().get('/metrics', async (c) => {
    const { contentType, body } = await deps.prometheus.render();
    return c.body(body, 200, { 'Content-Type': contentType });
  });
}
