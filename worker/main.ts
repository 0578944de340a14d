/** The worker process: reads configuration, creates real clients (Redis's through `worker-redis.ts`), runs until signalled. */
import { join } from 'node:path';
import { openDatabase } from './common/database.ts';
import { loadWorkerConfig } from './config.ts';
import { DockerContainerRuntime } from './engine/docker-container-runtime.ts';
import { setRedisLogger } from './common/redis/redis-client.ts';
import { createLogger } from './common/logger.ts';
import { redisOptionsFromUrl } from './common/redis/connection-options.ts';
import { createPostgresCodeSource } from './records/code-store.ts';
import { insertInvocations } from './common/invocations-store.ts';
import { BatchingRecorder } from './records/batching-recorder.ts';
import { listProvisionedVersions } from './records/provisioned-store.ts';
import { checkRedisMemoryPolicy } from './common/redis/memory-policy.ts';
import { startWorkerService } from './run/worker-service.ts';
import { openWorkerRedis } from './worker-redis.ts';
import Dockerode from 'dockerode';
import { ensureEgressNetwork } from './engine/egress-network.ts';
import { openSecretsKey } from './common/secret-keyring.ts';
import { createPostgresSecretSource } from './records/secrets-store.ts';
import { storedCode } from './records/retention-store.ts';
import { startHousekeeping } from './run/housekeeping.ts';
import { DEFAULT_RECORD_RETENTION_DAYS, DEFAULT_ROLLUP_RETENTION_MS } from './common/retention-settings.ts';

const log = createLogger('worker');
setRedisLogger(log);
const config = loadWorkerConfig(process.env);
const database = openDatabase(config.DATABASE_URL, { max: 20, log });
const redisOptions = redisOptionsFromUrl(config.REDIS_URL, {
  ...(config.HEARTH_REDIS_SENTINELS ? { sentinels: config.HEARTH_REDIS_SENTINELS } : {}),
  ...(config.HEARTH_REDIS_SENTINEL_NAME ? { name: config.HEARTH_REDIS_SENTINEL_NAME } : {}),
});
const redis = openWorkerRedis(redisOptions, config.HEARTH_QUEUE_PREFIX);
const secretsKey = openSecretsKey(config);
if (secretsKey.source.generated) log.warn('generated a secrets key: give every gateway and worker of this platform the same one', { file: secretsKey.source.file });

// Redis holds every queued event: say so at once if it has no ceiling or may evict them.
for (const warning of await checkRedisMemoryPolicy(redis.commands)) log.warn(warning);

// Partitions for the days ahead before the first record; then old records and rollups go as retention says.
const housekeeping = await startHousekeeping({
  pool: database.pool,
  settings: {
    recordRetentionDays: config.HEARTH_RECORD_RETENTION ?? DEFAULT_RECORD_RETENTION_DAYS,
    rollupRetentionMs: config.HEARTH_ROLLUP_RETENTION ?? DEFAULT_ROLLUP_RETENTION_MS,
  },
  intervalMs: config.HEARTH_HOUSEKEEPING_MS,
  vacuumMs: config.HEARTH_ROLLUP_VACUUM_MS,
  log,
});

const docker = new Dockerode(config.DOCKER_HOST ? { socketPath: config.DOCKER_HOST.slice('unix://'.length) } : {});
await ensureEgressNetwork(docker, (line) => log.info(line));
const service = await startWorkerService({
  settings: {
    workerId: config.HEARTH_WORKER_ID,
    stateDir: join(config.HEARTH_STATE_DIR, 'worker'),
    concurrency: config.HEARTH_WORKER_CONCURRENCY,
    keepAliveMs: config.HEARTH_KEEP_ALIVE_MS,
    startTimeoutMs: config.HEARTH_START_TIMEOUT_MS,
    memoryBudgetMb: config.HEARTH_MEMORY_BUDGET_MB,
    prewarm: config.HEARTH_PREWARM,
    provisionIntervalMs: config.HEARTH_PROVISION_INTERVAL_MS,
    maxEventAgeMs: config.HEARTH_MAX_EVENT_AGE_MS,
    pauseGraceMs: config.HEARTH_PAUSE_GRACE_MS,
    provisionedShare: config.HEARTH_PROVISIONED_SHARE,
    codeCacheBytes: config.HEARTH_WORKER_CODE_CACHE_MB * 1024 * 1024,
    codeSweepMs: config.HEARTH_HOUSEKEEPING_MS,
    ...(config.HEARTH_RUNTIMES ? { runtimes: config.HEARTH_RUNTIMES } : {}),
    ...(config.HEARTH_METRICS_PORT > 0 ? { metricsPort: config.HEARTH_METRICS_PORT, metricsHost: config.HEARTH_METRICS_HOST } : {}),
  },
  runtime: new DockerContainerRuntime({
    docker,
    cpuFloor: config.HEARTH_CPU_FLOOR,
    ...(config.HEARTH_INIT_CPUS !== undefined ? { initCpus: config.HEARTH_INIT_CPUS } : {}),
  }),
  codeSource: createPostgresCodeSource(database.db),
  recorder: new BatchingRecorder((entries) => insertInvocations(database.db, entries, config.HEARTH_WORKER_ID), {
    onRetry: (err, attempt) => {
      if (attempt === 1 || attempt % 10 === 0) log.warn('holding invocation records until Postgres answers', { attempt, err });
    },
    onRefused: (err, entry) => log.warn('Postgres refused a record; storing it stripped', { invocationId: entry.job.invocationId, err }),
  }),
  provisioned: () => listProvisionedVersions(database.db),
  codeStored: (sha256s) => storedCode(database.pool, sha256s),
  secrets: { source: createPostgresSecretSource(database.db), sealer: secretsKey.sealer },
  ...redis.ports,
  log,
});

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info('draining', { signal });
    service
      .stop()
      .then(() => housekeeping.stop())
      .then(() => redis.close())
      .then(() => database.close())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      });
  });
}
