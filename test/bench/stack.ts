/**
 * An isolated platform for the benchmark, run the way production runs it:
 * the gateway and the worker as separate `node --import tsx` processes (as
 * `infra/start.ts` starts them), against their own database
 * (`hearth_bench`, dropped and migrated afresh each run), queue prefix,
 * port, state directory and API key. A scenario restarts the worker with
 * the settings it needs; `stop()` ends both and removes every container a
 * bench worker (`io.hearth.worker=bench-*`) or baseline left, even after a
 * failure.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Dockerode from 'dockerode';
import { Redis } from 'ioredis';
import pg from 'pg';
import { SANDBOX_LABELS } from '../../worker/engine/container-runtime.ts';
import { redisOptionsFromUrl } from '../../worker/common/redis/connection-options.ts';
import { freePort } from '../helpers/ports.ts';
import { startTsxProcess, stopGracefully, type StartedProcess } from '../helpers/processes.ts';
import { waitUntil } from '../helpers/wait.ts';
import { GATEWAY_MALLOC_ENV } from '../../gateway/memory-env.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BENCH_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/hearth_bench';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export type Log = (line: string) => void;

/** What every scenario gets: the running stack and the run's settings. */
export interface BenchContext {
  stack: BenchStack;
  /** `--quick`: fewer samples, for a smoke run. */
  quick: boolean;
  /** Short random id, part of every function name this run deploys. */
  runId: string;
  log: Log;
  /** Figures one scenario leaves for a later one (the bare cold start p50 for the pre-warm ratio). */
  shared: { coldBaselineP50?: number };
}

/**
 * Worker settings a scenario may change (unset: the bench defaults below).
 * `HEARTH_PREWARM` is `runtime:memoryMb=count,…`; empty means none.
 */
export type WorkerEnv = Partial<Record<keyof typeof WORKER_DEFAULTS, string>>;

const WORKER_DEFAULTS = {
  HEARTH_WORKER_CONCURRENCY: '64',
  HEARTH_KEEP_ALIVE_MS: '300000',
  HEARTH_PREWARM: '',
  HEARTH_MEMORY_BUDGET_MB: '16384',
  HEARTH_START_TIMEOUT_MS: '30000',
  /** Several workers share this host: no fixed metrics port. */
  HEARTH_METRICS_PORT: '0',
  /** The worker's default: half the budget for one namespace's provisioned containers. */
  HEARTH_PROVISIONED_SHARE: '0.5',
};

/** One HTTP exchange as the benchmark client saw it. */
export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** From writing the request to the last byte of the answer. */
  ms: number;
  /** Epoch ms (sub-ms) when the request was sent and the answer complete, to line up with the records. */
  sentAt: number;
  receivedAt: number;
}

/** A request over `agent` (keep-alive), timed on the client; rejects on network errors. */
export function httpCall(
  agent: http.Agent,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(url, { method: options.method ?? 'GET', agent, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const t1 = performance.now();
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          ms: t1 - t0,
          sentAt: performance.timeOrigin + t0,
          receivedAt: performance.timeOrigin + t1,
        });
      });
      res.on('error', reject);
    });
    req.setTimeout(options.timeoutMs ?? 120_000, () => req.destroy(new Error(`no answer from ${url} in time`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Removes every container (and baseline network) whose worker label starts with `prefix` (`bench-`, `soak-`); returns how many containers. */
export async function removeContainersOf(docker: Dockerode, prefix: string): Promise<number> {
  const all = await docker.listContainers({ all: true, filters: { label: [SANDBOX_LABELS.worker] } });
  const ours = all.filter((c) => (c.Labels[SANDBOX_LABELS.worker] ?? '').startsWith(prefix));
  for (let i = 0; i < ours.length; i += 16) {
    await Promise.all(
      ours.slice(i, i + 16).map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {})),
    );
  }
  const networks = await docker.listNetworks({ filters: { label: [SANDBOX_LABELS.worker] } });
  for (const n of networks.filter((n) => (n.Labels?.[SANDBOX_LABELS.worker] ?? '').startsWith(prefix))) {
    await docker.getNetwork(n.Id).remove().catch(() => {});
  }
  return ours.length;
}

/** The bench's own containers and networks (worker ids `bench-…`). */
export const removeBenchContainers = (docker: Dockerode): Promise<number> => removeContainersOf(docker, 'bench-');

export class BenchStack {
  readonly docker = new Dockerode();
  readonly records: pg.Pool;
  readonly apiKey = `bench-${randomBytes(18).toString('base64url')}`;
  readonly prefix = 'hearth-bench';
  readonly stateDir: string;
  url = '';
  workerId = '';
  /** Keep-alive agent for API calls (deploys, single invokes). */
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  private workers = 0;
  private gateway: StartedProcess | null = null;
  private worker: StartedProcess | null = null;
  private readonly extraWorkers: StartedProcess[] = [];

  private constructor(
    private readonly log: Log,
    /** Where the processes' output goes; kept after the run. */
    readonly logsDir: string,
  ) {
    this.stateDir = join(tmpdir(), `hearth-bench-${randomBytes(4).toString('hex')}`);
    mkdirSync(this.stateDir, { recursive: true });
    rmSync(logsDir, { recursive: true, force: true });
    mkdirSync(logsDir, { recursive: true });
    this.records = new pg.Pool({ connectionString: BENCH_DATABASE_URL, max: 4 });
    this.records.on('error', () => {});
  }

  /** Starts the gateway and a worker with the bench defaults. */
  static async start(log: Log, logsDir: string): Promise<BenchStack> {
    const stack = new BenchStack(log, logsDir);
    try {
      const removed = await removeBenchContainers(stack.docker);
      if (removed > 0) log(`stack: removed ${removed} containers left by an earlier bench run`);
      // Jobs an interrupted earlier run left queued would reach the new worker.
      await stack.clearQueue();
      const port = await freePort(18080);
      stack.url = `http://127.0.0.1:${port}`;
      // Function endpoints get a listener of their own; no scenario calls them, but the port must be free.
      let fnPort = await freePort(port + 1);
      while (fnPort === port) fnPort = await freePort();
      // The density scenario provisions 200 × 64 MB in one namespace: over the default quota.
      stack.gateway = await stack.spawn(
        'gateway',
        'gateway/main.ts',
        // The event scenario's brokers are on this machine: allowed (the platform's own Redis and Postgres stay refused).
        { PORT: String(port), HEARTH_FN_PORT: String(fnPort), HOST: '127.0.0.1', HEARTH_NAMESPACE_PROVISIONED_MEMORY_MB: '65536', HEARTH_OUTBOUND_ALLOW_HOSTS: '127.0.0.1', ...GATEWAY_MALLOC_ENV },
        'gateway listening',
      );
      await stack.waitForHealth();
      await stack.restartWorker({});
      return stack;
    } catch (err) {
      await stack.stop();
      throw err;
    }
  }

  /** Drops everything an earlier bench run left under the prefix: every queue, report and lease. */
  private async clearQueue(): Promise<void> {
    const redis = new Redis(redisOptionsFromUrl(REDIS_URL));
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  }

  /** Common environment of both processes. */
  private baseEnv(): Record<string, string> {
    return {
      DATABASE_URL: BENCH_DATABASE_URL,
      REDIS_URL,
      HEARTH_QUEUE_PREFIX: this.prefix,
      HEARTH_STATE_DIR: this.stateDir,
      HEARTH_API_KEY: this.apiKey,
      // Passed through for side-by-side runs with the init CPU boost off (`HEARTH_INIT_CPUS=0 npm run bench`).
      ...(process.env.HEARTH_INIT_CPUS !== undefined ? { HEARTH_INIT_CPUS: process.env.HEARTH_INIT_CPUS } : {}),
    };
  }

  /** Starts `node --import tsx <entry>`, output to its log; resolves once it logged `readyMessage`. */
  private spawn(name: string, entry: string, env: Record<string, string>, readyMessage: string): Promise<StartedProcess> {
    return startTsxProcess({
      name,
      entry,
      cwd: ROOT,
      env: { ...this.baseEnv(), ...env },
      logFile: join(this.logsDir, `${name}.log`),
      readyMessage,
      readyTimeoutMs: 60_000,
      tailChars: 4096,
    });
  }

  private async waitForHealth(timeoutMs = 30_000): Promise<void> {
    const healthy = () => httpCall(this.agent, `${this.url}/healthz`, { timeoutMs: 2000 }).then((a) => a.status === 200, () => false);
    if (!(await waitUntil(healthy, timeoutMs))) throw new Error(`the gateway did not answer GET /healthz on ${this.url} within ${timeoutMs} ms`);
  }

  /**
   * Stops the running worker (it drains and removes its containers) and
   * starts a new one, `bench-<n>`, with `env` over the bench defaults.
   * Resolves once it logged that it consumes the queue.
   */
  async restartWorker(env: WorkerEnv): Promise<void> {
    if (this.worker) await this.stopChild(this.worker, 90_000);
    this.workers += 1;
    this.workerId = `bench-${this.workers}`;
    const full = { ...WORKER_DEFAULTS, ...env, HEARTH_WORKER_ID: this.workerId };
    this.log(`stack: worker ${this.workerId} ${Object.entries(full).filter(([k]) => k !== 'HEARTH_WORKER_ID').map(([k, v]) => `${k.replace('HEARTH_', '')}=${v}`).join(' ')}`);
    this.worker = await this.spawn(this.workerId, 'worker/main.ts', full, 'worker started');
  }

  /** Starts one more worker next to the current one (its own id); `stopExtraWorkers` ends them. */
  async addWorker(env: WorkerEnv): Promise<string> {
    this.workers += 1;
    const workerId = `bench-${this.workers}`;
    const full = { ...WORKER_DEFAULTS, ...env, HEARTH_WORKER_ID: workerId };
    this.log(`stack: extra worker ${workerId}`);
    this.extraWorkers.push(await this.spawn(workerId, 'worker/main.ts', full, 'worker started'));
    return workerId;
  }

  async stopExtraWorkers(): Promise<void> {
    for (const child of this.extraWorkers.splice(0)) await this.stopChild(child, 90_000);
  }

  private stopChild(child: StartedProcess, graceMs: number): Promise<void> {
    return stopGracefully(child.process, child.exited, graceMs, () =>
      this.log(`stack: ${child.name} did not stop within ${graceMs} ms of SIGTERM; sending SIGKILL`),
    );
  }

  /** Authorization and JSON headers for API calls. */
  headers(json = true): Record<string, string> {
    return { authorization: `Bearer ${this.apiKey}`, ...(json ? { 'content-type': 'application/json' } : {}) };
  }

  /**
   * Deploys one Node source file as `index.js` and returns the function's id.
   * Fields in `optional` that the gateway rejects by name (400) are dropped
   * and listed in `unsupported`, so a scenario can fall back and say so.
   */
  async deploy(
    name: string,
    source: string,
    fields: Record<string, string>,
    optional: Record<string, string> = {},
  ): Promise<{ functionId: string; unsupported: string[] }> {
    const extra = { ...optional };
    const unsupported: string[] = [];
    for (;;) {
      const form = new FormData();
      form.append('code', new Blob([source], { type: 'application/javascript' }), 'index.js');
      for (const [k, v] of Object.entries({ runtime: 'nodejs20', handler: 'index.handler', ...fields, ...extra })) form.append(k, v);
      const res = await fetch(`${this.url}/v1/functions/${name}`, { method: 'PUT', headers: this.headers(false), body: form });
      const text = await res.text();
      if (res.status === 201) {
        const found = await this.records.query<{ id: string }>('select id from functions where name = $1', [name]);
        return { functionId: found.rows[0]!.id, unsupported };
      }
      const rejected = /unknown field/i.test(text) ? Object.keys(extra).filter((k) => text.includes(k)) : [];
      if (res.status !== 400 || rejected.length === 0) throw new Error(`deploy of ${name} answered ${res.status}: ${text.slice(0, 300)}`);
      for (const k of rejected) delete extra[k];
      unsupported.push(...rejected);
    }
  }

  async deleteFunction(name: string): Promise<void> {
    const res = await fetch(`${this.url}/v1/functions/${name}`, { method: 'DELETE', headers: this.headers(false) });
    if (res.status !== 204 && res.status !== 404) throw new Error(`delete of ${name} answered ${res.status}`);
  }

  /** Sync invoke through the public API, timed on the client. */
  invoke(name: string, event: unknown = {}, agent: http.Agent = this.agent): Promise<HttpAnswer> {
    return httpCall(agent, `${this.url}/v1/functions/${name}/invoke`, { method: 'POST', headers: this.headers(), body: JSON.stringify(event) });
  }

  /** Ends both processes (SIGTERM, then SIGKILL) and removes every bench container. Safe to call twice. */
  async stop(): Promise<void> {
    const children = [...this.extraWorkers.splice(0), this.worker, this.gateway].filter((c): c is StartedProcess => c !== null);
    this.worker = null;
    this.gateway = null;
    for (const child of children) await this.stopChild(child, child.name === 'gateway' ? 10_000 : 90_000).catch(() => {});
    const removed = await removeBenchContainers(this.docker).catch(() => 0);
    if (removed > 0) this.log(`stack: removed ${removed} containers the workers left behind`);
    await this.clearQueue().catch(() => {});
    this.agent.destroy();
    await this.records.end().catch(() => {});
    rmSync(this.stateDir, { recursive: true, force: true });
  }

  /** Process ids of the gateway and the current worker (for CPU accounting). */
  pids(): { gateway: number | undefined; worker: number | undefined } {
    return { gateway: this.gateway?.process.pid, worker: this.worker?.process.pid };
  }
}
