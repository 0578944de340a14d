/**
 * The scaling scenario's platform on netns "hosts" (test/helpers/netns-hosts.ts),
 * started the way test/e2e/multi-host.test.ts starts the multi-host guide: a
 * gateway host and worker hosts, each a network namespace on the lab's /24,
 * each worker host with a Docker engine of its own, all run by the guide's
 * own start-gateway.sh / start-worker.sh. They reach Redis (a private
 * redis-server with the guide's redis.conf) and Postgres (a forwarder in
 * the bench process to this machine's) only at the data host's address, over
 * the veths. They still share this machine's cores. `stop()` takes down
 * every host, engine and container, the Redis, the forwarder and the
 * database, also after a failure; the hosts' logs are kept.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { chooseWorker, RouteBook } from '../../gateway/invoke/router.ts';
import { DIRECTORY_REFRESH_MS } from '../../gateway/invoke/worker-directory.ts';
import { dropDatabase } from '../../migrations/database.ts';
import type { WorkerReport } from '../../worker/contract/worker-report.ts';
import { startForwarder, startLabRedis, type Forwarder, type LabRedis } from '../helpers/data-host.ts';
import { hostEnvFile, NetnsLab, ROOT, type HostProcess, type LabHost } from '../helpers/netns-hosts.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import type { Log } from './stack.ts';

/** Worker settings on every worker host (the bench's defaults where they apply). */
const WORKER_ENV = {
  HEARTH_WORKER_CONCURRENCY: '64',
  HEARTH_KEEP_ALIVE_MS: '300000',
  HEARTH_MEMORY_BUDGET_MB: '16384',
  HEARTH_PREWARM: '',
  HEARTH_RUNTIMES: 'nodejs20',
};

export interface WorkerHost {
  id: string;
  host: LabHost;
  proc: HostProcess;
}

export class ScalingLab {
  readonly workers: WorkerHost[] = [];
  gateway: HostProcess | null = null;
  url = '';
  private redis: LabRedis | null = null;
  private forwarder: Forwarder | null = null;
  private common: Record<string, string> = {};
  private readonly apiKey = `scale-${randomBytes(12).toString('hex')}`;
  private readonly adminKey = `scale-admin-${randomBytes(12).toString('hex')}`;
  private readonly database: string;
  readonly records: pg.Pool;

  private constructor(
    readonly lab: NetnsLab,
    private readonly log: Log,
    private readonly logsDir: string,
  ) {
    this.database = `hearth_bench_scale_${lab.runId}`;
    this.records = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:5432/${this.database}`, max: 4 });
    this.records.on('error', () => {});
  }

  /** The data host, then the gateway host (start-gateway.sh creates and migrates the database). */
  static async start(log: Log, logsDir: string): Promise<ScalingLab> {
    const swept = await NetnsLab.sweep(tmpdir());
    if (swept.length > 0) log(`scaling: swept labs left by killed runs: ${swept.join(', ')}`);
    const runId = randomBytes(2).toString('hex');
    const self = new ScalingLab(NetnsLab.create(runId, join(tmpdir(), `hlab-${runId}`)), log, logsDir);
    try {
      const data = self.lab.dataAddress;
      self.redis = await startLabRedis({ configFile: join(ROOT, 'infra/multi-host/redis.conf'), host: data, port: 6379, password: randomBytes(12).toString('hex'), dir: join(self.lab.dir, 'redis') });
      self.forwarder = await startForwarder({ host: data, port: 5432 }, { host: '127.0.0.1', port: 5432 });
      self.common = {
        DATABASE_URL: `postgres://postgres@${data}:5432/${self.database}`,
        REDIS_URL: self.redis.url,
        HEARTH_QUEUE_PREFIX: `scale-${runId}`,
        HEARTH_API_KEY: self.apiKey,
        HEARTH_ADMIN_KEY: self.adminKey,
        HEARTH_SECRETS_KEY: `hsk_${randomBytes(32).toString('base64url')}`,
        ...WORKER_ENV,
      };
      const g = self.lab.addHost('g');
      self.gateway = await g.startScript('gateway', 'infra/multi-host/start-gateway.sh', { HEARTH_ENV_FILE: hostEnvFile(g, self.common), HEARTH_SKIP_NPM_INSTALL: '1' }, 'gateway listening', 90_000);
      self.url = `http://${g.address}:8080`;
      log(`scaling: lab ${runId} up, gateway host at ${g.address}, data host at ${data}`);
      return self;
    } catch (err) {
      await self.stop();
      throw err;
    }
  }

  headers(json = true, admin = false): Record<string, string> {
    return { authorization: `Bearer ${admin ? this.adminKey : this.apiKey}`, ...(json ? { 'content-type': 'application/json' } : {}) };
  }

  /** A new worker host: its own namespace and engine, the worker by start-worker.sh; resolves once routing sees it. */
  async addWorkerHost(letter: string): Promise<WorkerHost> {
    const host = this.lab.addHost(letter);
    const id = `scale-${this.lab.runId}-${letter}`;
    const started = Date.now();
    await host.startDockerd();
    // DOCKER_HOST: this host's own engine (a real host has the default socket).
    const file = hostEnvFile(host, { ...this.common, HEARTH_WORKER_ID: id, HEARTH_STATE_DIR: join(host.dir, 'state'), DOCKER_HOST: `unix://${host.socketPath}` });
    const proc = await host.startScript('worker', 'infra/multi-host/start-worker.sh', { HEARTH_ENV_FILE: file, HEARTH_SKIP_NPM_INSTALL: '1' }, 'worker started', 180_000);
    const worker = { id, host, proc };
    this.workers.push(worker);
    await waitFor(`gateway sees ${id}`, async () => (await this.liveWorkers()).includes(id), 15_000, 200);
    // Routing reads a view refreshed every DIRECTORY_REFRESH_MS: past two of them, it has this worker too.
    await sleep(2 * DIRECTORY_REFRESH_MS);
    this.log(`scaling: worker host ${letter} (${host.address}) up in ${((Date.now() - started) / 1000).toFixed(1)} s: engine, images, worker`);
    return worker;
  }

  private async liveWorkers(): Promise<string[]> {
    const res = await fetch(`${this.url}/v1/workers`, { headers: this.headers(false, true) });
    return ((await res.json()) as { workers: { workerId: string }[] }).workers.map((w) => w.workerId);
  }

  /** Deploys a Node function; returns its routing key (`<id>@<version>`). */
  async deploy(name: string, source: string): Promise<string> {
    const form = new FormData();
    form.append('code', new Blob([source], { type: 'application/javascript' }), 'index.js');
    form.append('runtime', 'nodejs20');
    form.append('handler', 'index.handler');
    const res = await fetch(`${this.url}/v1/functions/${name}`, { method: 'PUT', headers: this.headers(false), body: form });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`deploy of ${name} answered ${res.status}: ${text.slice(0, 300)}`);
    const { rows } = await this.records.query<{ id: string }>('select id from functions where name = $1', [name]);
    return `${rows[0]!.id}@${(JSON.parse(text) as { version: number }).version}`;
  }

  /**
   * Deploys functions `<prefix><i>` until `perWorker` of them have each
   * current worker as their home (the router's own answer for a first call),
   * so each worker host gets the same share; returns their names.
   */
  async deployBalanced(prefix: string, perWorker: number, source: (i: number) => string): Promise<string[]> {
    const ids = this.workers.map((w) => w.id);
    const reports = ids.map((workerId) => ({ workerId, runtimes: ['nodejs20'], warm: [], concurrency: 64, inFlight: 0, seenAt: new Date().toISOString() }) as unknown as WorkerReport);
    const chosen = new Map<string, string[]>(ids.map((id) => [id, []]));
    for (let i = 0; i < 20 * perWorker * ids.length && [...chosen.values()].some((n) => n.length < perWorker); i++) {
      const name = `${prefix}${i}`;
      const home = chooseWorker(reports, await this.deploy(name, source(i)), 'nodejs20', new RouteBook())!;
      if (chosen.get(home)!.length < perWorker) chosen.get(home)!.push(name);
    }
    return [...chosen.values()].flat();
  }

  /** Process ids by name, for CPU accounting: the gateway and each worker. */
  pids(): Record<string, number | undefined> {
    return { gateway: this.gateway?.child.pid, ...Object.fromEntries(this.workers.map((w) => [`worker ${w.id.split('-').pop()}`, w.proc.child.pid])) };
  }

  /** Everything down; logs copied to `logsDir/scaling/<host>`. Returns what could not be removed. */
  async stop(): Promise<string[]> {
    const problems: string[] = [];
    try {
      for (const host of this.lab.hosts) {
        const to = join(this.logsDir, 'scaling', host.name.split('-').pop()!);
        mkdirSync(to, { recursive: true });
        cpSync(join(host.dir, 'logs'), to, { recursive: true, force: true });
      }
    } catch (err) {
      problems.push(`copying logs: ${(err as Error).message}`);
    }
    problems.push(...(await this.lab.destroy()));
    this.gateway = null;
    this.workers.splice(0);
    await this.records.end().catch(() => {});
    await this.forwarder?.close().catch(() => {});
    await this.redis?.stop().catch(() => {});
    await dropDatabase(`postgres://postgres@127.0.0.1:5432/${this.database}`).catch((err: unknown) => problems.push(`drop database: ${String(err)}`));
    return problems;
  }
}
