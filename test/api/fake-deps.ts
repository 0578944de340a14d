/**
 * The gateway's ports as small in-memory fakes, for `app.request()` tests
 * that need no Docker, Redis or Postgres. Each fake implements the real
 * interface; the stores also refuse what Postgres would refuse (NUL in text,
 * lone surrogates in JSON, integers past int4, malformed uuids) by throwing
 * a plain error, as the driver does, so a route that passes such a value on
 * answers 500 here as it would in production.
 */
import { createHash, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { createApp } from '../../gateway/app.ts';
import { sha256Hex } from '../../gateway/auth.ts';
import { createSessionSealer, type SessionSealer } from '../../gateway/dashboard-session.ts';
import { parseFunctionSettings, type FunctionSettings } from '../../gateway/deploy/function-settings.ts';
import { createFunctionApp } from '../../gateway/function-app.ts';
import type { GatewayDeps, MetricsReader } from '../../gateway/gateway-deps.ts';
import { UUID } from '../../gateway/ids.ts';
import { Dispatcher } from '../../gateway/invoke/dispatcher.ts';
import { createCredentialSealer } from '../../gateway/lambda/credential-seal.ts';
import { accessKeyIdOf } from '../../gateway/lambda/lambda-credentials.ts';
import { createGatewayPrometheus } from '../../gateway/metrics/gateway-prometheus.ts';
import type { RecordRow } from '../../gateway/metrics/metrics-store.ts';
import {
  VIEW_VERSIONS,
  versionCursor,
  type DeployedFunction,
  type FunctionDetails,
  type FunctionStore,
  type FunctionView,
  type NewCode,
  type ResolvedVersion,
  type VersionView,
} from '../../gateway/store/functions-store.ts';
import type { KeyView, LambdaCredentialRow, ListQuery, NamespaceDeletion, NamespaceView, TenantsStore } from '../../gateway/store/tenants-store.ts';
import { UploadBudget } from '../../gateway/upload-budget.ts';
import type { ControlMessage } from '../../worker/contract/messages.ts';
import type { InvocationOutcome } from '../../worker/contract/invocation-outcome.ts';
import { INT4_MAX } from '../../worker/common/storable.ts';
import type { InvocationQueue, WaitResult } from '../../worker/common/redis/invocation-queue.ts';
import type { InvocationJob, InvocationState } from '../../worker/contract/invocation-job.ts';
import { silentLogger, type Logger } from '../../worker/common/logger.ts';
import type { QueuedCallRefusal } from '../../worker/common/redis/queued-call-quota.ts';
import type { InvocationRow } from '../../worker/common/invocations-store.ts';
import type { WorkerReport } from '../../worker/contract/worker-report.ts';

export const PLATFORM_KEY = 'test-platform-key-0123456789';
export const ADMIN_KEY = 'test-admin-key-0123456789';
/** A namespace key of namespace `acme` (the shape `manage-tenants.ts` makes). */
export const TENANT_KEY = `hk_${'acme'.repeat(8)}`;
export const TENANT_NAMESPACE = 'acme';


/** What Postgres (through `pg`) would throw for a value it cannot store or compare. */
function refuseUnstorable(what: string, value: unknown): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) throw new Error(`fake postgres: invalid byte sequence for encoding "UTF8": 0x00 (${what})`);
  } else if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < -INT4_MAX - 1 || value > INT4_MAX) throw new Error(`fake postgres: value "${value}" is out of range for type integer (${what})`);
  }
}

/** jsonb input refuses `\u0000` and lone surrogates (which `JSON.stringify` writes as `\udXXX`). */
function refuseUnstorableJson(what: string, value: unknown): void {
  const text = JSON.stringify(value);
  if (/\\u0000/.test(text)) throw new Error(`fake postgres: unsupported Unicode escape sequence \\u0000 (${what})`);
  if (/\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}/i.test(text)) {
    throw new Error(`fake postgres: invalid input syntax for type json: a lone surrogate (${what})`);
  }
}

function refuseNonUuid(what: string, value: string): void {
  if (!UUID.test(value.toLowerCase())) throw new Error(`fake postgres: invalid input syntax for type uuid: "${value.slice(0, 40)}" (${what})`);
}

const iso = (ms: number) => new Date(ms).toISOString();

interface StoredFunction {
  id: string;
  name: string;
  namespace: string;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
  versions: VersionView[];
}

/** The settings a test deploys with unless it says otherwise. */
export const DEFAULT_SETTINGS: FunctionSettings = parseFunctionSettings({ runtime: 'nodejs20' });

/** Functions and versions in memory, by namespace then name. */
export class InMemoryFunctionStore implements FunctionStore {
  readonly rows = new Map<string, StoredFunction>();
  private clock = Date.UTC(2025, 0, 1);

  private key(namespace: string, name: string) {
    refuseUnstorable('namespace', namespace);
    refuseUnstorable('name', name);
    return `${namespace}\u0000${name}`;
  }

  private view(fn: StoredFunction): FunctionView {
    const latest = fn.versions.find((v) => v.version === fn.latestVersion)!;
    return { name: fn.name, namespace: fn.namespace, latestVersion: fn.latestVersion, createdAt: fn.createdAt, updatedAt: fn.updatedAt, latest };
  }

  /** Deploys without the HTTP route (test set-up). */
  seed(namespace: string, name: string, settings: Partial<FunctionSettings> = {}, versions = 1): StoredFunction {
    for (let i = 0; i < versions; i++) {
      this.createVersionNow(namespace, name, { ...DEFAULT_SETTINGS, ...settings }, { sha256: createHash('sha256').update(`${name}${i}`).digest('hex'), tarGz: Buffer.from('x'), format: 'file', fileCount: 1, unpackedBytes: 1 });
    }
    return this.rows.get(this.key(namespace, name))!;
  }

  private createVersionNow(namespace: string, name: string, settings: FunctionSettings, code: NewCode): DeployedFunction {
    refuseUnstorable('handler', settings.handler);
    for (const [k, v] of Object.entries(settings.env)) refuseUnstorable(`env ${k}`, v);
    refuseUnstorableJson('env', settings.env);
    for (const n of [settings.memoryMb, settings.timeoutMs, settings.minWarm, settings.keepAliveMs ?? 0, settings.maxConcurrency ?? 0]) refuseUnstorable('setting', n);
    const key = this.key(namespace, name);
    const now = iso((this.clock += 1000));
    let fn = this.rows.get(key);
    if (!fn) {
      fn = { id: randomUUID(), name, namespace, latestVersion: 0, createdAt: now, updatedAt: now, versions: [] };
      this.rows.set(key, fn);
    }
    const version = Math.max(0, ...fn.versions.map((v) => v.version)) + 1;
    fn.versions.push({ ...settings, version, codeSha256: code.sha256, codeSizeBytes: code.tarGz?.length ?? 1, codeFormat: code.format, createdAt: now });
    fn.latestVersion = version;
    fn.updatedAt = now;
    return { ...this.view(fn), prunedVersions: [] };
  }

  async createVersion(namespace: string, name: string, settings: FunctionSettings, code: NewCode): Promise<DeployedFunction> {
    return this.createVersionNow(namespace, name, settings, code);
  }

  async list(namespace: string, query?: { limit: number; after?: string }): Promise<FunctionView[]> {
    refuseUnstorable('namespace', namespace);
    if (query?.after !== undefined) refuseUnstorable('cursor', query.after);
    if (query) refuseUnstorable('limit', query.limit);
    const all = [...this.rows.values()].filter((f) => f.namespace === namespace).sort((a, b) => (a.name < b.name ? -1 : 1));
    const after = query?.after;
    return all
      .filter((f) => after === undefined || f.name > after)
      .slice(0, query?.limit ?? Number.MAX_SAFE_INTEGER)
      .map((f) => this.view(f));
  }

  async get(namespace: string, name: string): Promise<FunctionDetails | null> {
    const fn = this.rows.get(this.key(namespace, name));
    if (!fn) return null;
    const newest = [...fn.versions].sort((a, b) => b.version - a.version);
    const versions = newest.slice(0, VIEW_VERSIONS);
    return { ...this.view(fn), versions, versionsNextCursor: newest.length > VIEW_VERSIONS ? versionCursor(versions[versions.length - 1]!.version) : null };
  }

  async listVersions(namespace: string, name: string, query: { limit: number; order: 'newest-first' | 'oldest-first'; beyond?: number }): Promise<VersionView[] | null> {
    refuseUnstorable('limit', query.limit);
    if (query.beyond !== undefined) refuseUnstorable('beyond', query.beyond);
    const fn = this.rows.get(this.key(namespace, name));
    if (!fn) return null;
    const newestFirst = query.order === 'newest-first';
    const beyond = query.beyond;
    return [...fn.versions]
      .sort((a, b) => (newestFirst ? b.version - a.version : a.version - b.version))
      .filter((v) => beyond === undefined || (newestFirst ? v.version < beyond : v.version > beyond))
      .slice(0, query.limit);
  }

  async getVersion(namespace: string, name: string, version: number): Promise<VersionView | null> {
    refuseUnstorable('version', version);
    return this.rows.get(this.key(namespace, name))?.versions.find((v) => v.version === version) ?? null;
  }

  async resolveVersion(namespace: string, name: string, version?: number): Promise<ResolvedVersion | null> {
    if (version !== undefined) refuseUnstorable('version', version);
    const fn = this.rows.get(this.key(namespace, name));
    const v = fn?.versions.find((x) => x.version === (version ?? fn.latestVersion));
    if (!fn || !v) return null;
    const { createdAt: _c, codeSizeBytes: _s, codeFormat: _f, ...settings } = v;
    return { ...settings, functionId: fn.id, name: fn.name, namespace: fn.namespace };
  }

  async delete(namespace: string, name: string): Promise<string | null> {
    const key = this.key(namespace, name);
    const fn = this.rows.get(key);
    this.rows.delete(key);
    return fn?.id ?? null;
  }

  async setLatestVersion(namespace: string, name: string, version: number): Promise<'ok' | 'no-function' | 'no-version'> {
    refuseUnstorable('version', version);
    const fn = this.rows.get(this.key(namespace, name));
    if (!fn) return 'no-function';
    if (!fn.versions.some((v) => v.version === version)) return 'no-version';
    fn.latestVersion = version;
    return 'ok';
  }
}

interface StoredKey extends KeyView {
  keyHash: string;
  sealedSecret: string | null;
}

/** Namespaces and keys in memory. */
export class InMemoryTenantsStore implements TenantsStore {
  readonly namespaces = new Map<string, NamespaceView>();
  readonly keys: StoredKey[] = [];
  /** Functions a namespace holds, for `deleteNamespace` (set from the function store). */
  constructor(private readonly functionsIn: (namespace: string) => number) {}

  async createNamespace(name: string, concurrencyQuota: number | null): Promise<NamespaceView | null> {
    refuseUnstorable('name', name);
    if (concurrencyQuota !== null) refuseUnstorable('concurrencyQuota', concurrencyQuota);
    if (this.namespaces.has(name)) return null;
    const view: NamespaceView = {
      name,
      concurrencyQuota,
      provisionedMemoryMb: null,
      maxFunctions: null,
      maxVersions: null,
      maxCodeBytes: null,
      maxUploadBytes: null,
      createdAt: iso(Date.UTC(2025, 0, 1)),
    };
    this.namespaces.set(name, view);
    return view;
  }

  async updateNamespace(name: string, changes: Partial<Omit<NamespaceView, 'name' | 'createdAt'>>): Promise<NamespaceView | null> {
    refuseUnstorable('name', name);
    for (const [field, value] of Object.entries(changes)) {
      // `max_code_bytes` is a bigint column; the others are integers.
      if (typeof value === 'number' && !(field === 'maxCodeBytes' && Number.isSafeInteger(value))) refuseUnstorable(field, value);
    }
    const found = this.namespaces.get(name);
    if (!found) return null;
    const updated = { ...found, ...changes };
    this.namespaces.set(name, updated);
    return updated;
  }

  async listNamespaces(query?: ListQuery): Promise<NamespaceView[]> {
    if (query?.after !== undefined) refuseUnstorable('cursor', query.after);
    const after = query?.after;
    return [...this.namespaces.values()]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .filter((n) => after === undefined || n.name > after)
      .slice(0, query?.limit ?? Number.MAX_SAFE_INTEGER);
  }

  async getNamespace(name: string): Promise<NamespaceView | null> {
    refuseUnstorable('name', name);
    return this.namespaces.get(name) ?? null;
  }

  async createKey(namespace: string, name: string, keyHash: string, prefix: string, lambda?: { id: string; sealedSecret: string }): Promise<KeyView> {
    refuseUnstorable('key name', name);
    const view: KeyView = { id: lambda?.id ?? randomUUID(), namespace, name, prefix, createdAt: iso(Date.UTC(2025, 0, 1) + this.keys.length), revokedAt: null };
    this.keys.push({ ...view, keyHash, sealedSecret: lambda?.sealedSecret ?? null });
    return view;
  }

  async listKeys(namespace: string, query?: ListQuery): Promise<KeyView[]> {
    if (query?.after !== undefined) refuseNonUuid('cursor', query.after);
    const mine = this.keys.filter((k) => k.namespace === namespace);
    const start = query?.after === undefined ? 0 : mine.findIndex((k) => k.id === query.after) + 1;
    return mine.slice(start, start + (query?.limit ?? Number.MAX_SAFE_INTEGER)).map(({ keyHash: _h, sealedSecret: _s, ...view }) => view);
  }

  async revokeAllKeys(namespace: string): Promise<string[]> {
    const live = this.keys.filter((k) => k.namespace === namespace && k.revokedAt === null);
    for (const k of live) k.revokedAt = iso(Date.now());
    return live.map((k) => k.keyHash);
  }

  async revokeKey(namespace: string, id: string): Promise<string | null> {
    refuseNonUuid('id', id);
    const key = this.keys.find((k) => k.namespace === namespace && k.id === id && k.revokedAt === null);
    if (!key) return null;
    key.revokedAt = iso(Date.now());
    return key.keyHash;
  }

  async namespaceOfKey(keyHash: string): Promise<string | null> {
    return this.keys.find((k) => k.keyHash === keyHash && k.revokedAt === null)?.namespace ?? null;
  }

  async lambdaCredential(id: string): Promise<LambdaCredentialRow | null> {
    refuseNonUuid('id', id);
    const key = this.keys.find((k) => k.id === id && k.revokedAt === null);
    return key ? { namespace: key.namespace, keyHash: key.keyHash, sealedSecret: key.sealedSecret } : null;
  }

  async deleteNamespace(name: string): Promise<NamespaceDeletion> {
    if (!this.namespaces.has(name)) return { result: 'not-found' };
    const held = this.functionsIn(name);
    if (held > 0) return { result: 'has-functions', functions: held };
    const live = this.keys.filter((k) => k.namespace === name && k.revokedAt === null).map((k) => k.keyHash);
    this.namespaces.delete(name);
    // Its keys go with it (`on delete cascade`).
    for (let i = this.keys.length - 1; i >= 0; i--) if (this.keys[i]!.namespace === name) this.keys.splice(i, 1);
    return { result: 'deleted', keyHashes: live };
  }
}

/** How the fake queue answers a sync call: by default the function returns its event. */
export type SyncResponder = (job: InvocationJob) => WaitResult;

/** A succeeded outcome of `job` returning `result` (JSON text). */
export function succeeded(job: InvocationJob, result: string = job.event): InvocationOutcome {
  const now = Date.now();
  return {
    invocationId: job.invocationId,
    functionName: job.functionName,
    version: job.version,
    status: 'succeeded',
    result,
    error: null,
    coldStart: false,
    startKind: 'warm',
    queuedAt: job.enqueuedAt,
    startedAt: now,
    finishedAt: now,
    queueWaitMs: 0,
    acquireMs: 0,
    initMs: 0,
    durationMs: 1,
    billedMs: 1,
    memoryMb: job.memoryMb,
    logs: '',
    logsTruncated: false,
    concurrency: 1,
  };
}

/** The queue without Redis: jobs are kept in a list, sync calls answered by `respond`. */
export class FakeInvocationQueue implements InvocationQueue {
  readonly replyTo = 'gateway-under-test';
  readonly enqueued: InvocationJob[] = [];
  readonly deletedFunctions: string[] = [];
  readonly states = new Map<string, InvocationState>();
  private readonly claimed = new Set<string>();
  respond: SyncResponder = (job) => succeeded(job);

  async enqueue(job: InvocationJob): Promise<void> {
    this.enqueued.push(job);
  }
  async enqueueAndWait(job: InvocationJob): Promise<WaitResult> {
    this.enqueued.push(job);
    return this.respond(job);
  }
  async state(invocationId: string): Promise<InvocationState> {
    return this.states.get(invocationId) ?? 'unknown';
  }
  async claimIdempotencyKey(namespace: string, functionId: string, key: string): Promise<boolean> {
    const id = `${namespace}\u0000${functionId}\u0000${key}`;
    if (this.claimed.has(id)) return false;
    this.claimed.add(id);
    return true;
  }
  async markFunctionDeleted(functionId: string): Promise<void> {
    this.deletedFunctions.push(functionId);
  }
  async admitQueued(): Promise<QueuedCallRefusal | null> {
    return null;
  }
  async releaseQueued(): Promise<void> {}
  async counts(): Promise<Record<string, number>> {
    return { waiting: this.enqueued.length };
  }
  async reapWorkerQueue(): Promise<number> {
    throw new Error('reapWorkerQueue is not used in API tests');
  }
  async close(): Promise<void> {}
}

/** A finished invocation record as `findInvocation` returns it. */
export function invocationRow(fields: { id: string; namespace: string; functionId: string; functionName: string } & Partial<InvocationRow>): InvocationRow {
  const at = new Date(Date.UTC(2025, 0, 1));
  return {
    version: 1,
    mode: 'sync',
    status: 'succeeded',
    coldStart: false,
    startKind: 'warm',
    queuedAt: at,
    startedAt: at,
    finishedAt: at,
    queueWaitMs: 0,
    acquireMs: 0,
    initMs: 0,
    durationMs: 1,
    billedMs: 1,
    memoryMb: 128,
    errorCode: null,
    errorType: null,
    errorMessage: null,
    result: '"ok"',
    resultTruncated: false,
    logs: 'hello\n',
    logsTruncated: false,
    concurrency: 1,
    workerId: 'worker-1',
    ...fields,
  };
}

/** What a record looks like to the logs and history routes. */
function recordRow(row: InvocationRow): RecordRow {
  return {
    id: row.id,
    queuedAt: row.queuedAt,
    finishedAt: row.finishedAt,
    version: row.version,
    mode: row.mode,
    status: row.status,
    startKind: row.startKind,
    coldStart: row.coldStart,
    durationMs: row.durationMs,
    initMs: row.initMs,
    billedMs: row.billedMs,
    memoryMb: row.memoryMb,
    errorCode: row.errorCode,
    logs: row.logs,
    logsTruncated: row.logsTruncated,
  };
}

/** A worker's report as the registry returns it. */
export function workerReport(workerId: string): WorkerReport {
  const counts = { busy: 0, warm: 1, prewarmed: 0 };
  return {
    workerId,
    host: 'host-1',
    startedAt: iso(Date.UTC(2025, 0, 1)),
    seenAt: new Date().toISOString(),
    concurrency: 4,
    inFlight: 1,
    runtimes: ['nodejs20'],
    pool: { ...counts, byRuntime: { nodejs20: counts }, memoryUsedMb: 128, memoryBudgetMb: 1024 },
    warm: [],
  };
}

export interface FakeGateway {
  deps: GatewayDeps;
  /** The API origin. */
  app: ReturnType<typeof createApp>;
  /** The function origin. */
  functionApp: ReturnType<typeof createFunctionApp>;
  functions: InMemoryFunctionStore;
  tenants: InMemoryTenantsStore;
  queue: FakeInvocationQueue;
  /** Finished invocation records by id. */
  records: Map<string, InvocationRow>;
  workers: WorkerReport[];
  announced: ControlMessage[];
  /** What the gateway logged as an error (a 500 logs one). */
  errors: Array<{ message: string; fields?: Record<string, unknown> }>;
  sessions: SessionSealer;
  /** The key id of `TENANT_KEY` (its SigV4 access key id is `accessKeyIdOf(id)`). */
  tenantKeyId: string;
}

/** A gateway over fresh fakes: namespaces `default` and `acme`, `TENANT_KEY` live in `acme`, no functions. */
export async function createFakeGateway(options: { uploads?: UploadBudget } = {}): Promise<FakeGateway> {
  const functions = new InMemoryFunctionStore();
  const tenants = new InMemoryTenantsStore((ns) => [...functions.rows.values()].filter((f) => f.namespace === ns).length);
  await tenants.createNamespace('default', null);
  await tenants.createNamespace(TENANT_NAMESPACE, null);
  const queue = new FakeInvocationQueue();
  const records = new Map<string, InvocationRow>();
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
    readBuckets: async () => [],
    readFunctionTotals: async () => [],
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
    invocations: { find: findInvocation },
    queue,
    dispatcher,
    metrics,
    prometheus: createGatewayPrometheus(() => queue.counts()),
    announce: async (message) => {
      announced.push(message);
    },
    uploads: options.uploads ?? new UploadBudget(),
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
  return { deps, app, functionApp, functions, tenants, queue, records, workers, announced, errors, sessions, tenantKeyId };
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
