/**
 * A real platform for one test file: a gateway listening on two free ports
 * (the API origin `url` and the function origin `fnUrl`) and a worker, both in this process, against the run's database, real Redis (with
 * a queue prefix of their own) and the real Docker engine.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import Dockerode from 'dockerode';
import { inject } from 'vitest';
import type { Server } from 'node:http';
import { answerClientErrors } from '../../gateway/client-errors.ts';
import type { GatewayLimits } from '../../gateway/config.ts';
import { createGateway } from '../../gateway/create-gateway.ts';
import { servicesOf } from '../../gateway/destinations/outbound-guard.ts';
import { openDatabase, type DatabaseHandle } from '../../worker/common/database.ts';
import { createAndMigrate, dropDatabase } from '../../migrations/database.ts';
import { DockerContainerRuntime } from '../../worker/engine/docker-container-runtime.ts';
import { DEFAULT_NAMESPACE_QUOTAS } from '../../gateway/store/namespace-quotas.ts';
import { DEFAULT_PROVISIONED_MEMORY_MB } from '../../gateway/store/provisioned-memory.ts';
import { silentLogger, type Logger } from '../../worker/common/logger.ts';
import { DEFAULT_QUEUED_CALL_LIMITS } from '../../worker/contract/limits.ts';
import { redisOptionsFromUrl } from '../../worker/common/redis/connection-options.ts';
import { createPostgresCodeSource } from '../../worker/records/code-store.ts';
import type { PrewarmTarget } from '../../worker/pool/sandbox-pool.ts';
import type { RuntimeName } from '../../runtime-images/runtimes.ts';
import { BatchingRecorder } from '../../worker/records/batching-recorder.ts';
import { insertInvocations } from '../../worker/common/invocations-store.ts';
import { listProvisionedVersions } from '../../worker/records/provisioned-store.ts';
import { startWorkerService, type WorkerService } from '../../worker/run/worker-service.ts';
import { storedCode } from '../../worker/records/retention-store.ts';
import { openWorkerRedis } from '../../worker/worker-redis.ts';
import { openSecretsKey } from '../../worker/common/secret-keyring.ts';
import type { KeyringSource } from '../../worker/common/secret-keyring.ts';
import type { Sealer } from '../../worker/common/secret-sealing.ts';
import { createPostgresSecretSource } from '../../worker/records/secrets-store.ts';
import type { SealedSecretSource } from '../../worker/sandbox/sandbox-secrets.ts';

/**
 * The gateway's limits in tests: the defaults, but namespace function and
 * code quotas the suite itself would reach (every file deploys into the
 * run's one database, most into `default`); test/e2e/quotas.test.ts sets
 * its own per namespace.
 */
const SUITE_LIMITS: GatewayLimits = {
  defaultProvisionedMemoryMb: DEFAULT_PROVISIONED_MEMORY_MB,
  queued: DEFAULT_QUEUED_CALL_LIMITS,
  quotas: { ...DEFAULT_NAMESPACE_QUOTAS, maxFunctions: 100_000, maxCodeBytes: 1024 ** 4 },
};

export interface PlatformOptions {
  workerId?: string;
  keepAliveMs?: number;
  memoryBudgetMb?: number;
  /** Pre-warmed classes; none unless a test asks, so cold starts stay cold. */
  prewarm?: PrewarmTarget[];
  /** How long a sync call to a throttled function may wait to start. */
  throttleWaitMs?: number;
  /** A separate admin key (otherwise the platform key is the admin key too). */
  adminKey?: string;
  maxEventAgeMs?: number;
  /** Another Redis than the run's (tests that stop and restart it). */
  redisUrl?: string;
  /** Reach Redis through these Sentinels (`host:port,…`) and master name, as `HEARTH_REDIS_SENTINELS` does; `redisUrl` then gives only password and db. */
  redisSentinel?: { sentinels: string; name: string };
  concurrency?: number;
  /** The gateway's per-tenant quotas (defaults otherwise). */
  gatewayLimits?: GatewayLimits;
  /** Private hosts triggers, webhooks and callbacks may reach (the tests' own brokers and receivers at 127.0.0.1). */
  outboundAllowHosts?: string[];
  /** How long a source trigger's lease lasts unrenewed (default 10 s). */
  triggerLeaseMs?: number;
  /** The runtimes its workers serve (HEARTH_RUNTIMES); default every runtime whose image exists. */
  runtimes?: RuntimeName[];
  /** How often the workers look for changed secrets (default 5 s). */
  secretPollMs?: number;
  /**
   * A database (and secrets key ring) of its own, dropped at stop, instead of
   * the run's shared one: for a test that rotates the key or dumps the database.
   */
  ownDatabase?: boolean;
  /** How recently handed-out code the workers' code cache never removes (default 10 minutes). */
  codeCacheGraceMs?: number;
  /** Whether workers unpack a deploy's code before its first call (default true; off for a test that spoils stored code after deploying it). */
  prefetchCode?: boolean;
  /** Wraps the workers' secret source (to make its reads fail, say). */
  wrapSecretSource?: (source: SealedSecretSource) => SealedSecretSource;
  log?: Logger;
}

/** A fetch Response whose JSON body is loosely typed, as tests assert on its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ApiResponse = Omit<Response, 'json' | 'clone'> & { json(): Promise<any>; clone(): ApiResponse };

/** `fetch` with no key added, typed like `Platform.api`. */
export function fetchWithoutKey(url: string, init?: RequestInit): Promise<ApiResponse> {
  return fetch(url, init) as Promise<ApiResponse>;
}

export interface Platform {
  /** The API origin: dashboard, `/v1`, the Lambda API. */
  url: string;
  /** The function origin: `/fn/*`. */
  fnUrl: string;
  apiKey: string;
  prefix: string;
  workerId: string;
  databaseUrl: string;
  redisUrl: string;
  /** The workers' state directory (their code cache is `code/` in it). */
  stateDir: string;
  /** Starts one more worker in this process (its own id and containers), stopped with the platform. */
  startExtraWorker(workerId: string): Promise<WorkerService>;
  /** Moves calls off dead workers now instead of at the reaper's next round. */
  reapDeadWorkers(): Promise<void>;
  /** Stops this platform's gateway alone (its worker goes on); `stop` then skips it. */
  stopGateway(): Promise<void>;
  database: DatabaseHandle;
  docker: Dockerode;
  worker: WorkerService;
  /** The secrets key ring the gateway and workers share: a key file in the platform's state directory. */
  secretsKey: { source: KeyringSource; sealer: Sealer };
  /** Calls the API with the key set. */
  api(path: string, init?: RequestInit): Promise<ApiResponse>;
  /** Calls the function origin (`/fn/...`) with the key set, like `api`. */
  fn(path: string, init?: RequestInit): Promise<ApiResponse>;
  stop(): Promise<void>;
}

export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const sharedUrl = inject('databaseUrl');
  const databaseUrl = options.ownDatabase ? sharedUrl.replace(/\/[^/]*$/, `/hearth_test_own_${randomBytes(4).toString('hex')}`) : sharedUrl;
  if (options.ownDatabase) await createAndMigrate(databaseUrl);
  const redisUrl = options.redisUrl ?? inject('redisUrl');
  const suffix = randomBytes(4).toString('hex');
  const prefix = `hearth-test-${suffix}`;
  const workerId = options.workerId ?? `test-${suffix}`;
  const apiKey = `test-key-${randomBytes(16).toString('hex')}`;
  const log = options.log ?? silentLogger;
  const stateDir = await mkdtemp(join(tmpdir(), 'hearth-'));
  const database = openDatabase(databaseUrl);
  // The run's platforms share the database, so they share its key ring too; one with its own database keeps its own key.
  const secretsKey = openSecretsKey({ HEARTH_STATE_DIR: stateDir, ...(options.ownDatabase ? {} : { HEARTH_SECRETS_KEY_FILE: inject('secretsKeyFile') }) });

  /** A worker as `worker/main.ts` assembles one, with its own Redis clients; stopping it closes them. */
  const startWorker = async (id: string): Promise<WorkerService> => {
    const redis = openWorkerRedis(redisOptionsFromUrl(redisUrl, options.redisSentinel), prefix);
    const service = await startWorkerService({
      settings: {
        workerId: id,
        stateDir,
        concurrency: options.concurrency ?? 8,
        keepAliveMs: options.keepAliveMs ?? 5 * 60_000,
        startTimeoutMs: 10_000,
        memoryBudgetMb: options.memoryBudgetMb ?? 16 * 1024,
        prewarm: options.prewarm ?? [],
        provisionIntervalMs: 1000,
        maxEventAgeMs: options.maxEventAgeMs ?? 6 * 3600_000,
        metricsPort: 0,
        ...(options.runtimes ? { runtimes: options.runtimes } : {}),
        ...(options.codeCacheGraceMs !== undefined ? { codeCacheGraceMs: options.codeCacheGraceMs } : {}),
        ...(options.prefetchCode !== undefined ? { prefetchCode: options.prefetchCode } : {}),
      },
      runtime: new DockerContainerRuntime(),
      codeSource: createPostgresCodeSource(database.db),
      recorder: new BatchingRecorder((entries) => insertInvocations(database.db, entries, id)),
      provisioned: () => listProvisionedVersions(database.db),
      codeStored: (sha256s) => storedCode(database.pool, sha256s),
      secrets: {
        source: (options.wrapSecretSource ?? ((source) => source))(createPostgresSecretSource(database.db)),
        sealer: secretsKey.sealer, ...(options.secretPollMs ? { pollMs: options.secretPollMs } : {}) },
      ...redis.ports,
      log,
    }).catch(async (err: unknown) => {
      await redis.close();
      throw err;
    });
    return { ...service, stop: () => service.stop().then(() => redis.close()) };
  };
  const worker = await startWorker(workerId);
  const extraWorkers: WorkerService[] = [];
  let fnPort = 0;
  const gateway = await createGateway({
    db: database.db,
    redisUrl,
    ...(options.redisSentinel ? { redisSentinel: options.redisSentinel } : {}),
    queuePrefix: prefix,
    apiKey,
    ...(options.adminKey ? { adminKey: options.adminKey } : {}),
    syncGraceMs: 30_000,
    throttleWaitMs: options.throttleWaitMs ?? 2000,
    limits: { ...SUITE_LIMITS, ...options.gatewayLimits },
    functionOrigin: { port: () => fnPort },
    secretsSealer: secretsKey.sealer,
    // The run's Redis and Postgres are the platform's own: never a trigger's broker or a webhook's target.
    ownServices: servicesOf([redisUrl, databaseUrl]),
    ...(options.outboundAllowHosts ? { outboundAllowHosts: options.outboundAllowHosts } : {}),
    ...(options.triggerLeaseMs ? { triggerLeaseMs: options.triggerLeaseMs } : {}),
    log,
  });
  const listen = async (fetch: typeof gateway.app.fetch) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1', serverOptions: { maxHeaderSize: 16 * 1024 } }) as Server;
    answerClientErrors(server);
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    return server;
  };
  const servers = [await listen(gateway.app.fetch), await listen(gateway.functionApp.fetch)] as const;
  const [url, fnUrl] = servers.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`) as [string, string];
  fnPort = (servers[1].address() as AddressInfo).port;
  const withKey = (base: string) => (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${apiKey}`);
    return fetch(`${base}${path}`, { ...init, headers }) as Promise<ApiResponse>;
  };

  let gatewayStopped: Promise<void> | null = null;
  const stopGateway = () =>
    (gatewayStopped ??= (async () => {
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
      await gateway.close();
    })());

  return {
    url,
    fnUrl,
    apiKey,
    prefix,
    workerId,
    databaseUrl,
    redisUrl,
    stateDir,
    async startExtraWorker(id) {
      const extra = await startWorker(id);
      extraWorkers.push(extra);
      return extra;
    },
    reapDeadWorkers: () => gateway.reapDeadWorkers(),
    stopGateway,
    database,
    docker: new Dockerode(),
    worker,
    secretsKey,
    api: withKey(url),
    fn: withKey(fnUrl),
    async stop() {
      await stopGateway();
      await Promise.all([worker, ...extraWorkers].map((w) => w.stop()));
      await database.close();
      if (options.ownDatabase) await dropDatabase(databaseUrl);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * `GET /v1/invocations/{id}` once the invocation is recorded. A sync answer
 * can arrive a moment before its record is written (the worker replies
 * first), so a caller reading the record right after polls briefly.
 */
export async function recordOf(platform: Platform, id: string | null, timeoutMs = 5000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await platform.api(`/v1/invocations/${id}`);
    const body = await res.json();
    if (res.status === 200 && !['queued', 'running'].includes(body.status)) return body;
    if (Date.now() > until) throw new Error(`invocation ${id} was not recorded within ${timeoutMs} ms: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
