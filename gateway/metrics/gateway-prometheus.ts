/** The gateway's Prometheus metrics: requests by route and status, their durations, and queue depth. */
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { REQUEST_SECONDS_BUCKETS } from '../../worker/contract/metric-buckets.ts';

export interface GatewayPrometheus {
  /** Middleware that counts and times every request by its route pattern. */
  middleware: MiddlewareHandler;
  render(): Promise<{ contentType: string; body: string }>;
}

export function createGatewayPrometheus(queueCounts: () => Promise<Record<string, number>>): GatewayPrometheus {
  const registry = new Registry();
  const requests = new Counter({
    name: 'hearth_gateway_requests_total',
    help: 'HTTP requests by route pattern, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'hearth_gateway_request_duration_seconds',
    help: 'HTTP request time by route pattern.',
    labelNames: ['route'] as const,
    buckets: REQUEST_SECONDS_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: 'hearth_queue_jobs',
    help: 'Invocations in the queue by state (waiting, active, delayed, failed).',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [state, n] of Object.entries(await queueCounts())) this.set({ state }, n);
    },
  });
  return {
    async middleware(c, next) {
      const started = performance.now();
      await next();
      const route = routePath(c);
      requests.inc({ route, method: c.req.method, status: String(c.res.status) });
      duration.observe({ route }, (performance.now() - started) / 1000);
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
