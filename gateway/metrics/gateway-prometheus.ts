/** The gateway's Prometheus metrics: requests by route and status, their durations, queue depth, and the source triggers it runs. */
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { REQUEST_SECONDS_BUCKETS } from '../../worker/contract/metric-buckets.ts';

export interface GatewayPrometheus {
  /** Middleware that counts and times every request by its route pattern. */
  middleware: MiddlewareHandler;
  render(): Promise<{ contentType: string; body: string }>;
  /** A delivery to a destination settled (`delivered` or `failed`) on this gateway. */
  countDelivery(type: string, condition: string, status: string): void;
}

/** A source trigger this gateway runs, with its live numbers (since this gateway took its lease). */
export interface TriggerSample {
  namespace: string;
  function: string;
  trigger: string;
  type: string;
  lag: number | null;
  batches: number;
  messages: number;
  failures: number;
  error: boolean;
}

export function createGatewayPrometheus(
  queueCounts: () => Promise<Record<string, number>>,
  triggers: () => Promise<TriggerSample[]> = async () => [],
): GatewayPrometheus {
  const registry = new Registry();
  const labelNames = ['namespace', 'function', 'trigger', 'type'] as const;
  // One read of the triggers per scrape, shared by the gauges below.
  let sampled: Promise<TriggerSample[]> | null = null;
  const sample = () => (sampled ??= triggers().finally(() => setTimeout(() => (sampled = null), 0)));
  const triggerGauge = (name: string, help: string, value: (s: TriggerSample) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        for (const s of await sample().catch(() => [])) {
          const v = value(s);
          if (v !== null) this.set({ namespace: s.namespace, function: s.function, trigger: s.trigger, type: s.type }, v);
        }
      },
    });
  triggerGauge('hearth_trigger_lag', 'Messages waiting on the broker that a source trigger has not taken yet (when the broker says).', (s) => s.lag);
  triggerGauge('hearth_trigger_batches', 'Batches a source trigger ran since this gateway took its lease.', (s) => s.batches);
  triggerGauge('hearth_trigger_messages', 'Messages a source trigger took since this gateway took its lease.', (s) => s.messages);
  triggerGauge('hearth_trigger_failures', 'Failed batch attempts of a source trigger since this gateway took its lease.', (s) => s.failures);
  triggerGauge('hearth_trigger_error', '1 while a source trigger\'s broker is failing (state "error").', (s) => (s.error ? 1 : 0));
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
  const deliveries = new Counter({
    name: 'hearth_destination_deliveries_total',
    help: 'Deliveries to destinations settled on this gateway, by destination type, condition and outcome.',
    labelNames: ['type', 'condition', 'status'] as const,
    registers: [registry],
  });
  return {
    countDelivery(type, condition, status) {
      deliveries.inc({ type, condition, status });
    },
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
