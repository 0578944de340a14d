/**
 * The soak's platform, run as production runs it: the gateway and one
 * worker as separate `node --import tsx` processes (as `infra/start.ts`
 * starts them; the gateway with its malloc settings), against a database
 * of their own (dropped and migrated afresh), a queue prefix of their own,
 * free ports for the API and the function origin, and a state directory.
 * Both processes preload `soak-heap-preload.mjs`, so their V8 heap can be
 * read beside their RSS. `stop()` ends both and removes every container
 * the soak worker (`io.hearth.worker=soak-*`) left.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { Redis } from 'ioredis';
import pg from 'pg';
import { GATEWAY_MALLOC_ENV } from '../../gateway/memory-env.ts';
import { createAndMigrate, dropDatabase } from '../../migrations/database.ts';
import { redisOptionsFromUrl } from '../../worker/common/redis/connection-options.ts';
import { freePort } from '../helpers/ports.ts';
import { startTsxProcess, stopGracefully, type StartedProcess } from '../helpers/processes.ts';
import { waitUntil } from '../helpers/wait.ts';
import { httpCall, REDIS_URL, removeContainersOf, ROOT, type Log } from './stack.ts';

const HEAP_PRELOAD = join(ROOT, 'test', 'bench', 'soak-heap-preload.mjs');

export interface SoakStackOptions {
  /** Database name (dropped and created afresh); the CLI and the CI cut use different ones. */
  database: string;
  logsDir: string;
  log: Log;
  /** Worker settings over the soak defaults. */
  workerEnv?: Record<string, string>;
}

const WORKER_DEFAULTS: Record<string, string> = {
  HEARTH_WORKER_CONCURRENCY: '64',
  HEARTH_KEEP_ALIVE_MS: '300000',
  HEARTH_PREWARM: '',
  HEARTH_MEMORY_BUDGET_MB: '16384',
  HEARTH_START_TIMEOUT_MS: '30000',
  HEARTH_METRICS_PORT: '0',
};

/** The soak's own containers and networks (worker ids `soak-…`); returns how many containers. */
export const removeSoakContainers = (docker: Dockerode): Promise<number> => removeContainersOf(docker, 'soak-');

export class SoakStack {
  readonly docker = new Dockerode();
  readonly apiKey = `soak-${randomBytes(18).toString('base64url')}`;
  readonly prefix = `hearth-soak-${randomBytes(3).toString('hex')}`;
  readonly workerId = `soak-${randomBytes(3).toString('hex')}`;
  readonly stateDir = join(tmpdir(), `hearth-soak-${randomBytes(4).toString('hex')}`);
  readonly heapDir = join(this.stateDir, 'heap');
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  readonly databaseUrl: string;
  records!: pg.Pool;
  url = '';
  fnUrl = '';
  private gateway: StartedProcess | null = null;
  private worker: StartedProcess | null = null;

  private constructor(private readonly options: SoakStackOptions) {
    this.databaseUrl = `postgres://postgres@127.0.0.1:5432/${options.database}`;
    mkdirSync(this.heapDir, { recursive: true });
    rmSync(options.logsDir, { recursive: true, force: true });
    mkdirSync(options.logsDir, { recursive: true });
  }

  static async start(options: SoakStackOptions): Promise<SoakStack> {
    const stack = new SoakStack(options);
    try {
      await removeSoakContainers(stack.docker);
      await dropDatabase(stack.databaseUrl);
      await createAndMigrate(stack.databaseUrl);
      stack.records = new pg.Pool({ connectionString: stack.databaseUrl, max: 4 });
      stack.records.on('error', () => {});
      const port = await freePort(18480);
      let fnPort = await freePort(port + 1);
      while (fnPort === port) fnPort = await freePort();
      stack.url = `http://127.0.0.1:${port}`;
      stack.fnUrl = `http://127.0.0.1:${fnPort}`;
      stack.gateway = await stack.spawn('gateway', 'gateway/main.ts', { PORT: String(port), HEARTH_FN_PORT: String(fnPort), HOST: '127.0.0.1', ...GATEWAY_MALLOC_ENV }, 'gateway listening');
      const healthy = () => httpCall(stack.agent, `${stack.url}/healthz`, { timeoutMs: 2000 }).then((a) => a.status === 200, () => false);
      if (!(await waitUntil(healthy, 30_000))) throw new Error(`the gateway did not answer /healthz on ${stack.url}`);
      const env = { ...WORKER_DEFAULTS, ...options.workerEnv, HEARTH_WORKER_ID: stack.workerId };
      stack.worker = await stack.spawn('worker', 'worker/main.ts', env, 'worker started');
      options.log(`stack: gateway ${stack.url} (fn ${stack.fnUrl}), worker ${stack.workerId}, database ${options.database}`);
      return stack;
    } catch (err) {
      await stack.stop();
      throw err;
    }
  }

  private spawn(name: string, entry: string, env: Record<string, string>, readyMessage: string): Promise<StartedProcess> {
    return startTsxProcess({
      name,
      entry,
      cwd: ROOT,
      env: {
        DATABASE_URL: this.databaseUrl,
        REDIS_URL,
        HEARTH_QUEUE_PREFIX: this.prefix,
        HEARTH_STATE_DIR: this.stateDir,
        HEARTH_API_KEY: this.apiKey,
        HEARTH_SOAK_HEAP_DIR: this.heapDir,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${HEAP_PRELOAD}`.trim(),
        ...env,
      },
      logFile: join(this.options.logsDir, `${name}.log`),
      readyMessage,
      readyTimeoutMs: 60_000,
      tailChars: 4096,
    });
  }

  headers(json = true): Record<string, string> {
    return { authorization: `Bearer ${this.apiKey}`, ...(json ? { 'content-type': 'application/json' } : {}) };
  }

  pids(): { gateway: number | undefined; worker: number | undefined } {
    return { gateway: this.gateway?.process.pid, worker: this.worker?.process.pid };
  }

  /** Ends both processes (SIGTERM, then SIGKILL), removes the containers and the queue's keys. Safe to call twice. */
  async stop(): Promise<void> {
    const children = [this.worker, this.gateway].filter((c): c is StartedProcess => c !== null);
    this.worker = null;
    this.gateway = null;
    for (const child of children) await stopGracefully(child.process, child.exited, child.name === 'gateway' ? 10_000 : 90_000).catch(() => {});
    await removeSoakContainers(this.docker).catch(() => 0);
    const redis = new Redis(redisOptionsFromUrl(REDIS_URL));
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    } catch {
      // Redis gone: nothing to clean.
    } finally {
      redis.disconnect();
    }
    this.agent.destroy();
    await this.records?.end().catch(() => {});
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}
