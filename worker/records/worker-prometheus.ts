/**
 * The worker's Prometheus metrics, served on their own small HTTP listener
 * (the worker has no other HTTP surface): invocation counters and duration
 * histograms labelled by function and start kind, and the pool's containers
 * by state and runtime.
 */
import { REQUEST_SECONDS_BUCKETS } from '../contract/metric-buckets.ts';
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { InvocationOutcome } from '../contract/invocation-outcome.ts';
import type { InvocationJob } from '../contract/invocation-job.ts';
import type { PoolStats } from '../contract/worker-report.ts';

const SECONDS_BUCKETS = [...REQUEST_SECONDS_BUCKETS, 300, 900];

export interface WorkerPrometheus {
  observe(job: InvocationJob, outcome: InvocationOutcome): void;
  render(): Promise<{ contentType: string; body: string }>;
  /** Serves `/metrics` on host:port; resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

export function createWorkerPrometheus(workerId: string, pool: () => PoolStats): WorkerPrometheus {
  const registry = new Registry();
  registry.setDefaultLabels({ worker: workerId });
  const labelNames = ['function', 'start_kind'] as const;
  const invocations = new Counter({
    name: 'hearth_invocations_total',
    help: 'Finished invocations by function, start kind (cold, prewarmed, warm) and status.',
    labelNames: ['function', 'start_kind', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'hearth_invocation_duration_seconds',
    help: 'Handler time (what is billed), by function and start kind.',
    labelNames,
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'hearth_invocation_latency_seconds',
    help: 'Queued to finished, by function and start kind.',
    labelNames,
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const init = new Histogram({
    name: 'hearth_init_duration_seconds',
    help: 'Code load time of cold and pre-warmed starts, by function.',
    labelNames: ['function'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: 'hearth_containers',
    help: 'Containers this worker holds, by runtime and state (busy, warm, prewarmed).',
    labelNames: ['runtime', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [runtime, counts] of Object.entries(pool().byRuntime)) {
        for (const [state, n] of Object.entries(counts)) this.set({ runtime, state }, n);
      }
    },
  });
  new Gauge({
    name: 'hearth_memory_used_bytes',
    help: 'Sum of the memory limits of the containers this worker holds.',
    registers: [registry],
    collect() {
      this.set(pool().memoryUsedMb * 1024 * 1024);
    },
  });
  new Gauge({
    name: 'hearth_memory_budget_bytes',
    help: 'The most container memory this worker may hold.',
    registers: [registry],
    collect() {
      this.set(pool().memoryBudgetMb * 1024 * 1024);
    },
  });

  let server: Server | null = null;
  const render = async () => ({ contentType: registry.contentType, body: await registry.metrics() });
  return {
    observe(job, outcome) {
      const fn = `${job.namespace}/${job.functionName}`;
      invocations.inc({ function: fn, start_kind: outcome.startKind, status: outcome.status });
      duration.observe({ function: fn, start_kind: outcome.startKind }, outcome.durationMs / 1000);
      latency.observe({ function: fn, start_kind: outcome.startKind }, (outcome.finishedAt - outcome.queuedAt) / 1000);
      if (outcome.startKind !== 'warm') init.observe({ function: fn }, outcome.initMs / 1000);
    },
    render,
    listen(host, port) {
      server = createServer((req, res) => {
        if (req.url !== '/metrics') {
          res.writeHead(404).end();
          return;
        }
        render().then(
          ({ contentType, body }) => res.writeHead(200, { 'Content-Type': contentType }).end(body),
          () => res.writeHead(500).end(),
        );
      });
      return new Promise((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, host, () => resolve((server!.address() as { port: number }).port));
      });
    },
    async close() {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  };
}
