/**
 * An isolated platform for the chaos run, all its own: a Redis with an
 * append-only file, a throwaway Postgres cluster, the gateway and two workers
 * as real processes (`node --import tsx …`, as `infra/start.ts` starts them).
 * Faults act on it: SIGKILL a worker and start it again under the same id,
 * restart Redis, stop and start Postgres. `stop()` ends everything and
 * removes every container the run's workers left — also after a failure.
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
  log: Log;
}

export class ChaosStack {
  readonly docker = new Dockerode();
  readonly apiKey = `chaos-${randomBytes(18).toString('base64url')}`;
  readonly workerIds: string[];
  readonly prefix: string;
  url = '';
  redis!: RedisServer;
  postgres!: PostgresServer;
  /** The stack's own database, for reading records (reconnects after an outage). */
  records!: pg.Pool;
  private readonly dir = mkdtempSync(join(tmpdir(), 'hearth-chaos-'));
  private gateway: StartedProcess | null = null;
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
    log(`stack: redis on ${this.redis.port} (AOF), postgres on ${this.postgres.port}, files in ${this.dir}`);
    await createAndMigrate(this.databaseUrl);
    this.records = new pg.Pool({ connectionString: this.databaseUrl, max: 4 });
    this.records.on('error', () => {});
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    // Function endpoints get a listener of their own; nothing here calls them, but the port must be free.
    let fnPort = await freePort(port + 1);
    while (fnPort === port) fnPort = await freePort();
    const gateway = await this.spawn(
      'gateway',
      'gateway/main.ts',
      { PORT: String(port), HEARTH_FN_PORT: String(fnPort), HOST: '127.0.0.1', ...GATEWAY_MALLOC_ENV },
      'gateway listening',
    );
    this.gateway = gateway;
    void gateway.exited.then(() => {
      if (this.gateway !== gateway) return;
      this.unexpectedExits.push(`${new Date().toISOString()} gateway exited (code ${gateway.process.exitCode}, signal ${gateway.process.signalCode})`);
      this.options.log('stack: the gateway exited on its own; see gateway.log');
    });
    await Promise.all(this.workerIds.map((id) => this.startWorker(id)));
    log(`stack: gateway ${this.url}, workers ${this.workerIds.join(', ')}`);
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
    const children = [...this.workers.values(), ...(this.gateway ? [this.gateway] : [])];
    this.workers.clear();
    this.gateway = null;
    // Draining matters less than getting everything down: a short grace, then SIGKILL.
    await Promise.all(children.map((child) => stopGracefully(child.process, child.exited, 10_000)));
    const removed = await this.removeContainers().catch(() => 0);
    if (removed > 0) this.options.log(`stack: removed ${removed} containers the workers left behind`);
    await this.records?.end().catch(() => {});
    await this.redis?.close().catch(() => {});
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
