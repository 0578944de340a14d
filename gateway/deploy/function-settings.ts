/**
 * Validation of everything a deploy or invoke names besides the code:
 * function names, runtime, handler, limits and environment. Pure functions,
 * so the rules are unit-tested without a server.
 */
import { z } from 'zod';
import { RUNTIME_NAMES, RUNTIMES, resolveRuntime, type RuntimeName } from '../../runtime-images/runtimes.ts';
import { MEMORY_MB } from '../../worker/contract/limits.ts';
import { HearthError, badRequest } from '../errors.ts';
import { DNS_LABEL } from '../ids.ts';
import { handlerProblems } from './handler-rules.ts';

export { assertHandlerFileExists, isReservedHandlerFunction } from './handler-rules.ts';

export { MEMORY_MB };

export const TIMEOUT_MS = { min: 100, max: 900_000, default: 3000 } as const;
export const KEEP_ALIVE_MS = { min: 1000, max: 3_600_000 } as const;
export const MIN_WARM = { min: 0, max: 1000 } as const;
export const MAX_CONCURRENCY = { min: 1, max: 10_000 } as const;
/** Lambda's cap on the total size of a function's environment. */
export const ENV_MAX_BYTES = 4096;

/** Throws `InvalidName` unless `name` is a DNS label (`[a-z0-9-]{1,63}`, no leading/trailing `-`). */
export function assertFunctionName(name: string): void {
  if (!DNS_LABEL.test(name)) {
    throw badRequest(
      'InvalidName',
      `function name "${truncate(name)}" is not valid: use 1-63 lowercase letters, digits and "-", starting and ending with a letter or digit`,
    );
  }
}

const envKey = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const reservedEnv = /^(HEARTH_|AWS_LAMBDA_|LAMBDA_|_HANDLER$|NODE_OPTIONS$)/;

const intField = <F extends number | null>(label: string, min: number, max: number, fallback: F) =>
  z
    .string()
    .optional()
    .transform((v, ctx): number | F => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${label} must be an integer from ${min} to ${max}, got "${truncate(v)}"` });
        return z.NEVER;
      }
      return n;
    });

const fieldsSchema = z.object({
  runtime: z
    .string({ error: `runtime is required (one of ${RUNTIME_NAMES.join(', ')}, or a Lambda runtime name)` })
    .transform((v, ctx) => {
      const resolved = resolveRuntime(v);
      if (resolved) return resolved;
      ctx.addIssue({ code: 'custom', message: `runtime must be one of ${RUNTIME_NAMES.join(', ')} (or a Lambda name: ${lambdaNames()}), got "${truncate(v)}"` });
      return z.NEVER;
    }),
  handler: z.string().optional(),
  memoryMb: intField('memoryMb', MEMORY_MB.min, MEMORY_MB.max, MEMORY_MB.default),
  timeoutMs: intField('timeoutMs', TIMEOUT_MS.min, TIMEOUT_MS.max, TIMEOUT_MS.default),
  keepAliveMs: intField('keepAliveMs', KEEP_ALIVE_MS.min, KEEP_ALIVE_MS.max, null),
  minWarm: intField('minWarm', MIN_WARM.min, MIN_WARM.max, 0),
  maxConcurrency: intField('maxConcurrency', MAX_CONCURRENCY.min, MAX_CONCURRENCY.max, null),
  network: z
    .enum(['none', 'egress'], { error: 'network must be "none" (the default: no network at all) or "egress" (internet only)' })
    .optional(),
  public: z
    .enum(['true', 'false'], { error: 'public must be true or false' })
    .optional(),
  env: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return {};
      let parsed: unknown;
      try {
        parsed = JSON.parse(v);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'env must be a JSON object of strings, and is not valid JSON' });
        return z.NEVER;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        ctx.addIssue({ code: 'custom', message: 'env must be a JSON object of strings' });
        return z.NEVER;
      }
      const env: Record<string, string> = {};
      for (const [key, value] of Object.entries(parsed)) {
        if (!envKey.test(key)) ctx.addIssue({ code: 'custom', message: `env key "${truncate(key)}" is not a valid variable name` });
        // A valid name, but one every plain JavaScript object treats as its prototype: it would vanish on the way.
        else if (key === '__proto__') ctx.addIssue({ code: 'custom', message: 'env key "__proto__" is not allowed' });
        else if (reservedEnv.test(key)) ctx.addIssue({ code: 'custom', message: `env key "${key}" is reserved by the platform` });
        if (typeof value !== 'string') ctx.addIssue({ code: 'custom', message: `env value for "${truncate(key)}" must be a string` });
        else if (value.includes('\0')) ctx.addIssue({ code: 'custom', message: `env value for "${truncate(key)}" contains a NUL byte` });
        // Postgres refuses a lone surrogate in jsonb: the caller's mistake, said as such.
        else if (!value.isWellFormed()) ctx.addIssue({ code: 'custom', message: `env value for "${truncate(key)}" is not well-formed Unicode (a lone surrogate)` });
        else env[key] = value;
      }
      if (Buffer.byteLength(JSON.stringify(env)) > ENV_MAX_BYTES) {
        ctx.addIssue({ code: 'custom', message: `env is larger than ${ENV_MAX_BYTES} bytes` });
      }
      return env;
    }),
});

export interface FunctionSettings {
  runtime: RuntimeName;
  /** The runtime name as the deploy gave it, when it was a Lambda name (`nodejs22.x`) resolved to `runtime`. */
  runtimeRequested?: string;
  handler: string;
  memoryMb: number;
  timeoutMs: number;
  env: Record<string, string>;
  /** Null: the worker's default keep-alive. */
  keepAliveMs: number | null;
  minWarm: number;
  /** Null: no per-function limit. */
  maxConcurrency: number | null;
  network: 'none' | 'egress';
  /** `/fn/{name}` answers without a key. */
  public: boolean;
}

/**
 * Validates the text fields of a deploy. Throws one `InvalidParameter`
 * error listing every problem at once.
 */
export function parseFunctionSettings(fields: Record<string, string | undefined>): FunctionSettings {
  const parsed = fieldsSchema.safeParse(fields);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => i.message);
  // The handler's rules depend on the runtime, so they are checked once it is known.
  const handlerGiven = fields.handler === undefined || fields.handler === '' ? undefined : fields.handler;
  if (parsed.success && handlerGiven !== undefined) problems.push(...handlerProblems(parsed.data.runtime.runtime, handlerGiven));
  if (!parsed.success || problems.length > 0) {
    throw new HearthError('InvalidParameter', problems.join('; '), { problems });
  }
  const { memoryMb, timeoutMs, env, keepAliveMs, minWarm, maxConcurrency, network } = parsed.data;
  const { runtime, requested } = parsed.data.runtime;
  const handler = handlerGiven;
  if (maxConcurrency !== null && minWarm > maxConcurrency) {
    throw new HearthError('InvalidParameter', `minWarm (${minWarm}) cannot exceed maxConcurrency (${maxConcurrency})`, {
      problems: [`minWarm (${minWarm}) cannot exceed maxConcurrency (${maxConcurrency})`],
    });
  }
  return {
    runtime,
    ...(requested !== runtime ? { runtimeRequested: requested } : {}),
    handler: handler ?? RUNTIMES[runtime].defaultHandler,
    memoryMb,
    timeoutMs,
    env,
    keepAliveMs,
    minWarm,
    maxConcurrency,
    network: network ?? 'none',
    public: parsed.data.public === 'true',
  };
}

function lambdaNames(): string {
  return RUNTIME_NAMES.flatMap((r) => RUNTIMES[r].lambdaRuntimes).join(', ');
}

function truncate(text: string, max = 64): string {
  const safe = text.replace(/[\u0000-\u001f]/g, '?');
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
}
