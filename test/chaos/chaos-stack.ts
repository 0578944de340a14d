/**
 * An isolated platform for the chaos run, all its own: a Redis with an
 * append-only file, a throwaway Postgres cluster, the gateway and two workers
 * as real processes (`node --import tsx …`, as `infra/start.ts` starts them).
 * Faults act on it: SIGKILL a worker and start it again under the same id,
 * restart Redis, stop and start Postgres. `stop()` ends everything and
 * removes every container the run's workers left — also after a failure.
 * For the trigger run (`trigger-run.ts`) it can also start a second Redis,
 * a broker the triggers read (the platform's own Redis is never a trigger's
 * broker), more gateways (lease takeover), and let gateways reach loopback
 * brokers (`HEARTH_OUTBOUND_ALLOW_HOSTS`).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Dockerode from 'dockerode';
import pg from 'pg';
import { createAndMigrate } from '../../migrations/database.ts';
import { SANDBOX_LABELS } from '../../worker/engine/container-runtime.ts';
import { freePort } from '../helpers/ports.ts';
import { startTsxProcess, stopGracefully, type StartedProcess } from '../helpers/processes.ts';
import { RedisServer } from '../helpers/redis-server.ts';
import { PostgresServer } from './services.ts';
import { GATEWAY_MALLOC_ENV } from '../../gateway/memory-env.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export type Log = (line: string) => void;

export interface ChaosStackOptions {
  /** Short random id: part of the queue prefix, worker ids and function name. */
  runId: string;
  /** Where the processes' output is kept (emptied first). */
  logsDir: string;
  workers?: number;
  /** Calls each worker runs at once. */
  concurrency?: number;
  /** Gateways to run (default 1): `gateway`, then `gateway-2`, … on ports of their own, all on the same Redis and Postgres. */
  gateways?: number;
  /** Also start `streamRedis`: a Redis of its own (AOF) for a redis-stream trigger to read. */
  streamRedis?: boolean;
  /** `HEARTH_OUTBOUND_ALLOW_HOSTS` of the gateways (e.g. `127.0.0.1`, so triggers may reach local brokers). */
  outboundAllowHosts?: string;
  log: Log;
}

export class ChaosStack {
  readonly docker = new Dockerode();
  readonly apiKey = `chaos-${randomBytes(18).toString('base64url')}`;
  readonly workerIds: string[];
  readonly prefix: string;
  url = '';
  redis!: RedisServer;
  /** The triggers' broker Redis, when `streamRedis` was asked for. */
  streamRedis: RedisServer | null = null;
  postgres!: PostgresServer;
  /** The stack's own database, for reading records (reconnects after an outage). */
  records!: pg.Pool;
  private readonly dir = mkdtempSync(join(tmpdir(), 'hearth-chaos-'));
  /** Running gateways by name, and the ports each one keeps across restarts. */
  private readonly gateways = new Map<string, StartedProcess>();
  private readonly gatewayPorts = new Map<string, { port: number; fnPort: number }>();
  private readonly workers = new Map<string, StartedProcess>();
  private closing = false;
  /** Processes that ended without being told to (a finding in itself). */
  readonly unexpectedExits: string[] = [];

  constructor(private readonly options: ChaosStackOptions) {
    this.prefix = `chaos-${options.runId}`;
    this.workerIds = Array.from({ length: options.workers ?? 2 }, (_, i) => `chaos-${options.runId}-${i + 1}`);
    rmSync(options.logsDir, { recursive: true, force: true });
    mkdirSync(options.logsDir, { recursive: true });
  }

  /** Brings everything up; on failure, takes down what had started. */
  async start(): Promise<void> {
    try {
      await this.startAll();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** True once `stop()` began: faults must not start anything again. */
  get stopping(): boolean {
    return this.closing;
  }

  get databaseUrl(): string {
    return `${this.postgres.serverUrl}/hearth`;
  }

  private async startAll(): Promise<void> {
    const { log, logsDir } = this.options;
    chmodSync(this.dir, 0o755); // Postgres runs as its own OS user and must reach its directory
    this.redis = await RedisServer.start(join(this.dir, 'redis'), join(logsDir, 'redis.log'));
    this.postgres = await PostgresServer.start(join(this.dir, 'postgres'), join(this.dir, 'postgres', 'postgres.log'));
    if (this.options.streamRedis) this.streamRedis = await RedisServer.start(join(this.dir, 'stream-redis'), join(logsDir, 'stream-redis.log'));
    log(`stack: redis on ${this.redis.port} (AOF), postgres on ${this.postgres.port}${this.streamRedis ? `, the triggers' broker redis on ${this.streamRedis.port}` : ''}, files in ${this.dir}`);
    await createAndMigrate(this.databaseUrl);
    this.records = new pg.Pool({ connectionString: this.databaseUrl, max: 4 });
    this.records.on('error', () => {});
    for (const name of this.gatewayNames) {
      const port = await freePort();
      // Function endpoints get a listener of their own; nothing here calls them, but the port must be free.
      let fnPort = await freePort(port + 1);
      while (fnPort === port || [...this.gatewayPorts.values()].some((p) => p.port === fnPort || p.fnPort === fnPort)) fnPort = await freePort();
      this.gatewayPorts.set(name, { port, fnPort });
      await this.startGateway(name);
    }
    this.url = this.gatewayUrl('gateway');
    await Promise.all(this.workerIds.map((id) => this.startWorker(id)));
    const others = this.gatewayNames.slice(1).map((n) => `${n} ${this.gatewayUrl(n)}`);
    log(`stack: gateway ${this.url}${others.length ? ` (and ${others.join(', ')})` : ''}, workers ${this.workerIds.join(', ')}`);
  }

  /** `gateway`, `gateway-2`, …: one per gateway the stack runs. */
  get gatewayNames(): string[] {
    return Array.from({ length: this.options.gateways ?? 1 }, (_, i) => (i === 0 ? 'gateway' : `gateway-${i + 1}`));
  }

  /** The API origin of gateway `name` (the same across its restarts). */
  gatewayUrl(name: string): string {
    const ports = this.gatewayPorts.get(name);
    if (!ports) throw new Error(`no gateway ${name}`);
    return `http://127.0.0.1:${ports.port}`;
  }

  /** The OS process id of each running gateway (a trigger's lease holder names its gateway's pid). */
  gatewayPids(): Map<string, number> {
    return new Map([...this.gateways].flatMap(([name, child]) => (child.process.pid ? [[name, child.process.pid] as [string, number]] : [])));
  }

  /** Starts gateway `name` on its ports (again, after a kill). */
  async startGateway(name: string): Promise<void> {
    const ports = this.gatewayPorts.get(name);
    if (!ports) throw new Error(`no gateway ${name}`);
    if (this.gateways.has(name)) throw new Error(`${name} is already running`);
    const env: Record<string, string> = { PORT: String(ports.port), HEARTH_FN_PORT: String(ports.fnPort), HOST: '127.0.0.1', ...GATEWAY_MALLOC_ENV };
    if (this.options.outboundAllowHosts) env.HEARTH_OUTBOUND_ALLOW_HOSTS = this.options.outboundAllowHosts;
    const gateway = await this.spawn(name, 'gateway/main.ts', env, 'gateway listening');
    this.gateways.set(name, gateway);
    void gateway.exited.then(() => {
      if (this.gateways.get(name) !== gateway) return;
      this.gateways.delete(name);
      this.unexpectedExits.push(`${new Date().toISOString()} ${name} exited (code ${gateway.process.exitCode}, signal ${gateway.process.signalCode})`);
      this.options.log(`stack: ${name} exited on its own; see ${name}.log`);
    });
  }

  /** SIGKILL gateway `name`: its trigger leases are left to expire, its broker connections die with it. */
  async killGateway(name: string): Promise<void> {
    const child = this.gateways.get(name);
    if (!child) throw new Error(`${name} is not running`);
    this.gateways.delete(name);
    child.process.kill('SIGKILL');
    await child.exited;
  }

  private env(): Record<string, string> {
    return {
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.redis.url,
      HEARTH_API_KEY: this.apiKey,
      HEARTH_QUEUE_PREFIX: this.prefix,
      HEARTH_STATE_DIR: join(this.dir, 'state'),
      HEARTH_PREWARM: '',
      HEARTH_METRICS_PORT: '0',
      HEARTH_MEMORY_BUDGET_MB: '8192',
    };
  }

  /** Starts a worker under `id` (again, after a kill: it then removes its orphan containers). */
  async startWorker(id: string): Promise<void> {
    if (this.workers.has(id)) throw new Error(`worker ${id} is already running`);
    const concurrency = String(this.options.concurrency ?? 16);
    const child = await this.spawn(id, 'worker/main.ts', { HEARTH_WORKER_ID: id, HEARTH_WORKER_CONCURRENCY: concurrency }, 'worker started');
    this.workers.set(id, child);
    void child.exited.then(() => {
      if (this.workers.get(id) !== child) return;
      this.workers.delete(id);
      this.unexpectedExits.push(`${new Date().toISOString()} worker ${id} exited (code ${child.process.exitCode}, signal ${child.process.signalCode})`);
      this.options.log(`stack: worker ${id} exited on its own; see ${id}.log`);
    });
  }

  /** SIGKILL: no drain, no clean-up; its jobs stay locked until the locks expire. */
  async killWorker(id: string): Promise<void> {
    const child = this.workers.get(id);
    if (!child) throw new Error(`worker ${id} is not running`);
    this.workers.delete(id);
    child.process.kill('SIGKILL');
    await child.exited;
  }

  /** Starts `node --import tsx <entry>`, output to its log; resolves once it logged `readyMessage`. */
  private async spawn(name: string, entry: string, env: Record<string, string>, readyMessage: string): Promise<StartedProcess> {
    if (this.closing) throw new Error(`not starting ${name}: the stack is stopping`);
    return startTsxProcess({
      name,
      entry,
      cwd: ROOT,
      env: { ...this.env(), ...env },
      logFile: join(this.options.logsDir, `${name}.log`),
      readyMessage,
      readyTimeoutMs: 90_000,
      tailChars: 8192,
      exitedError: (_code, log) => `${name} exited before it was ready; its log ends with:\n${log}`,
      timeoutError: (log) => `${name} not ready within 90 s:\n${log}`,
    });
  }

  headers(json = true): Record<string, string> {
    return { authorization: `Bearer ${this.apiKey}`, ...(json ? { 'content-type': 'application/json' } : {}) };
  }

  /** Deploys one Node source file as `index.js` through the public API. */
  async deploy(name: string, source: string, fields: Record<string, string> = {}): Promise<void> {
    const form = new FormData();
    form.append('code', new Blob([source], { type: 'application/javascript' }), 'index.js');
    for (const [k, v] of Object.entries({ runtime: 'nodejs20', handler: 'index.handler', ...fields })) form.append(k, v);
    const res = await fetch(`${this.url}/v1/functions/${name}`, { method: 'PUT', headers: this.headers(false), body: form });
    if (res.status !== 201) throw new Error(`deploy of ${name} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  }

  /** Ends every process and service, removes the run's containers and files. Safe to call twice. */
  async stop(): Promise<void> {
    this.closing = true;
    const children = [...this.workers.values(), ...this.gateways.values()];
    this.workers.clear();
    this.gateways.clear();
    // Draining matters less than getting everything down: a short grace, then SIGKILL.
    await Promise.all(children.map((child) => stopGracefully(child.process, child.exited, 10_000)));
    const removed = await this.removeContainers().catch(() => 0);
    if (removed > 0) this.options.log(`stack: removed ${removed} containers the workers left behind`);
    await this.records?.end().catch(() => {});
    await this.redis?.close().catch(() => {});
    await this.streamRedis?.close().catch(() => {});
    if (this.postgres) {
      await this.postgres.close();
      try {
        copyFileSync(join(this.dir, 'postgres', 'postgres.log'), join(this.options.logsDir, 'postgres.log'));
      } catch {
        // no log yet
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Removes every container labelled with one of this run's worker ids. */
  async removeContainers(): Promise<number> {
    const all = await this.docker.listContainers({ all: true, filters: { label: [SANDBOX_LABELS.managed] } });
    const ours = all.filter((c) => this.workerIds.includes(c.Labels[SANDBOX_LABELS.worker] ?? ''));
    await Promise.all(ours.map((c) => this.docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {})));
    return ours.length;
  }
}
