/** The worker's configuration, read once from the environment and validated. */
import { hostname, totalmem } from 'node:os';
import { z } from 'zod';
import { isRuntimeName, RUNTIME_NAMES, type RuntimeName } from '../runtime-images/runtimes.ts';
import { MEMORY_MB } from './contract/limits.ts';
import { CONNECTION_ENV, parseEnv } from './common/parse-env.ts';
import { SECRETS_KEY_ENV } from './common/secret-keyring.ts';
import { parseRecordRetention, parseRollupRetention } from './common/retention-settings.ts';
import type { PrewarmTarget } from './pool/sandbox-pool.ts';

const schema = z.object({
  ...CONNECTION_ENV,
  HEARTH_WORKER_ID: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'letters, digits, "_", "." or "-", at most 63')
    .default(hostname().replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 63) || 'worker'),
  HEARTH_STATE_DIR: z.string().min(1).default('/var/lib/hearth'),
  /** Secrets: the key ring the worker opens them with (`common/secret-keyring.ts`). */
  ...SECRETS_KEY_ENV,
  HEARTH_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(32),
  HEARTH_KEEP_ALIVE_MS: z.coerce.number().int().min(1000).default(5 * 60_000),
  HEARTH_START_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** Sum of container memory limits the worker may hold; default 80% of the host's memory. */
  HEARTH_MEMORY_BUDGET_MB: z.coerce
    .number()
    .int()
    .min(64)
    .default(Math.floor((totalmem() / 1024 / 1024) * 0.8)),
  /** Pre-warmed generic containers: `runtime:memoryMb=count`, comma-separated; empty for none. */
  HEARTH_PREWARM: z
    .string()
    .default('nodejs20:128=2,python3:128=1')
    .transform((text, ctx) => {
      try {
        return parsePrewarm(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** Runtimes this worker serves, comma-separated (`nodejs20,python3`); default every runtime whose image it has. */
  HEARTH_RUNTIMES: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return undefined;
      try {
        return parseRuntimeList(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  HEARTH_PROVISION_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
  /** Async calls queued longer than this are recorded as expired, not run (Lambda's default: 6 h). */
  HEARTH_MAX_EVENT_AGE_MS: z.coerce.number().int().min(1000).default(6 * 3600_000),
  /** Idle time before a sandbox is frozen (docker pause); -1 turns freezing off. */
  HEARTH_PAUSE_GRACE_MS: z.coerce.number().int().min(-1).default(50),
  /** Least CPU ceiling of a sandbox, in cores (the ceiling is memoryMb / 1769, up to the host's cores). */
  HEARTH_CPU_FLOOR: z.coerce.number().min(0.01).default(0.5),
  /** Cores a sandbox may use from its start until its init ends (at most 1 s into init); unset: the host's; 0 turns it off. */
  HEARTH_INIT_CPUS: z.coerce.number().min(0).optional(),
  /** Fraction of the memory budget one namespace's provisioned (minWarm) containers may hold. */
  HEARTH_PROVISIONED_SHARE: z.coerce.number().gt(0).max(1).default(0.5),
  /** Unpacked code the worker keeps on disk (least recently used evicted first). */
  HEARTH_WORKER_CODE_CACHE_MB: z.coerce.number().int().min(64).default(2048),
  /** Prometheus `/metrics` of the worker; 0 turns it off. */
  HEARTH_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  HEARTH_METRICS_HOST: z.string().default('127.0.0.1'),
  /** Days invocation records (with their logs) are kept (`7d`, `36h`); a namespace may set its own. */
  HEARTH_RECORD_RETENTION: z
    .string()
    .optional()
    .transform((text, ctx) => parsed(ctx, () => parseRecordRetention(text))),
  /** How long each rollup resolution is kept: `10s=24h,1m=7d,15m=31d,1h=400d`. */
  HEARTH_ROLLUP_RETENTION: z
    .string()
    .optional()
    .transform((text, ctx) => parsed(ctx, () => parseRollupRetention(text))),
  /** How often one worker makes partitions ahead and removes what retention no longer keeps; each worker sweeps its code cache as often. */
  HEARTH_HOUSEKEEPING_MS: z.coerce.number().int().min(1000).default(3_600_000),
  /** How often one worker vacuums the rollups while the server's autovacuum is off (with it on, never). */
  HEARTH_ROLLUP_VACUUM_MS: z.coerce.number().int().min(1000).default(60_000),
  DOCKER_HOST: z
    .string()
    .regex(/^unix:\/\//, 'only unix:// sockets are supported')
    .optional(),
});

export type WorkerConfig = z.infer<typeof schema>;

/** `parse()`'s value, or a zod issue with its message. */
function parsed<T>(ctx: z.RefinementCtx, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
}

/** `nodejs20:128=2,python3:256=1` → targets; throws on anything malformed. */
export function parsePrewarm(text: string): PrewarmTarget[] {
  const targets: PrewarmTarget[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^([a-z0-9]+):(\d+)=(\d+)$/.exec(part);
    if (!match || !isRuntimeName(match[1]!)) {
      throw new Error(`HEARTH_PREWARM entry "${part}" must look like nodejs20:128=2 with a known runtime`);
    }
    const memoryMb = Number(match[2]);
    if (memoryMb < MEMORY_MB.min || memoryMb > MEMORY_MB.max) throw new Error(`HEARTH_PREWARM memory ${memoryMb} is out of range`);
    targets.push({ runtime: match[1] as RuntimeName, memoryMb, count: Number(match[3]) });
  }
  return targets;
}

/** `nodejs20,python3` → those runtimes; throws on an unknown name or an empty list. */
export function parseRuntimeList(text: string): RuntimeName[] {
  const names = [...new Set(text.split(',').map((p) => p.trim()).filter(Boolean))];
  const unknown = names.filter((name) => !isRuntimeName(name));
  if (unknown.length > 0) throw new Error(`HEARTH_RUNTIMES names unknown runtime(s) ${unknown.map((n) => `"${n.slice(0, 32)}"`).join(', ')}: use ${RUNTIME_NAMES.join(', ')}`);
  if (names.length === 0) throw new Error(`HEARTH_RUNTIMES is empty: name at least one of ${RUNTIME_NAMES.join(', ')}, or leave it unset for all`);
  return names as RuntimeName[];
}

/** Parses `source` (usually `process.env`); throws one error listing every problem. */
export function loadWorkerConfig(source: Record<string, string | undefined>): WorkerConfig {
  return parseEnv(schema, source, 'worker');
}
