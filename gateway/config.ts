/** The gateway's configuration, read once from the environment and validated. */
import { z } from 'zod';
import { CONNECTION_ENV, parseEnv } from '../worker/common/parse-env.ts';
import { DEFAULT_QUEUED_CALL_LIMITS, type QueuedCallLimits } from '../worker/contract/limits.ts';
import { DEFAULT_NAMESPACE_QUOTAS, QUOTA_RANGES, type NamespaceQuotas } from './store/namespace-quotas.ts';
import { DEFAULT_PROVISIONED_MEMORY_MB } from './store/provisioned-memory.ts';
import { DEFAULT_UPLOAD_BUDGET, type UploadBudgetLimits } from './upload-budget.ts';
import { parseAllowHosts } from './destinations/outbound-guard.ts';
import { SECRETS_KEY_ENV } from '../worker/common/secret-keyring.ts';

const MB = 1024 * 1024;

const schema = z.object({
  /** The dashboard and management API (`/v1`, the Lambda API, `/metrics`). */
  PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  /** Function endpoints (`/fn/*`): an origin of their own, never the dashboard's. */
  HEARTH_FN_PORT: z.coerce.number().int().min(1).max(65535).default(8081),
  /** Both listeners bind here. */
  HOST: z.string().default('0.0.0.0'),
  /** The function origin's base URL as clients reach it (behind a proxy or another host name); default: the request's host on HEARTH_FN_PORT. */
  HEARTH_PUBLIC_FN_URL: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')).optional(),
  ...CONNECTION_ENV,
  HEARTH_API_KEY: z.string({ error: 'HEARTH_API_KEY is required (npm start generates one)' }).min(16, 'HEARTH_API_KEY must be at least 16 characters'),
  /** Manages namespaces and keys; when unset, HEARTH_API_KEY is the admin key too. */
  HEARTH_ADMIN_KEY: z.string().min(16, 'HEARTH_ADMIN_KEY must be at least 16 characters').optional(),
  /** Extra wait, beyond a function's own timeout, before a sync caller gets 503. */
  HEARTH_SYNC_GRACE_MS: z.coerce.number().int().min(1000).default(30_000),
  /** How long a sync call to a function at its maxConcurrency may wait to start before 429. */
  HEARTH_THROTTLE_WAIT_MS: z.coerce.number().int().min(0).default(2000),
  /** Provisioned memory (minWarm × memoryMb over latest versions) a namespace may hold unless its row says otherwise. */
  HEARTH_NAMESPACE_PROVISIONED_MEMORY_MB: z.coerce.number().int().min(0).default(DEFAULT_PROVISIONED_MEMORY_MB),
  /** Async calls, and MB of their events, one function may have queued at once (429 TooManyQueuedCalls beyond). */
  HEARTH_QUEUED_CALLS_PER_FUNCTION: z.coerce.number().int().min(1).default(DEFAULT_QUEUED_CALL_LIMITS.perFunction.calls),
  HEARTH_QUEUED_MB_PER_FUNCTION: z.coerce.number().int().min(1).default(DEFAULT_QUEUED_CALL_LIMITS.perFunction.bytes / MB),
  /** The same for all of a namespace's functions together. */
  HEARTH_QUEUED_CALLS_PER_NAMESPACE: z.coerce.number().int().min(1).default(DEFAULT_QUEUED_CALL_LIMITS.perNamespace.calls),
  HEARTH_QUEUED_MB_PER_NAMESPACE: z.coerce.number().int().min(1).default(DEFAULT_QUEUED_CALL_LIMITS.perNamespace.bytes / MB),
  /** Namespace quotas unless the namespace's row sets its own (`PATCH /v1/namespaces/{ns}`). */
  HEARTH_MAX_FUNCTIONS: quota('maxFunctions'),
  HEARTH_MAX_VERSIONS: quota('maxVersions'),
  HEARTH_MAX_CODE_BYTES: quota('maxCodeBytes'),
  HEARTH_MAX_UPLOAD_BYTES: quota('maxUploadBytes'),
  /** Upload bytes in flight at once, across the gateway and for one namespace (503 UploadCapacity / 429 TooManyUploads beyond). */
  HEARTH_UPLOAD_INFLIGHT_BYTES: z.coerce.number().int().min(1).default(DEFAULT_UPLOAD_BUDGET.gatewayBytes),
  HEARTH_UPLOAD_INFLIGHT_NS_BYTES: z.coerce.number().int().min(1).default(DEFAULT_UPLOAD_BUDGET.namespaceBytes),
  /**
   * Private or loopback hosts (`host` or `host:port`, comma-separated) that webhooks, callbacks and
   * broker destinations and triggers may reach; every other private, loopback, link-local or reserved address is refused.
   */
  HEARTH_OUTBOUND_ALLOW_HOSTS: z.string().default('').transform(parseAllowHosts),
  /** Secrets: the key ring (`worker/common/secret-keyring.ts`); the default key file lives in the state directory. */
  ...SECRETS_KEY_ENV,
  HEARTH_STATE_DIR: z.string().min(1).default('/var/lib/hearth'),
});

function quota(key: keyof NamespaceQuotas) {
  const { min, max } = QUOTA_RANGES[key];
  return z.coerce.number().int().min(min).max(max).default(DEFAULT_NAMESPACE_QUOTAS[key]);
}

export type GatewayConfig = z.infer<typeof schema>;

/** Refused at start-up: one origin for both would undo the split. */
const distinctPorts = (config: GatewayConfig) => config.PORT !== config.HEARTH_FN_PORT;

/** Parses `source` (usually `process.env`); throws one error listing every problem. */
export function loadGatewayConfig(source: Record<string, string | undefined>): GatewayConfig {
  return parseEnv(
    schema.refine(distinctPorts, { message: 'HEARTH_FN_PORT must differ from PORT: function endpoints never share the dashboard\'s origin', path: ['HEARTH_FN_PORT'] }),
    source,
    'gateway',
  );
}

/** Quotas the gateway enforces on every tenant. */
export interface GatewayLimits {
  /** Provisioned memory a namespace may hold when its row sets none (`namespaces.provisioned_memory_mb`). */
  defaultProvisionedMemoryMb: number;
  queued: QueuedCallLimits;
  /** Namespace quotas whose row sets none (omitted: the built-in defaults). */
  quotas?: NamespaceQuotas;
  /** Upload bytes in flight (omitted: the built-in defaults). */
  uploads?: UploadBudgetLimits;
}

/** The limits `config` sets. */
export function gatewayLimits(config: GatewayConfig): GatewayLimits {
  return {
    defaultProvisionedMemoryMb: config.HEARTH_NAMESPACE_PROVISIONED_MEMORY_MB,
    queued: {
      perFunction: { calls: config.HEARTH_QUEUED_CALLS_PER_FUNCTION, bytes: config.HEARTH_QUEUED_MB_PER_FUNCTION * MB },
      perNamespace: { calls: config.HEARTH_QUEUED_CALLS_PER_NAMESPACE, bytes: config.HEARTH_QUEUED_MB_PER_NAMESPACE * MB },
    },
    quotas: {
      maxFunctions: config.HEARTH_MAX_FUNCTIONS,
      maxVersions: config.HEARTH_MAX_VERSIONS,
      maxCodeBytes: config.HEARTH_MAX_CODE_BYTES,
      maxUploadBytes: config.HEARTH_MAX_UPLOAD_BYTES,
    },
    uploads: { gatewayBytes: config.HEARTH_UPLOAD_INFLIGHT_BYTES, namespaceBytes: config.HEARTH_UPLOAD_INFLIGHT_NS_BYTES },
  };
}
