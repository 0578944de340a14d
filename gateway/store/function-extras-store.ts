/**
 * What Hearth keeps of a function for the Lambda API beside its versions
 * and aliases: tags, the resource policy, the function URL's configuration
 * and the async invoke configuration. They are columns of `functions`, so
 * deleting a function takes them with it. Also the Lambda API's other small
 * reads and writes: a version's own `minWarm` (provisioned concurrency on a
 * version, `version-min-warm.ts`) and a namespace's usage and limits
 * (GetAccountSettings).
 *
 * What the JSON columns hold is written only through `update`, whose
 * caller (the Lambda front door) validated it; this store does not look
 * inside them.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../worker/common/database.ts';
import { functions, namespaces } from '../../migrations/schema.ts';
import { lockFunctionRow } from './aliases.ts';
import { DEFAULT_LIMITS, type FunctionStoreLimits } from './function-views.ts';
import { DEFAULT_NAMESPACE_QUOTAS, codeBytesHeld, functionCount, quotasOf } from './namespace-quotas.ts';
import { provisionedVersions, setVersionMinWarm, type ProvisionedVersion } from './version-min-warm.ts';

export type { ProvisionedVersion };

/** A resource policy statement as Lambda shows it, minus its `Resource` (named by `Qualifier`, null: the function). */
export interface StoredStatement extends Record<string, unknown> {
  Sid: string;
  Qualifier: string | null;
}

/** Lambda's function URL configuration as stored (the URL and the auth type follow from the function itself). */
export interface StoredUrlConfig extends Record<string, unknown> {
  Cors?: Record<string, unknown>;
  InvokeMode: string;
  CreationTime: string;
  LastModifiedTime: string;
}

/** Lambda's async invoke configuration as stored; a field left unset takes the platform's default. */
export interface StoredEventInvokeConfig extends Record<string, unknown> {
  MaximumRetryAttempts?: number;
  MaximumEventAgeInSeconds?: number;
  /** Epoch seconds, as Lambda answers it. */
  LastModified: number;
}

export interface FunctionExtras {
  tags: Record<string, string>;
  policy: StoredStatement[];
  urlConfig: StoredUrlConfig | null;
  eventInvokeConfig: StoredEventInvokeConfig | null;
}

/** What GetAccountSettings reports of a namespace: its usage and the limits that apply to it. */
export interface NamespaceUsage {
  functionCount: number;
  /** Bytes of the distinct code archives its versions refer to. */
  codeBytes: number;
  maxFunctions: number;
  maxCodeBytes: number;
  maxUploadBytes: number;
  /** Most calls of all its functions running at once; null: no quota. */
  concurrencyQuota: number | null;
}

export interface FunctionExtrasStore {
  /** The function's extras, or null when it does not exist. */
  get(namespace: string, name: string): Promise<FunctionExtras | null>;
  /**
   * Reads the extras under the function's row lock, applies `change` (it
   * may throw to refuse, and then nothing is written) and writes the fields
   * it answers; answers the extras as written, or null when the function
   * does not exist.
   */
  update(namespace: string, name: string, change: (current: FunctionExtras) => Partial<FunctionExtras>): Promise<FunctionExtras | null>;
  /** Sets one version's own minWarm, under the namespace's provisioned-memory quota (409 `QuotaExceeded`). */
  setVersionMinWarm(namespace: string, name: string, version: number, minWarm: number): Promise<'ok' | 'no-function' | 'no-version'>;
  /** The function's versions whose own minWarm is above 0, oldest first; null when the function does not exist. */
  provisionedVersions(namespace: string, name: string): Promise<ProvisionedVersion[] | null>;
  usage(namespace: string): Promise<NamespaceUsage>;
}

/** What an async call of the function takes from its async invoke configuration (`ResolvedVersion`): null fields are the defaults. */
export function asyncPolicyOf(config: unknown): { asyncRetries: number | null; maxEventAgeMs: number | null } {
  const stored = (config ?? {}) as Partial<StoredEventInvokeConfig>;
  return {
    asyncRetries: typeof stored.MaximumRetryAttempts === 'number' ? stored.MaximumRetryAttempts : null,
    maxEventAgeMs: typeof stored.MaximumEventAgeInSeconds === 'number' ? stored.MaximumEventAgeInSeconds * 1000 : null,
  };
}

const extrasColumns = {
  id: functions.id,
  tags: functions.tags,
  policy: functions.policy,
  urlConfig: functions.urlConfig,
  eventInvokeConfig: functions.eventInvokeConfig,
};

type ExtrasRow = { tags: Record<string, string>; policy: Array<Record<string, unknown>>; urlConfig: unknown; eventInvokeConfig: unknown };

/** The row's columns as the shapes `update` wrote them in. */
function toExtras(row: ExtrasRow): FunctionExtras {
  return {
    tags: row.tags,
    policy: row.policy as StoredStatement[],
    urlConfig: (row.urlConfig as StoredUrlConfig | null) ?? null,
    eventInvokeConfig: (row.eventInvokeConfig as StoredEventInvokeConfig | null) ?? null,
  };
}

const ofFunction = (namespace: string, name: string) => and(eq(functions.namespace, namespace), eq(functions.name, name));

/** The store over `db`; the namespace limits `limits` leaves out are the built-in defaults. */
export function createPostgresFunctionExtrasStore(db: Database, limits: FunctionStoreLimits = DEFAULT_LIMITS): FunctionExtrasStore {
  return {
    async get(namespace, name) {
      const [row] = await db.select(extrasColumns).from(functions).where(ofFunction(namespace, name)).limit(1);
      return row ? toExtras(row) : null;
    },

    update: (namespace, name, change) =>
      db.transaction(async (tx) => {
        const locked = await lockFunctionRow(tx, namespace, name);
        if (!locked) return null;
        const [row] = await tx.select(extrasColumns).from(functions).where(eq(functions.id, locked.id)).limit(1);
        const next = { ...toExtras(row!), ...change(toExtras(row!)) };
        await tx
          .update(functions)
          .set({ tags: next.tags, policy: next.policy, urlConfig: next.urlConfig, eventInvokeConfig: next.eventInvokeConfig, updatedAt: sql`now()` })
          .where(eq(functions.id, locked.id));
        return next;
      }),

    setVersionMinWarm: (namespace, name, version, minWarm) => setVersionMinWarm(db, namespace, name, version, minWarm, limits),
    provisionedVersions: (namespace, name) => provisionedVersions(db, namespace, name),

    usage: (namespace) =>
      db.transaction(async (tx) => {
        const quotas = await quotasOf(tx, namespace, limits.quotas ?? DEFAULT_NAMESPACE_QUOTAS);
        const functionsHeld = await functionCount(tx, namespace);
        const code = await codeBytesHeld(tx, namespace);
        const [ns] = await tx.select({ quota: namespaces.concurrencyQuota }).from(namespaces).where(eq(namespaces.name, namespace)).limit(1);
        return {
          functionCount: functionsHeld,
          codeBytes: code.used,
          maxFunctions: quotas.maxFunctions,
          maxCodeBytes: quotas.maxCodeBytes,
          maxUploadBytes: quotas.maxUploadBytes,
          concurrencyQuota: ns?.quota ?? null,
        };
      }),
  };
}
