/**
 * The Postgres schema, in drizzle's table language. `drizzle-kit generate`
 * turns changes here into the numbered SQL files beside it; those files, not
 * this one, are what `migrate` applies.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  doublePrecision,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { storedEnv } from './stored-env-column.ts';

const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => 'bytea',
});

/**
 * A deployed function. `latestVersion` is the version its `latest` alias
 * points at (kept equal to that alias's `version` in the same transaction:
 * a copy for the many reads that want "the current settings").
 */
export const functions = pgTable(
  'functions',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    namespace: text('namespace').notNull().default('default'),
    name: text('name').notNull(),
    latestVersion: integer('latest_version').notNull(),
    /** Highest version ever created, so a deploy after a rollback still counts up. */
    lastVersion: integer('last_version').notNull(),
    /** Tags (Lambda `TagResource`): at most 50 string pairs, shown, never used for access. */
    tags: jsonb('tags').$type<Record<string, string>>().notNull().default({}),
    /** Resource policy statements (Lambda `AddPermission`), stored and answered; Hearth's own keys still decide access. */
    policy: jsonb('policy').$type<Array<Record<string, unknown>>>().notNull().default([]),
    /** Lambda function URL configuration (onto `/fn/{name}`), or null when none was created. */
    urlConfig: jsonb('url_config').$type<Record<string, unknown>>(),
    /** Async invoke configuration (Lambda `PutFunctionEventInvokeConfig`): retries, max age, destinations; null: defaults. */
    eventInvokeConfig: jsonb('event_invoke_config').$type<Record<string, unknown>>(),
    /** Where async, scheduled and event calls' outcomes go (`{ onSuccess, onFailure }`, see `gateway/destinations/`); null: nowhere. */
    destinations: jsonb('destinations').$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('functions_namespace_name_key').on(t.namespace, t.name)],
);

/** Canonical code archives, addressed by the SHA-256 of their bytes. */
export const codeBlobs = pgTable('code_blobs', {
  sha256: text('sha256').primaryKey(),
  tarGz: bytea('tar_gz').notNull(),
  sizeBytes: integer('size_bytes').notNull(),
  unpackedBytes: integer('unpacked_bytes').notNull(),
  fileCount: integer('file_count').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** One immutable deploy of a function. */
export const functionVersions = pgTable(
  'function_versions',
  {
    functionId: uuid('function_id')
      .notNull()
      .references(() => functions.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    runtime: text('runtime').notNull(),
    handler: text('handler').notNull(),
    memoryMb: integer('memory_mb').notNull(),
    timeoutMs: integer('timeout_ms').notNull(),
    /** Sealed at rest (`stored-env-column.ts`); only plain values, never a secret's. */
    env: storedEnv('env').notNull(),
    /** Every secret of the namespace the version references (mounted as files); `secretEnv`: variable → secret name. */
    secrets: text('secrets').array().notNull().default(sql`'{}'::text[]`),
    secretEnv: jsonb('secret_env').$type<Record<string, string>>().notNull().default({}),
    /** Idle time before a warm container is removed; null means the worker's default. */
    keepAliveMs: integer('keep_alive_ms'),
    /** Containers kept initialised for this version while an alias that sets none of its own points at it ("provisioned concurrency"). */
    minWarm: integer('min_warm').notNull().default(0),
    /** Most invocations running at once; beyond it calls wait in the queue. Null: no limit. */
    maxConcurrency: integer('max_concurrency'),
    /** `none` (no network at all) or `egress` (internet only: never the host or private ranges). */
    network: text('network').notNull().default('none'),
    /** When true, `/fn/{name}` answers without an API key. */
    public: boolean('public').notNull().default(false),
    codeSha256: text('code_sha256')
      .notNull()
      .references(() => codeBlobs.sha256),
    codeFormat: text('code_format').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.functionId, t.version] }),
    // Code garbage collection asks "does any version still refer to this blob?".
    index('function_versions_code_sha256_idx').on(t.codeSha256),
  ],
);

/**
 * Named pointers at versions. Every function has `latest` (moved by each
 * deploy unless the deploy says otherwise); others are the user's. An alias
 * points at `version` and, optionally, sends `weight` (0–1) of its calls to
 * `weightedVersion` instead, like Lambda's one additional version.
 */
export const functionAliases = pgTable(
  'function_aliases',
  {
    functionId: uuid('function_id')
      .notNull()
      .references(() => functions.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    version: integer('version').notNull(),
    weightedVersion: integer('weighted_version'),
    weight: doublePrecision('weight'),
    description: text('description').notNull().default(''),
    /** Containers kept initialised for each version this alias points at; null: each version's own `minWarm`. */
    minWarm: integer('min_warm'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.functionId, t.name] }),
    // A version an alias points at cannot be deleted (checked at the end of each statement, so deleting the function still cascades).
    foreignKey({ name: 'function_aliases_version_fk', columns: [t.functionId, t.version], foreignColumns: [functionVersions.functionId, functionVersions.version] }),
    foreignKey({ name: 'function_aliases_weighted_version_fk', columns: [t.functionId, t.weightedVersion], foreignColumns: [functionVersions.functionId, functionVersions.version] }),
  ],
);

/**
 * A function's triggers: schedules and queue or stream sources that invoke
 * it. `settings` holds the type's settings as validated, with a broker URL's
 * secret parts sealed (`urlSealed`) and a shown form without them (`url`).
 * What a trigger is doing now (state, lag, last error) lives in Redis,
 * written by whoever runs it.
 */
export const triggers = pgTable(
  'triggers',
  {
    /** Names its schedule, lease and idempotency keys: a trigger deleted and made again is another trigger. */
    id: uuid('id').notNull().unique(),
    functionId: uuid('function_id')
      .notNull()
      .references(() => functions.id, { onDelete: 'cascade' }),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    type: text('type').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    /** `{ alias }` or `{ version }`. */
    target: jsonb('target').$type<Record<string, unknown>>().notNull(),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.functionId, t.name] }), index('triggers_type_idx').on(t.type)],
);

/**
 * Deliveries of outcomes to destinations (webhooks, `X-Callback-Url`,
 * functions, brokers): one row per delivery, updated as it is tried.
 */
export const deliveries = pgTable(
  'deliveries',
  {
    id: uuid('id').primaryKey(),
    namespace: text('namespace').notNull(),
    functionId: uuid('function_id').notNull(),
    /** The invocation whose outcome is delivered. */
    invocationId: uuid('invocation_id').notNull(),
    /** `onSuccess`, `onFailure` or `callback`. */
    condition: text('condition').notNull(),
    /** `function`, `webhook`, `redis-stream`, `amqp` or `nats`. */
    type: text('type').notNull(),
    /** Where it goes, as shown (no secrets). */
    target: text('target').notNull(),
    /** `pending`, `delivered` or `failed`. */
    status: text('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** The HTTP status of the last webhook attempt. */
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    /** The invocation a function destination made. */
    childInvocationId: uuid('child_invocation_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('deliveries_invocation_idx').on(t.invocationId), index('deliveries_function_created_idx').on(t.functionId, t.createdAt.desc())],
);

/**
 * Gradual shifts of an alias from one version to another, step by step,
 * rolled back when the new version's error rate or p99 breaks the guard.
 * At most one active (running or paused) rollout per alias.
 */
export const rollouts = pgTable(
  'rollouts',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    functionId: uuid('function_id')
      .notNull()
      .references(() => functions.id, { onDelete: 'cascade' }),
    namespace: text('namespace').notNull(),
    functionName: text('function_name').notNull(),
    alias: text('alias').notNull(),
    fromVersion: integer('from_version').notNull(),
    toVersion: integer('to_version').notNull(),
    /** Weights of `toVersion`, in order; the last is 1. */
    steps: jsonb('steps').$type<number[]>().notNull(),
    stepMs: integer('step_ms').notNull(),
    guard: jsonb('guard').$type<Record<string, number>>().notNull(),
    /** `running`, `paused`, `completed`, `rolled-back` or `aborted`. */
    status: text('status').notNull(),
    /** Index into `steps` of the weight in force. */
    stepIndex: integer('step_index').notNull().default(0),
    /** When the step in force began (its guard window starts here). */
    stepStartedAt: timestamp('step_started_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    /** When the next check is due (null once finished or while paused). */
    nextCheckAt: timestamp('next_check_at', { withTimezone: true, precision: 3 }),
    /** Why it rolled back or was aborted. */
    reason: text('reason'),
    /** One entry per check: the step, its window and both versions' numbers, and what was decided. */
    history: jsonb('history').$type<Array<Record<string, unknown>>>().notNull().default([]),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    index('rollouts_function_alias_idx').on(t.functionId, t.alias, t.createdAt.desc()),
    uniqueIndex('rollouts_one_active_key')
      .on(t.functionId, t.alias)
      .where(sql`status in ('running', 'paused')`),
  ],
);

/**
 * One row per finished invocation, written once by the worker that ran it
 * (insert-or-ignore on `id`, so a retried write never duplicates). While an
 * invocation is queued or running it lives only in the queue.
 */
export const invocations = pgTable(
  'invocations',
  {
    /** A UUIDv7 whose time is `queued_at` (older records: v4), so a lookup by id reads one day's partition. */
    id: uuid('id').notNull(),
    namespace: text('namespace').notNull(),
    /** No foreign key: history outlives a deleted function. */
    functionId: uuid('function_id').notNull(),
    functionName: text('function_name').notNull(),
    version: integer('version').notNull(),
    /** The alias the call named (its version chosen at the gateway), or null for a call pinned to a version. */
    alias: text('alias'),
    mode: text('mode').notNull(),
    /** The trigger that made this call (mode `schedule` or `event`), or null. */
    trigger: text('trigger'),
    /** The invocation whose destination made this call (a chain a → b → c), or null. */
    causedBy: uuid('caused_by'),
    /** A schedule's tick time, when the call was a tick (a tick fired late says so by the gap to queued_at). */
    scheduledFor: timestamp('scheduled_for', { withTimezone: true, precision: 3 }),
    status: text('status').notNull(),
    coldStart: boolean('cold_start').notNull(),
    /** `cold`, `prewarmed` or `warm`: how the container was acquired. */
    startKind: text('start_kind').notNull(),
    queuedAt: timestamp('queued_at', { withTimezone: true, precision: 3 }).notNull(),
    startedAt: timestamp('started_at', { withTimezone: true, precision: 3 }).notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true, precision: 3 }).notNull(),
    queueWaitMs: real('queue_wait_ms').notNull(),
    acquireMs: real('acquire_ms').notNull(),
    initMs: real('init_ms').notNull(),
    durationMs: real('duration_ms').notNull(),
    billedMs: integer('billed_ms').notNull(),
    memoryMb: integer('memory_mb').notNull(),
    errorCode: text('error_code'),
    errorType: text('error_type'),
    errorMessage: text('error_message'),
    /** The returned value as JSON text, capped; `resultTruncated` says if cut. */
    result: text('result'),
    resultTruncated: boolean('result_truncated').notNull().default(false),
    logs: text('logs').notNull().default(''),
    logsTruncated: boolean('logs_truncated').notNull().default(false),
    /** Calls of this function running on this worker when this one started (itself included). */
    concurrency: integer('concurrency').notNull().default(1),
    workerId: text('worker_id').notNull(),
  },
  (t) => [
    // Partitioned by queued_at, a partition a day (migration 0014): the partition key is in every unique key.
    primaryKey({ name: 'invocations_pkey', columns: [t.id, t.queuedAt] }),
    // Newest first with the id as tie-breaker: the order every history page is read in.
    index('invocations_function_queued_at_id_idx').on(t.functionId, t.queuedAt.desc(), t.id.desc()),
    index('invocations_namespace_queued_at_idx').on(t.namespace, t.queuedAt.desc()),
  ],
);

/** Latency histograms: int4 counts per log-scale bucket (see `gateway/metrics/histogram.ts`). */
const histogram = (name: string) => integer(name).array().notNull().default(sql`'{}'::int4[]`);

/**
 * Per-function, per-version aggregates of finished invocations, at 10 s, 1 min, 15 min and 1 h
 * resolution, written in the same statement as the records they count (only
 * rows actually inserted are counted, so a retried write cannot double
 * them). Metrics are read from here, never by scanning records.
 */
export const invocationRollups = pgTable(
  'invocation_rollups',
  {
    functionId: uuid('function_id').notNull(),
    /** The version the calls ran: metrics sum over versions, or split by them. */
    version: integer('version').notNull().default(0),
    /** Bucket width in seconds: 10, 60, 900 or 3600. */
    resolution: integer('resolution').notNull(),
    bucket: timestamp('bucket', { withTimezone: true }).notNull(),
    namespace: text('namespace').notNull(),
    functionName: text('function_name').notNull(),
    invocations: integer('invocations').notNull(),
    errors: integer('errors').notNull(),
    throttles: integer('throttles').notNull(),
    cold: integer('cold').notNull(),
    prewarmed: integer('prewarmed').notNull(),
    warm: integer('warm').notNull(),
    functionErrors: integer('function_errors').notNull(),
    timeouts: integer('timeouts').notNull(),
    outOfMemory: integer('out_of_memory').notNull(),
    crashes: integer('crashes').notNull(),
    billedMs: bigint('billed_ms', { mode: 'number' }).notNull(),
    gbSeconds: doublePrecision('gb_seconds').notNull(),
    maxConcurrency: integer('max_concurrency').notNull(),
    latencyCold: histogram('latency_cold'),
    latencyPrewarmed: histogram('latency_prewarmed'),
    latencyWarm: histogram('latency_warm'),
    duration: histogram('duration'),
    init: histogram('init'),
    queueWait: histogram('queue_wait'),
  },
  (t) => [
    primaryKey({ columns: [t.functionId, t.resolution, t.bucket, t.version] }),
    index('invocation_rollups_namespace_idx').on(t.namespace, t.resolution, t.bucket),
    index('invocation_rollups_resolution_bucket_idx').on(t.resolution, t.bucket),
  ],
);

/** Tenants. Every function, invocation and key belongs to exactly one. */
export const namespaces = pgTable('namespaces', {
  name: text('name').primaryKey(),
  /** Most invocations of all its functions running at once; null: no quota. */
  concurrencyQuota: integer('concurrency_quota'),
  /**
   * Most memory its functions may hold provisioned (sum of `minWarm` ×
   * `memoryMb` over the versions their aliases point at), in MB; null: the gateway's default.
   */
  provisionedMemoryMb: integer('provisioned_memory_mb'),
  /** Most functions it may hold; null: the gateway's default (`gateway/store/namespace-quotas.ts`). */
  maxFunctions: integer('max_functions'),
  /** Most versions one of its functions may keep (older unreferenced ones are pruned); null: the default. */
  maxVersions: integer('max_versions'),
  /** Most bytes of distinct code archives its versions may refer to; null: the default. */
  maxCodeBytes: bigint('max_code_bytes', { mode: 'number' }),
  /** Largest code archive one deploy may store, in bytes; null: the default. */
  maxUploadBytes: integer('max_upload_bytes'),
  /** Days its invocation records (with their logs) are kept; null: the platform's `HEARTH_RECORD_RETENTION`. */
  recordRetentionDays: integer('record_retention_days'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * API keys of a namespace. Only the SHA-256 of a key is stored; the key
 * itself is shown once, when created. A revoked key stops working at once.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    namespace: text('namespace')
      .notNull()
      .references(() => namespaces.name, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    keyHash: text('key_hash').notNull(),
    /** The key's first characters, to tell keys apart in listings. */
    prefix: text('prefix').notNull(),
    /**
     * The key sealed with AES-256-GCM under a master key derived from the
     * configured admin key (`gateway/lambda/credential-seal.ts`), so the
     * gateway can verify AWS SigV4 signatures made with it. Null for keys
     * created before the Lambda API existed (they work as bearer keys only).
     */
    lambdaSecret: text('lambda_secret'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('api_keys_key_hash_key').on(t.keyHash), index('api_keys_namespace_idx').on(t.namespace)],
);
