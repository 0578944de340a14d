/**
 * Wires the gateway's ports from real clients: Postgres for metadata and
 * records, BullMQ for the queue, Redis pub/sub for broadcasts. Used by
 * `main.ts` and by the end-to-end tests, so both run the same assembly.
 * Every Redis client of the gateway is opened here (`openGatewayRedis`).
 */
import type { Database } from '../worker/common/database.ts';
import { createControlListener, createControlPublisher } from '../worker/common/redis/control-channel.ts';
import { redisOptionsFromUrl } from '../worker/common/redis/connection-options.ts';
import { createFunctionTombstones } from '../worker/common/redis/deleted-functions.ts';
import { createIdempotencyKeys } from '../worker/common/redis/idempotency-keys.ts';
import { createReplyListener } from '../worker/common/redis/invocation-replies.ts';
import { createBullMqJobConsumers, createBullMqJobQueues } from '../worker/common/redis/job-queues.ts';
import { createQueuedCallQuota } from '../worker/common/redis/queued-call-quota.ts';
import { openRedis } from '../worker/common/redis/redis-client.ts';
import { createWorkerRegistry } from '../worker/common/redis/worker-registry.ts';
import type { ControlMessage } from '../worker/contract/messages.ts';
import type { Logger } from '../worker/common/logger.ts';
import { findInvocation, insertInvocation } from '../worker/common/invocations-store.ts';
import { createApp } from './app.ts';
import type { GatewayLimits } from './config.ts';
import { createSessionSealer } from './dashboard-session.ts';
import { createFunctionApp } from './function-app.ts';
import type { GatewayDeps, MetricsReader } from './gateway-deps.ts';
import { createGatewayPrometheus } from './metrics/gateway-prometheus.ts';
import { functionIdOf, readBuckets, readFunctionTotals, readRecords, readVersionTotals } from './metrics/metrics-store.ts';
import { Dispatcher } from './invoke/dispatcher.ts';
import { startQueueReaper } from './invoke/queue-reaper.ts';
import { VersionCache } from './invoke/version-cache.ts';
import { WorkerDirectory } from './invoke/worker-directory.ts';
import { createInvocationQueue } from './queue/invocation-queue.ts';
import { createRolloutCheckTimer, runRolloutChecks } from './rollouts/check-timer.ts';
import { createRolloutEngine } from './rollouts/rollout-engine.ts';
import { createPostgresRolloutStore } from './rollouts/rollout-store.ts';
import { createPostgresFunctionStore } from './store/functions-store.ts';
import { DEFAULT_PROVISIONED_MEMORY_MB } from './store/provisioned-memory.ts';
import { createPostgresFunctionExtrasStore } from './store/function-extras-store.ts';
import { createPostgresTenantsStore } from './store/tenants-store.ts';
import { TtlCache } from './ttl-cache.ts';
import { createCredentialSealer } from './lambda/credential-seal.ts';
import { createTriggers } from './triggers/create-triggers.ts';
import { createScheduleRunner } from './triggers/schedule-runner.ts';
import { checkSchedule } from './triggers/schedule-check.ts';
import { checkOutbound, type OutboundPolicy } from './destinations/outbound-guard.ts';
import { BROKER_PUBLISHERS } from './destinations/broker-destination.ts';
import { startDeliveryConsumer } from './destinations/delivery-consumer.ts';
import type { Destinations } from './destinations/destinations-port.ts';
import { createPostgresDeliveryStore, createPostgresDestinationConfigStore, type DeliveryStore } from './destinations/destinations-store.ts';
import { createCallbackSecrets } from './destinations/webhook-signature.ts';
import { UploadBudget } from './upload-budget.ts';
import type { Sealer } from '../worker/common/secret-sealing.ts';
import { createGatewaySecrets } from './secrets/create-secrets.ts';

export interface GatewayOptions {
  db: Database;
  redisUrl: string;
  /** Redis Sentinel addresses (`host:port,…`) and master name, if used. */
  redisSentinel?: { sentinels?: string; name?: string };
  queuePrefix: string;
  /** The `default` namespace's key (and the admin key when `adminKey` is unset). */
  apiKey: string;
  adminKey?: string;
  syncGraceMs: number;
  throttleWaitMs: number;
  /** Per-tenant quotas (provisioned memory, queued calls); defaults when omitted. */
  limits?: GatewayLimits;
  /** How long a resolved `latest` may be reused without a broadcast (default 5 s). */
  versionCacheTtlMs?: number;
  /** How often this gateway looks for overdue rollout checks (default 10 s). */
  rolloutSweepMs?: number;
  /**
   * Hosts (`host` or `host:port`) a trigger's broker, a webhook or a
   * callback may be at although private or loopback (`HEARTH_OUTBOUND_ALLOW_HOSTS`).
   * The platform's own Redis and Postgres are refused whatever this says.
   */
  outboundAllowHosts?: readonly string[];
  /** The platform's own services (host, port), never reachable from a trigger or destination. */
  ownServices?: ReadonlyArray<{ host: string; port: number }>;
  /** False: this gateway runs no source trigger (it still serves the triggers API and schedules). */
  runTriggerSources?: boolean;
  /** How long a source trigger's lease lasts unrenewed (default 10 s). */
  triggerLeaseMs?: number;
  /**
   * Where the function origin is, for the 421 `/fn/*` answers on the API
   * origin: `publicUrl` as given, else the request's host on `port`
   * (a function, when the port is known only once listening).
   */
  functionOrigin?: { publicUrl?: string; port?: number | (() => number) };
  /** Seals secrets and every version's environment (`worker/common/secret-sealing.ts`); the workers must hold the same keys. */
  secretsSealer: Sealer;
  log: Logger;
}

export async function createGateway(options: GatewayOptions) {
  const redis = openGatewayRedis(options.redisUrl, options.redisSentinel, options.queuePrefix);
  const { registry, control } = redis.ports;
  const queue = await createInvocationQueue({ ...redis.ports.queue, workerIds: () => registry.knownIds() });
  const directory = await WorkerDirectory.open(registry);
  const reaper = startQueueReaper(registry, queue, options.log);
  const storeLimits = options.limits
    ? { defaultProvisionedMemoryMb: options.limits.defaultProvisionedMemoryMb, ...(options.limits.quotas ? { quotas: options.limits.quotas } : {}) }
    : undefined;
  const functions = createPostgresFunctionStore(options.db, storeLimits);
  // One budget for every upload route of this gateway (deploy, Lambda CreateFunction and UpdateFunctionCode).
  const uploads = new UploadBudget(options.limits?.uploads);
  const versions = new VersionCache(functions.resolveVersion, functions.resolveAlias, options.versionCacheTtlMs ?? 5000);
  const tenants = createPostgresTenantsStore(options.db);
  // Revocation reaches every gateway by broadcast; the TTL bounds it if one is missed.
  const keyNamespaces = new TtlCache((hash) => tenants.namespaceOfKey(hash), 5000);
  const quotas = new TtlCache(async (ns) => {
    const found = await tenants.getNamespace(ns);
    return { exists: found !== null, quota: found?.concurrencyQuota ?? null };
  }, 5000);
  const forget = (m: ControlMessage) => {
    if (m.type === 'key-revoked') keyNamespaces.delete(m.keyHash);
    else if (m.type === 'namespace-changed') quotas.delete(m.namespace);
    // A secret's new value concerns the workers' sandboxes; the gateway caches no secret.
    else if (m.type === 'secret-changed') return;
    else if (m.type === 'function-changed' && m.code) versions.deployed(m.namespace, m.name);
    else versions.invalidate(m.namespace, m.name);
  };
  const subscription = await redis.ports.broadcasts.listen(forget);
  const announce = async (message: ControlMessage) => {
    forget(message);
    await control.publish(message).catch((err: unknown) => {
      options.log.warn('could not broadcast a change', { type: message.type, err });
    });
  };
  const invocations = { find: (ns: string, id: string) => findInvocation(options.db, ns, id) };
  const dispatcher = new Dispatcher({
    store: {
      resolveVersion: (ns, name, version) => versions.get(ns, name, version),
      resolveAlias: (ns, name, alias) => versions.alias(ns, name, alias),
      findInvocation: invocations.find,
      recordUnstarted: (job, outcome) => insertInvocation(options.db, job, outcome, 'gateway'),
      namespaceQuota: async (ns) => (await quotas.get(ns)).quota,
    },
    queue,
    workers: () => directory.current(),
    syncGraceMs: options.syncGraceMs,
    throttleWaitMs: options.throttleWaitMs,
    ...(options.limits ? { queuedLimits: options.limits.queued } : {}),
  });
  const db = options.db;
  const metrics: MetricsReader = {
    functionIdOf: (ns, name) => functionIdOf(db, ns, name),
    readBuckets: (scope, resolution, bucketSeconds, from) => readBuckets(db, scope, resolution, bucketSeconds, from),
    readFunctionTotals: (ns, resolution, from) => readFunctionTotals(db, ns, resolution, from),
    readVersionTotals: (functionId, resolution, from) => readVersionTotals(db, functionId, resolution, from),
    readRecords: (query) => readRecords(db, query),
    workers: () => registry.list(),
  };
  const rollouts = createRolloutEngine({
    store: createPostgresRolloutStore(db, options.limits?.defaultProvisionedMemoryMb ?? DEFAULT_PROVISIONED_MEMORY_MB),
    timer: createRolloutCheckTimer(redis.ports.queue.jobs),
    announce,
    log: options.log,
  });
  const rolloutChecks = runRolloutChecks({
    engine: rollouts,
    consumers: redis.ports.consumers,
    log: options.log,
    ...(options.rolloutSweepMs ? { sweepMs: options.rolloutSweepMs } : {}),
  });
  const outboundPolicy: OutboundPolicy = { allowHosts: options.outboundAllowHosts ?? [], refuse: options.ownServices ?? [] };
  const outboundRefusal = async (url: URL) => {
    const verdict = await checkOutbound(url, outboundPolicy);
    return verdict.ok ? null : verdict.reason;
  };
  const triggers = createTriggers({
    db,
    redis: redis.triggers,
    prefix: options.queuePrefix,
    sealer: createCredentialSealer({ apiKey: options.apiKey, ...(options.adminKey ? { adminKey: options.adminKey } : {}) }),
    dispatcher,
    findInvocation: invocations.find,
    jobState: (ns, id) => queue.state(id, ns),
    functionTimeoutMs: async (ns, name) => (await functions.resolveVersion(ns, name))?.timeoutMs ?? null,
    outboundRefusal,
    schedules: (store, status) => {
      const runner = createScheduleRunner({ jobs: redis.ports.queue.jobs, consumers: redis.ports.consumers, reader: store, dispatcher, status, log: options.log });
      // Starting reconciles once at once, then every minute.
      runner.start();
      return { check: checkSchedule, apply: (t) => runner.apply(t), remove: (id) => runner.remove(id), close: () => runner.close() };
    },
    ...(options.runTriggerSources === false ? { runSources: false } : {}),
    ...(options.triggerLeaseMs ? { leaseMs: options.triggerLeaseMs } : {}),
    log: options.log,
  });
  // Destinations: their stores, the guard under this deployment's policy, and this gateway's share of the deliveries.
  const destinationKeys = { apiKey: options.apiKey, ...(options.adminKey ? { adminKey: options.adminKey } : {}) };
  const deliveryStore = countingDeliveries(createPostgresDeliveryStore(db), (type, condition, status) => prometheus.countDelivery(type, condition, status));
  const destinations: Destinations = {
    config: createPostgresDestinationConfigStore(db),
    deliveries: deliveryStore,
    sealer: createCredentialSealer(destinationKeys),
    checkOutbound: (url) => checkOutbound(url, outboundPolicy),
    callbackSecret: createCallbackSecrets(destinationKeys),
  };
  const deliveryConsumer = startDeliveryConsumer({
    ...destinations,
    deliveries: deliveryStore,
    consumers: redis.ports.consumers,
    dispatcher,
    publishers: BROKER_PUBLISHERS,
    log: options.log,
  });
  const prometheus = createGatewayPrometheus(
    () => queue.counts(),
    async () =>
      (await triggers.running()).map(({ record, status }) => ({
        namespace: record.namespace,
        function: record.functionName,
        trigger: record.name,
        type: record.type,
        lag: status.lag ?? null,
        batches: status.batches ?? 0,
        messages: status.messages ?? 0,
        failures: status.failures ?? 0,
        error: status.state === 'error',
      })),
  );
  const secrets = createGatewaySecrets({ db, sealer: options.secretsSealer, announce, log: options.log });
  const deps: GatewayDeps = {
    auth: {
      apiKey: options.apiKey,
      ...(options.adminKey ? { adminKey: options.adminKey } : {}),
      keys: {
        namespaceOf: (hash) => keyNamespaces.get(hash),
        namespaceExists: async (ns) => ns === 'default' || (await quotas.get(ns)).exists,
      },
    },
    tenants,
    functions,
    functionExtras: createPostgresFunctionExtrasStore(options.db, storeLimits),
    invocations,
    queue,
    dispatcher,
    rollouts,
    triggers: triggers.service,
    destinations,
    metrics,
    prometheus,
    announce,
    uploads,
    secrets: secrets.service,
    log: options.log,
  };
  const origin = options.functionOrigin ?? {};
  const functionBaseUrl = (requestUrl: URL) => {
    if (origin.publicUrl) return origin.publicUrl;
    const port = typeof origin.port === 'function' ? origin.port() : (origin.port ?? 8081);
    return `${requestUrl.protocol}//${requestUrl.hostname}:${port}`;
  };
  const sessions = createSessionSealer([options.apiKey, options.adminKey ?? '']);
  return {
    /** The API origin: dashboard, `/v1`, the Lambda API, `/metrics`, `/healthz`. */
    app: createApp(deps, { functionBaseUrl, sessions }),
    /** The function origin: `/fn/*` and `/healthz`, on a listener of its own. */
    functionApp: createFunctionApp(deps),
    /** Moves calls off dead workers now (the reaper also runs every few seconds). */
    reapDeadWorkers: () => reaper.reapNow(),
    async close() {
      await deliveryConsumer.close();
      await secrets.close();
      await triggers.close();
      await rolloutChecks.close();
      reaper.stop();
      directory.close();
      await queue.close();
      await subscription.close();
      await redis.close();
    },
  };
}

/**
 * The gateway's Redis clients, each opened once through the connection
 * policy, and the ports over them. Five connections, each behaving as its
 * use needs while Redis is away: the queue handles wait it out (BullMQ);
 * keys a caller waits on (idempotency, tombstones, quotas, the answered
 * check) fail at once, so the caller hears 503 quickly; the two subscribers
 * wait; the registry and the broadcasts fail after a retry.
 */
function openGatewayRedis(url: string, sentinel: { sentinels?: string; name?: string } | undefined, prefix: string) {
  const options = redisOptionsFromUrl(url, sentinel);
  // One connection serves every queue handle (none of them blocks).
  const queues = openRedis(options, 'invocation queues', 'waiting');
  const keys = openRedis(options, 'queue keys', 'immediate');
  const replies = openRedis(options, 'reply subscriber', 'waiting');
  const broadcasts = openRedis(options, 'control subscriber', 'waiting');
  const commands = openRedis(options, 'registry and broadcasts', 'commands', { lazyConnect: true });
  // Trigger leases and statuses: a lease renewal must fail rather than wait, or a gateway cut off from Redis would keep reading.
  const triggers = openRedis(options, 'trigger leases', 'commands');
  const jobs = createBullMqJobQueues(queues, prefix);
  // The rollout checks' consumer (BullMQ adds its blocking connection).
  const consumers = createBullMqJobConsumers(queues, commands, prefix);
  return {
    triggers,
    ports: {
      queue: {
        jobs,
        replies: createReplyListener(replies, keys, prefix),
        idempotency: createIdempotencyKeys(keys, prefix),
        tombstones: createFunctionTombstones(keys, prefix),
        queuedCalls: createQueuedCallQuota(keys, prefix),
      },
      registry: createWorkerRegistry(commands, prefix),
      control: createControlPublisher(commands, prefix),
      broadcasts: createControlListener(broadcasts, prefix),
      consumers,
    },
    async close() {
      await consumers.close();
      await jobs.close();
      for (const client of [triggers, commands, broadcasts, replies, keys, queues]) client.disconnect();
    },
  };
}

/**
 * `store`, telling `settled` of each delivery that this gateway settles
 * (for Prometheus). A delivery opened on another gateway and settled here is
 * counted as `unknown` type; at most 10,000 open deliveries are remembered.
 */
function countingDeliveries(store: DeliveryStore, settled: (type: string, condition: string, status: string) => void): DeliveryStore {
  const open = new Map<string, { type: string; condition: string }>();
  return {
    open: async (row) => {
      const opened = await store.open(row);
      if (open.size >= 10_000) open.delete(open.keys().next().value!);
      open.set(opened.id, { type: row.type, condition: row.condition });
      return opened;
    },
    record: async (id, attempt) => {
      await store.record(id, attempt);
      if (attempt.status === 'pending') return;
      const known = open.get(id);
      open.delete(id);
      settled(known?.type ?? 'unknown', known?.condition ?? 'unknown', attempt.status);
    },
    forInvocation: (namespace, invocationId) => store.forInvocation(namespace, invocationId),
    chainFrom: (namespace, causedBy, max) => store.chainFrom(namespace, causedBy, max),
  };
}
