/**
 * A worker: consumes the invocation queue and runs each call in a sandbox
 * from its pool (warm, pre-warmed or cold), within per-function concurrency
 * limits and the worker's memory budget (`job-policy.ts`). Takes its ports
 * as arguments, Redis's included (`WorkerRedisPorts`); `main.ts` is what
 * wires real clients in, through `worker-redis.ts`.
 */
import { mkdir, rm } from 'node:fs/promises';
import type { RuntimeName } from '../../runtime-images/runtimes.ts';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { CodeSource } from '../sandbox/code-cache.ts';
import { BoundedCodeCache, DEFAULT_CODE_CACHE_BYTES } from '../sandbox/bounded-code-cache.ts';
import { CodeLinker } from '../sandbox/code-linker.ts';
import type { ConcurrencyGate } from './concurrency-gate.ts';
import { SANDBOX_LABELS, type ContainerRuntime } from '../engine/container-runtime.ts';
import type { ControlListener } from '../common/redis/control-channel.ts';
import { createCodePrefetcher } from '../sandbox/code-prefetch.ts';
import type { DeletedFunctions } from '../common/redis/deleted-functions.ts';
import type { JobConsumers, JobQueues } from '../common/redis/job-queues.ts';
import type { QueuedCallQuota } from '../common/redis/queued-call-quota.ts';
import type { ReplyPublisher } from '../common/redis/invocation-replies.ts';
import type { WorkerReports } from '../common/redis/worker-registry.ts';
import { unstartedOutcome, type InvocationOutcome } from '../contract/invocation-outcome.ts';
import { createDestinationHandOff } from './destination-hand-off.ts';
import { startInvocationConsumer } from './invocation-consumer.ts';
import { createJobPolicy } from './job-policy.ts';
import { RetryLater } from './retry-later.ts';
import type { InvocationJob, JobReceipt } from '../contract/invocation-job.ts';
import { Invoker, type InvocationRecorder } from './invoker.ts';
import type { Logger } from '../common/logger.ts';
import { MemoryBudget } from '../pool/memory-budget.ts';
import { SandboxFactory } from '../sandbox/sandbox.ts';
import { SandboxPool, type PrewarmTarget, type ProvisionedVersion } from '../pool/sandbox-pool.ts';
import type { PoolStats } from '../contract/worker-report.ts';
import { createWorkerPrometheus } from '../records/worker-prometheus.ts';
import { openRuntimeInventory } from './runtime-inventory.ts';
import { createSandboxSecrets, type SealedSecretSource } from '../sandbox/sandbox-secrets.ts';
import type { Sealer } from '../common/secret-sealing.ts';
import { useEnvSealer } from '../common/stored-env.ts';
import { startSecretWatch } from './secret-watch.ts';

export interface WorkerSettings {
  workerId: string;
  /** Host directory for the code cache and sandbox sockets. */
  stateDir: string;
  concurrency: number;
  keepAliveMs: number;
  startTimeoutMs: number;
  /** Sum of container memory limits this worker may hold. */
  memoryBudgetMb: number;
  prewarm: PrewarmTarget[];
  /** How often to re-read which versions want `minWarm` containers. */
  provisionIntervalMs: number;
  /** An async call queued longer than this is not run but recorded as `expired`. */
  maxEventAgeMs: number;
  /** Where to serve Prometheus metrics (`/metrics`); undefined: not served (0: any free port). */
  metricsPort?: number;
  metricsHost?: string;
  /** Idle time before a sandbox is frozen (docker pause); negative: never. Default 50 ms. */
  pauseGraceMs?: number;
  /** Fraction (0–1] of the memory budget one namespace's provisioned (`minWarm`) containers may hold. Default 0.5. */
  provisionedShare?: number;
  /** Unpacked code kept on disk, least recently used evicted first. Default 2 GiB. */
  codeCacheBytes?: number;
  /** The runtimes it serves (`HEARTH_RUNTIMES`); default every runtime whose image the engine has. */
  runtimes?: readonly RuntimeName[];
  /** How often cached code no version refers to any more is removed (with `codeStored`); default an hour. */
  codeSweepMs?: number;
  /** A cache entry handed out this recently is never removed (default 10 minutes). */
  codeCacheGraceMs?: number;
  /** Whether a deploy's broadcast makes this worker unpack the new code before any call (default true). */
  prefetchCode?: boolean;
}

/** The worker's ports onto shared Redis state, opened once per worker (`worker/worker-redis.ts`). */
export interface WorkerRedisPorts {
  /** Where calls come from: the worker's own queue and the shared one. */
  queue: JobConsumers;
  /** Concurrency slots and parked calls, shared by every worker. */
  gate: ConcurrencyGate;
  /** Tells a sync caller its call started, and how it went. */
  replies: ReplyPublisher;
  /** Broadcasts from gateways (deletions, deploys). */
  control: ControlListener;
  /** Where the worker says every few seconds that it is alive, and what it holds. */
  reports: WorkerReports;
  /** Tombstones of deleted functions, checked before every call. */
  deleted: DeletedFunctions;
  /** The queued-call quotas: an async call stops counting once it has left the queue. */
  queuedCalls: Pick<QueuedCallQuota, 'release'>;
  /** Where final outcomes of async calls go to their destinations (`destination-hand-off.ts`); absent: nowhere. */
  deliveries?: Pick<JobQueues, 'add'>;
}

export interface WorkerServiceOptions extends WorkerRedisPorts {
  settings: WorkerSettings;
  runtime: ContainerRuntime;
  codeSource: CodeSource;
  recorder: InvocationRecorder;
  /** Versions whose `minWarm` containers this worker keeps. */
  provisioned: () => Promise<ProvisionedVersion[]>;
  /** Of some content addresses, those still stored: the code cache drops the others (deleted functions' code). */
  codeStored?: (sha256s: string[]) => Promise<Set<string>>;
  /** Secrets: where their sealed values are, the key ring that opens them (and stored environments), how often to look for changes (default 5 s). */
  secrets?: { source: SealedSecretSource; sealer: Sealer; pollMs?: number };
  log: Logger;
}

export interface WorkerService {
  /** Sandboxes by state, and memory held. */
  stats(): PoolStats;
  /** The port `/metrics` is served on, if it is. */
  metricsPort: number | undefined;
  /** Re-reads provisioned versions now and starts what is missing. */
  reconcileProvisioned(): Promise<void>;
  /** Removes cached code no version refers to now (the timer does it every `codeSweepMs`); answers how many went. */
  sweepCode(): Promise<number>;
  /** Stops taking work, lets running calls finish, removes every container. */
  stop(): Promise<void>;
}

const receipt = (outcome: InvocationOutcome): JobReceipt => ({ status: outcome.status });

export async function startWorkerService(options: WorkerServiceOptions): Promise<WorkerService> {
  const { settings, runtime, log, gate } = options;
  await runtime.ping();
  const sandboxesDir = join(settings.stateDir, 'sandboxes', settings.workerId);
  await removeLeftovers(runtime, settings.workerId, sandboxesDir, log);
  // Which runtimes are served, before anything starts: pre-warming and reports go by it.
  const inventory = await openRuntimeInventory({ runtime, log, ...(settings.runtimes ? { wanted: settings.runtimes } : {}) });
  const served = new Set<string>(inventory.runtimes());

  await mkdir(sandboxesDir, { recursive: true, mode: 0o755 });
  if (options.secrets) useEnvSealer(options.secrets.sealer);
  const sandboxSecrets = options.secrets ? createSandboxSecrets({ source: options.secrets.source, sealer: options.secrets.sealer, log }) : undefined;
  const codeCache = new BoundedCodeCache({
    dir: join(settings.stateDir, 'code'),
    source: options.codeSource,
    maxBytes: settings.codeCacheBytes ?? DEFAULT_CODE_CACHE_BYTES,
    ...(settings.codeCacheGraceMs !== undefined ? { graceMs: settings.codeCacheGraceMs } : {}),
  });
  const pool = new SandboxPool({
    factory: new SandboxFactory({
      runtime,
      sandboxesDir,
      workerId: settings.workerId,
      startTimeoutMs: settings.startTimeoutMs,
      ...(sandboxSecrets ? { secrets: sandboxSecrets } : {}),
    }),
    codeCache,
    linker: new CodeLinker(),
    budget: new MemoryBudget(settings.memoryBudgetMb),
    defaultKeepAliveMs: settings.keepAliveMs,
    prewarm: settings.prewarm.filter((target) => served.has(target.runtime)),
    log,
    runtime,
    ...(settings.pauseGraceMs !== undefined ? { pauseGraceMs: settings.pauseGraceMs } : {}),
    ...(settings.provisionedShare !== undefined ? { provisionedShare: settings.provisionedShare } : {}),
  });
  const { replies, deleted } = options;
  const prometheus = createWorkerPrometheus(settings.workerId, () => pool.stats());
  /** Tells a waiting caller the outcome and counts it (callers record first). */
  const announce = (job: InvocationJob, outcome: InvocationOutcome) => {
    if (job.replyTo) replies.send(job.replyTo, { type: 'outcome', id: job.invocationId, outcome });
    prometheus.observe(job, outcome);
  };
  // Every record written here is a call's final one: then its outcome goes on to its destinations.
  const handOff = options.deliveries ? createDestinationHandOff({ queues: options.deliveries, log }) : null;
  const recorder: InvocationRecorder = handOff
    ? { record: (job, outcome) => options.recorder.record(job, outcome).then(() => handOff(job, outcome)) }
    : options.recorder;
  /** A call that never ran: recorded first, then its caller told (read-your-writes, as the invoker does). */
  const settleUnstarted = async (job: InvocationJob, outcome: InvocationOutcome) => {
    await recorder.record(job, outcome);
    announce(job, outcome);
    return outcome;
  };
  const invoker = new Invoker({ pool, recorder, reply: announce });
  const metricsPort =
    settings.metricsPort === undefined ? undefined : await prometheus.listen(settings.metricsHost ?? '127.0.0.1', settings.metricsPort);

  let reconciling: Promise<void> | null = null;
  const reconcileProvisioned = () => {
    reconciling ??= options
      .provisioned()
      .then((versions) => pool.setProvisioned(versions))
      .catch((err: unknown) => log.warn('could not reconcile provisioned containers', { err }))
      .finally(() => {
        reconciling = null;
      });
    return reconciling;
  };
  // A secret changed: idle sandboxes holding its old value go now, and provisioned ones are started again.
  const recycleStale = () => {
    pool.discardStaleIdle();
    void reconcileProvisioned();
  };

  // A deploy names its code: unpacked now, the first call finds it ready (a runtime not served here is left alone).
  const prefetcher = createCodePrefetcher(codeCache, log);
  const control = await options.control.listen((message) => {
    if (message.type === 'function-changed' && message.code && settings.prefetchCode !== false && served.has(message.code.runtime)) prefetcher.add(message.code.sha256);
    if (message.type === 'function-deleted' && message.functionId) {
      deleted.noteDeleted(message.functionId);
      pool.retire(message.functionId);
      // Its parked calls would wait out their back-off; woken now, each ends as FunctionDeleted at once.
      const scope = `function:${message.functionId}`;
      gate
        .takeAllParked(scope)
        .then((parked) => Promise.all(parked.map((wakeName) => consumer.wake(wakeName))))
        .catch((err: unknown) => log.warn("could not wake a deleted function's parked calls", { functionId: message.functionId, err }));
    }
    if (message.type === 'function-changed' || message.type === 'function-deleted') void reconcileProvisioned();
    // Sandboxes started with another value finish their call and are not reused (`Sandbox.alive`).
    if (message.type === 'secret-changed') {
      sandboxSecrets?.versions.note(message.namespace, message.name, message.version);
      recycleStale();
    }
  });
  const secretWatch =
    options.secrets && sandboxSecrets
      ? startSecretWatch({
          source: options.secrets.source,
          versions: sandboxSecrets.versions,
          log,
          onChange: () => recycleStale(),
          ...(options.secrets.pollMs ? { intervalMs: options.secrets.pollMs } : {}),
        })
      : null;

  pool.replenish();
  await reconcileProvisioned();
  const provisionTimer = setInterval(() => void reconcileProvisioned(), settings.provisionIntervalMs);
  provisionTimer.unref();
  const { codeStored } = options;
  const sweepCode = async () => (codeStored ? codeCache.sweep(codeStored) : 0);
  const codeSweepTimer = setInterval(() => {
    sweepCode().catch((err: unknown) => log.warn('could not sweep the code cache', { err }));
  }, settings.codeSweepMs ?? 3_600_000);
  codeSweepTimer.unref();

  const policy = createJobPolicy({
    deleted,
    gate,
    wake: (wakeName) => consumer.wake(wakeName),
    run: (job) => invoker.run(job),
    settleUnstarted,
    started: (job) => {
      if (job.replyTo) replies.send(job.replyTo, { type: 'started', id: job.invocationId });
    },
    maxEventAgeMs: settings.maxEventAgeMs,
    startTimeoutMs: settings.startTimeoutMs,
  });
  let inFlight = 0;
  const consumer = startInvocationConsumer({
    jobs: options.queue,
    workerId: settings.workerId,
    concurrency: settings.concurrency,
    process: async (job) => {
      inFlight++;
      try {
        return receipt(await policy(job));
      } catch (err) {
        if (!(err instanceof RetryLater)) log.error('invocation failed on the platform side', { invocationId: job.invocationId, err });
        throw err;
      } finally {
        inFlight--;
      }
    },
    onFinalFailure: (job, reason) => {
      const dead = unstartedOutcome(job, 'dead-letter', 'PlatformError', `the platform failed this call on every attempt: ${reason}`);
      settleUnstarted(job, dead).catch((err: unknown) => {
        log.error('could not record a dead letter', { invocationId: job.invocationId, err });
        announce(job, dead);
      });
    },
    // Async calls were counted against their queued-call quotas by the gateway; a lost release expires on its own.
    onLeft: (job) => {
      if (job.replyTo === null) {
        options.queuedCalls.release(job).catch((err: unknown) => log.warn('could not release a queued call', { invocationId: job.invocationId, err }));
      }
    },
    onError: (err) => log.warn('queue consumer error', { err }),
    log,
  });
  const startedAt = new Date().toISOString();
  const reporting = options.reports.start(settings.workerId, () => ({
    workerId: settings.workerId,
    host: hostname(),
    startedAt,
    seenAt: new Date().toISOString(),
    concurrency: settings.concurrency,
    inFlight,
    runtimes: inventory.runtimes(),
    runtimeImages: inventory.images(),
    pool: pool.stats(),
    warm: pool.warmEntries().map((e) => ({
      key: e.key,
      namespace: e.fn.namespace,
      functionName: e.fn.functionName,
      version: e.fn.version,
      idle: e.idle,
      total: e.total,
    })),
  }));
  log.info('worker started', {
    workerId: settings.workerId,
    concurrency: settings.concurrency,
    memoryBudgetMb: settings.memoryBudgetMb,
    prewarm: settings.prewarm,
    runtimes: inventory.runtimes(),
  });

  let stopped: Promise<void> | null = null;
  return {
    stats: () => pool.stats(),
    metricsPort,
    reconcileProvisioned,
    sweepCode,
    stop() {
      stopped ??= (async () => {
        const t0 = Date.now();
        clearInterval(provisionTimer);
        clearInterval(codeSweepTimer);
        await reporting.stop();
        await consumer.close();
        await control.close();
        await prefetcher.stop();
        await secretWatch?.stop();
        await reconciling;
        await prometheus.close();
        await pool.close();
        // A probe still running ends by its own deadline; its container removes itself.
        await inventory.probed;
        log.info('worker stopped', { workerId: settings.workerId, drainMs: Date.now() - t0 });
      })();
      return stopped;
    },
  };
}

/** Removes containers and socket directories a previous run of this worker left. */
async function removeLeftovers(runtime: ContainerRuntime, workerId: string, sandboxesDir: string, log: Logger): Promise<void> {
  const ids = await runtime.list({ [SANDBOX_LABELS.managed]: 'true', [SANDBOX_LABELS.worker]: workerId });
  await Promise.all(ids.map((id) => runtime.remove(id)));
  if (ids.length > 0) log.info('removed containers left by a previous run', { count: ids.length });
  await rm(sandboxesDir, { recursive: true, force: true });
}
