/**
 * Validation of everything a deploy or invoke names besides the code:
 * function names, runtime, handler, limits, environment and the secrets it
 * references (by name: whether they exist is the deploy's check). Pure functions,
 * so the rules are unit-tested without a server.
 */
import { z } from 'zod';
import { RUNTIME_NAMES, RUNTIMES, resolveRuntime, type RuntimeName } from '../../runtime-images/runtimes.ts';
import { MEMORY_MB } from '../../worker/contract/limits.ts';
import { MAX_SECRETS_PER_VERSION, SECRET_NAME } from '../../worker/contract/function-version.ts';
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
      const parsed = parseEnvField(v);
      for (const problem of parsed.problems) ctx.addIssue({ code: 'custom', message: problem });
      return parsed.problems.length > 0 ? z.NEVER : parsed;
    }),
  secrets: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const parsed = parseSecretsField(v);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      return parsed;
    }),
});

export interface FunctionSettings {
  runtime: RuntimeName;
  /** The runtime name as the deploy gave it, when it was a Lambda name (`nodejs22.x`) resolved to `runtime`. */
  runtimeRequested?: string;
  handler: string;
  memoryMb: number;
  timeoutMs: number;
  /** Plain variables only: a variable set to a secret is in `secretEnv`. */
  env: Record<string, string>;
  /**
   * Every namespace secret the version references, sorted: the deploy's
   * `secrets` list and those `env` names with `{"secret": name}`. Each is a
   * file under `/run/secrets`; the deploy refuses a name the namespace lacks.
   * Absent: none.
   */
  secrets?: string[];
  /** Variables set to a secret's value: variable → secret name; absent: none. */
  secretEnv?: Record<string, string>;
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
  const { memoryMb, timeoutMs, keepAliveMs, minWarm, maxConcurrency, network } = parsed.data;
  const { env, secretEnv } = parsed.data.env;
  const secrets = [...new Set([...parsed.data.secrets, ...Object.values(secretEnv)])].sort();
  if (secrets.length > MAX_SECRETS_PER_VERSION) {
    const problem = `a version may reference at most ${MAX_SECRETS_PER_VERSION} secrets (secrets and env together name ${secrets.length})`;
    throw new HearthError('InvalidParameter', problem, { problems: [problem] });
  }
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
    // Left out when empty: a version without secrets reads as it always did.
    ...(secrets.length > 0 ? { secrets } : {}),
    ...(Object.keys(secretEnv).length > 0 ? { secretEnv } : {}),
    keepAliveMs,
    minWarm,
    maxConcurrency,
    network: network ?? 'none',
    public: parsed.data.public === 'true',
  };
}

/** `env`: a JSON object whose values are strings or `{"secret": "<name>"}`. */
function parseEnvField(text: string | undefined): { env: Record<string, string>; secretEnv: Record<string, string>; problems: string[] } {
  const env: Record<string, string> = {};
  const secretEnv: Record<string, string> = {};
  const problems: string[] = [];
  if (text === undefined || text.trim() === '') return { env, secretEnv, problems };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { env, secretEnv, problems: [`env must be ${ENV_SHAPE}, and is not valid JSON`] };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { env, secretEnv, problems: [`env must be ${ENV_SHAPE}`] };
  for (const [key, value] of Object.entries(parsed)) {
    if (!envKey.test(key)) problems.push(`env key "${truncate(key)}" is not a valid variable name`);
    // A valid name, but one every plain JavaScript object treats as its prototype: it would vanish on the way.
    else if (key === '__proto__') problems.push('env key "__proto__" is not allowed');
    else if (reservedEnv.test(key)) problems.push(`env key "${key}" is reserved by the platform`);
    const reference = secretReferenceOf(value);
    if (reference !== null) {
      if (typeof reference === 'string' && SECRET_NAME.test(reference)) secretEnv[key] = reference;
      else problems.push(`env value for "${truncate(key)}" must be a string or {"secret": "<name>"} with a secret name of 1-63 characters a-z 0-9 . _ - (starting with a letter or digit)`);
    } else if (typeof value !== 'string') problems.push(`env value for "${truncate(key)}" must be a string or {"secret": "<name>"}`);
    else if (value.includes('\0')) problems.push(`env value for "${truncate(key)}" contains a NUL byte`);
    // Postgres refuses a lone surrogate in jsonb: the caller's mistake, said as such.
    else if (!value.isWellFormed()) problems.push(`env value for "${truncate(key)}" is not well-formed Unicode (a lone surrogate)`);
    else env[key] = value;
  }
  // Lambda's cap, over the environment as given (a reference counts as its JSON).
  if (Buffer.byteLength(JSON.stringify(parsed)) > ENV_MAX_BYTES) problems.push(`env is larger than ${ENV_MAX_BYTES} bytes`);
  return { env, secretEnv, problems };
}

const ENV_SHAPE = 'a JSON object of strings (or {"secret": "<name>"} for a namespace secret)';

/** The secret an env value names (`{"secret": x}` and nothing else), null when it is no such object. */
function secretReferenceOf(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === 'secret' ? (value as { secret: unknown }).secret : keys.includes('secret') ? undefined : null;
}

/** `secrets`: a JSON array of secret names, each once; a message when it is not. */
function parseSecretsField(text: string | undefined): string[] | string {
  if (text === undefined || text.trim() === '') return [];
  const rule = `secrets must be a JSON array of at most ${MAX_SECRETS_PER_VERSION} distinct secret names (1-63 characters a-z 0-9 . _ -, starting with a letter or digit)`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `${rule}, and is not valid JSON`;
  }
  if (!Array.isArray(parsed) || parsed.length > MAX_SECRETS_PER_VERSION) return rule;
  const bad = parsed.find((name) => typeof name !== 'string' || !SECRET_NAME.test(name));
  if (bad !== undefined) return `${rule}: ${typeof bad === 'string' ? `"${truncate(bad)}"` : JSON.stringify(bad)?.slice(0, 64)} is not one`;
  if (new Set(parsed).size !== parsed.length) return `${rule}: a name is listed twice`;
  return parsed as string[];
}

function lambdaNames(): string {
  return RUNTIME_NAMES.flatMap((r) => RUNTIMES[r].lambdaRuntimes).join(', ');
}

function truncate(text: string, max = 64): string {
  const safe = text.replace(/[\u0000-\u001f]/g, '?');
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
}
