/**
 * The gateway's ports as small in-memory fakes, for `app.request()` tests
 * that need no Docker, Redis or Postgres. Each fake implements the real
 * interface; the stores also refuse what Postgres would refuse (NUL in text,
 * lone surrogates in JSON, integers past int4, malformed uuids) by throwing
 * a plain error, as the driver does, so a route that passes such a value on
 * answers 500 here as it would in production.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { createApp } from '../../gateway/app.ts';
import { sha256Hex } from '../../gateway/auth.ts';
import { createSessionSealer, type SessionSealer } from '../../gateway/dashboard-session.ts';
import { createFunctionApp } from '../../gateway/function-app.ts';
import type { GatewayDeps, MetricsReader } from '../../gateway/gateway-deps.ts';
import { Dispatcher } from '../../gateway/invoke/dispatcher.ts';
import { createCredentialSealer } from '../../gateway/lambda/credential-seal.ts';
import { accessKeyIdOf } from '../../gateway/lambda/lambda-credentials.ts';
import { createGatewayPrometheus } from '../../gateway/metrics/gateway-prometheus.ts';
import { UploadBudget } from '../../gateway/upload-budget.ts';
import type { ControlMessage } from '../../worker/contract/messages.ts';
import { silentLogger, type Logger } from '../../worker/common/logger.ts';
import type { InvocationRow } from '../../worker/common/invocations-store.ts';
import type { WorkerReport } from '../../worker/contract/worker-report.ts';
import { refuseNonUuid, refuseUnstorable } from './fakes/postgres-refusals.ts';
import { DEFAULT_SETTINGS, InMemoryFunctionStore } from './fakes/function-store.ts';
import { InMemoryFunctionExtrasStore } from './fakes/function-extras-store.ts';
import { InMemoryRollups } from './fakes/rollups.ts';
import { InMemoryTenantsStore } from './fakes/tenants-store.ts';
import { InMemoryRolloutStore } from './fakes/rollout-store.ts';
import { createRolloutEngine, type RolloutEngine } from '../../gateway/rollouts/rollout-engine.ts';
import type { DueCheck } from '../../gateway/rollouts/rollout-views.ts';
import { createInMemoryTriggerStore } from './fakes/trigger-store.ts';
import { createFakeDestinations } from './fakes/destinations.ts';
import { createTriggerService } from '../../gateway/triggers/trigger-service.ts';
import { createTriggerStatusBoardInMemory } from './fakes/trigger-status.ts';
import { checkSchedule, nextTickOf } from '../../gateway/triggers/schedule-check.ts';
import { SourceError } from '../../gateway/triggers/event-source.ts';
import type { SourceAdapter } from '../../gateway/triggers/source-adapters.ts';
import { FakeInvocationQueue, invocationRow, recordRow, succeeded, workerReport, type SyncResponder } from './fakes/invocation-queue.ts';
import { InMemorySecretStore } from './fakes/secret-store.ts';
import { createSecretService } from '../../gateway/secrets/secret-service.ts';
import { createSealer, parseKeyring } from '../../worker/common/secret-sealing.ts';

export { DEFAULT_SETTINGS, FakeInvocationQueue, InMemoryFunctionStore, InMemoryTenantsStore, invocationRow, succeeded, workerReport, type SyncResponder };


export const PLATFORM_KEY = 'test-platform-key-0123456789';
export const ADMIN_KEY = 'test-admin-key-0123456789';
/** A namespace key of namespace `acme` (the shape `manage-tenants.ts` makes). */
export const TENANT_KEY = `hk_${'acme'.repeat(8)}`;
export const TENANT_NAMESPACE = 'acme';
/** The fake gateway's secrets key (a passphrase: any 32 characters or more make a key). */
export const SECRETS_KEY = 'test-secrets-key-0123456789abcdef0123';



export interface FakeGateway {
  deps: GatewayDeps;
  /** The API origin. */
  app: ReturnType<typeof createApp>;
  /** The function origin. */
  functionApp: ReturnType<typeof createFunctionApp>;
  functions: InMemoryFunctionStore;
  functionExtras: InMemoryFunctionExtrasStore;
  tenants: InMemoryTenantsStore;
  queue: FakeInvocationQueue;
  /** Finished invocation records by id. */
  records: Map<string, InvocationRow>;
  /** The metrics routes' rollup rows (none until a test adds some). */
  rollups: InMemoryRollups;
  workers: WorkerReport[];
  announced: ControlMessage[];
  /** What the gateway logged as an error (a 500 logs one). */
  errors: Array<{ message: string; fields?: Record<string, unknown> }>;
  sessions: SessionSealer;
  /** The key id of `TENANT_KEY` (its SigV4 access key id is `accessKeyIdOf(id)`). */
  tenantKeyId: string;
  /** Secrets in memory (sealed, as the real store keeps them), under `SECRETS_KEY`. */
  secrets: InMemorySecretStore;
  /** The real rollout engine over rollouts in memory; its timer only records what it was asked to schedule. */
  rollouts: { store: InMemoryRolloutStore; engine: RolloutEngine; scheduled: Array<{ due: DueCheck; delayMs: number }> };
}

/** A gateway over fresh fakes: namespaces `default` and `acme`, `TENANT_KEY` live in `acme`, no functions. */
export async function createFakeGateway(options: { uploads?: UploadBudget } = {}): Promise<FakeGateway> {
  const functions = new InMemoryFunctionStore();
  const tenants = new InMemoryTenantsStore((ns) => [...functions.rows.values()].filter((f) => f.namespace === ns).length);
  await tenants.createNamespace('default', null);
  await tenants.createNamespace(TENANT_NAMESPACE, null);
  const functionExtras = new InMemoryFunctionExtrasStore(functions, async (ns) => (await tenants.getNamespace(ns))?.concurrencyQuota ?? null);
  const queue = new FakeInvocationQueue();
  const records = new Map<string, InvocationRow>();
  const rollups = new InMemoryRollups();
  const workers: WorkerReport[] = [];
  const announced: ControlMessage[] = [];
  const errors: FakeGateway['errors'] = [];
  const log: Logger = { ...silentLogger, error: (message, fields) => errors.push({ message, ...(fields ? { fields } : {}) }) };
  const findInvocation = async (namespace: string, id: string) => {
    refuseNonUuid('invocation id', id);
    const row = records.get(id);
    return row && row.namespace === namespace ? row : null;
  };
  const dispatcher = new Dispatcher({
    store: {
      resolveVersion: (ns, name, version) => functions.resolveVersion(ns, name, version),
      resolveAlias: (ns, name, alias) => functions.resolveAlias(ns, name, alias),
      findInvocation,
      recordUnstarted: async () => {},
      namespaceQuota: async (ns) => (await tenants.getNamespace(ns))?.concurrencyQuota ?? null,
    },
    queue,
    syncGraceMs: 1000,
    throttleWaitMs: 100,
  });
  const metrics: MetricsReader = {
    functionIdOf: async (ns, name) => (await functions.resolveVersion(ns, name))?.functionId ?? null,
    readBuckets: async (scope, resolution, bucketSeconds, from) => rollups.readBuckets(scope, resolution, bucketSeconds, from),
    readFunctionTotals: async () => [],
    readVersionTotals: async (functionId, resolution, from) => rollups.readVersionTotals(functionId, resolution, from),
    readRecords: async (query) => {
      refuseUnstorable('limit', query.limit);
      if (query.status !== undefined) refuseUnstorable('status', query.status);
      if (query.before) refuseNonUuid('cursor id', query.before.id);
      return [...records.values()]
        .filter((r) => r.functionId === query.functionId && (query.status === undefined || r.status === query.status))
        .filter((r) => !query.since || r.queuedAt > query.since)
        .sort((a, b) => b.queuedAt.getTime() - a.queuedAt.getTime() || (a.id < b.id ? 1 : -1))
        .filter((r) => !query.before || r.queuedAt < query.before.queuedAt || (r.queuedAt.getTime() === query.before.queuedAt.getTime() && r.id < query.before.id))
        .slice(0, query.limit)
        .map(recordRow);
    },
    workers: async () => workers,
  };
  const rolloutStore = new InMemoryRolloutStore(functions);
  const scheduled: FakeGateway['rollouts']['scheduled'] = [];
  const rolloutEngine = createRolloutEngine({
    store: rolloutStore,
    timer: { schedule: async (due, delayMs) => void scheduled.push({ due, delayMs }), reschedule: async () => false },
    announce: (message) => deps.announce(message),
    log,
  });
  const triggerSealer = createCredentialSealer({ apiKey: PLATFORM_KEY, adminKey: ADMIN_KEY });
  const triggerStore = createInMemoryTriggerStore(functions, triggerSealer);
  // Brokers in API tests: a host named "unreachable" does not answer, a stream, queue or subject named "missing" does not exist.
  const fakeAdapter: SourceAdapter = {
    open: async () => {
      throw new SourceError('no brokers in API tests');
    },
    check: async (settings) => {
      if (new URL(settings.url).hostname === 'unreachable') throw new SourceError(`${settings.type}: cannot connect to unreachable: ECONNREFUSED`);
      const name = 'stream' in settings ? settings.stream : 'queue' in settings ? settings.queue : settings.topic;
      if (name === 'missing') throw new SourceError(`${settings.type}: "missing" does not exist`);
    },
    eventOf: () => '{}',
  };
  const triggers = createTriggerService({
    store: triggerStore,
    status: createTriggerStatusBoardInMemory(),
    adapters: { 'redis-stream': fakeAdapter, amqp: fakeAdapter, nats: fakeAdapter },
    schedules: { check: checkSchedule, apply: async (t) => ({ nextRunAt: t.type === 'schedule' && t.enabled ? nextTickOf(t.settings as never) : null }), remove: async () => {} },
    refreshSources: async () => {},
    outboundRefusal: async (url) => (url.hostname === '169.254.169.254' ? 'link-local addresses are not allowed' : null),
    functionTimeoutMs: async (ns, name) => (await functions.resolveVersion(ns, name))?.timeoutMs ?? null,
  });
  const secrets = new InMemorySecretStore(functions);
  const deps: GatewayDeps = {
    auth: {
      apiKey: PLATFORM_KEY,
      adminKey: ADMIN_KEY,
      // Off, so a test's wrong key never hides another test's lookup.
      missTtlMs: 0,
      keys: {
        namespaceOf: (hash) => tenants.namespaceOfKey(hash),
        namespaceExists: async (ns) => (await tenants.getNamespace(ns)) !== null,
      },
    },
    tenants,
    functions,
    functionExtras,
    invocations: { find: findInvocation },
    queue,
    dispatcher,
    rollouts: rolloutEngine,
    triggers,
    destinations: createFakeDestinations(functions, records, { apiKey: PLATFORM_KEY, adminKey: ADMIN_KEY }),
    metrics,
    prometheus: createGatewayPrometheus(() => queue.counts()),
    announce: async (message) => {
      announced.push(message);
    },
    uploads: options.uploads ?? new UploadBudget(),
    secrets: createSecretService({ store: secrets, sealer: createSealer(() => parseKeyring(SECRETS_KEY)), announce: (message) => deps.announce(message) }),
    log,
  };
  // The tenant's key, made as `POST /v1/namespaces/{ns}/keys` makes one (with its sealed SigV4 secret).
  const tenantKeyId = randomUUID();
  const sealer = createCredentialSealer(deps.auth);
  await tenants.createKey(TENANT_NAMESPACE, 'test', sha256Hex(TENANT_KEY), TENANT_KEY.slice(0, 10), {
    id: tenantKeyId,
    sealedSecret: sealer.seal(tenantKeyId, TENANT_NAMESPACE, TENANT_KEY),
  });
  const sessions = createSessionSealer([PLATFORM_KEY, ADMIN_KEY]);
  const app = createApp(deps, { functionBaseUrl: (url) => `${url.protocol}//${url.hostname}:8081`, sessions });
  const functionApp = createFunctionApp(deps);
  return { deps, app, functionApp, functions, functionExtras, tenants, queue, records, rollups, workers, announced, errors, sessions, tenantKeyId, secrets, rollouts: { store: rolloutStore, engine: rolloutEngine, scheduled } };
}

export { accessKeyIdOf };

/** `Authorization: Bearer <key>`, plus any other headers. */
export function bearer(key: string, headers: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${key}`, ...headers };
}

/** A JSON request with `key`. */
export function jsonRequest(method: string, key: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method, headers: bearer(key, { 'Content-Type': 'application/json', ...headers }), body: typeof body === 'string' ? body : JSON.stringify(body) };
}

/**
 * Asserts the house error shape with `status` and (when given) `code`, and
 * returns the error. A 500 is never what a caller's mistake should get.
 */
export async function expectError(response: Response, status: number, code?: string): Promise<{ code: string; message: string } & Record<string, unknown>> {
  const text = await response.text();
  expect(response.status, `expected ${status}, got ${response.status}: ${text.slice(0, 300)}`).toBe(status);
  expect(response.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
  expect(body.error, text).toBeTypeOf('object');
  expect(body.error!.code).toBeTypeOf('string');
  expect(body.error!.message).toBeTypeOf('string');
  if (code !== undefined) expect(body.error!.code).toBe(code);
  return body.error as { code: string; message: string };
}
