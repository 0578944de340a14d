/**
 * A function version as everything downstream of the gateway sees it: what a
 * job carries, what a sandbox is bound to, what pools are keyed by. The
 * gateway builds it from the metadata once; a worker never reads metadata.
 */
import { z } from 'zod';
import { RUNTIME_NAMES, type RuntimeName } from '../../runtime-images/runtimes.ts';
import { MEMORY_MB } from './limits.ts';

/** Postgres int4: the widest integer a version or limit column holds. */
const INT4_MAX = 2_147_483_647;

/** A namespace secret's name: also its file name under `/run/secrets`. */
export const SECRET_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** Most secrets one version may reference (each at most `SECRET_VALUE_MAX_BYTES`: together well within the 1 MiB `/run/secrets`). */
export const MAX_SECRETS_PER_VERSION = 32;
/** Largest secret value, in bytes of UTF-8. */
export const SECRET_VALUE_MAX_BYTES = 16 * 1024;

/**
 * A secret a version references, by name only: never its value, which the
 * worker reads sealed from Postgres when it starts a sandbox. Every one is
 * written to `/run/secrets/<name>`; `env` lists the variables set to it.
 */
export const secretRefSchema = z.object({
  name: z.string().regex(SECRET_NAME),
  env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/)).max(256),
});

export type SecretRef = z.infer<typeof secretRefSchema>;

export const functionVersionSchema = z.object({
  functionId: z.string().min(1).max(64),
  namespace: z.string().min(1).max(64),
  functionName: z.string().min(1).max(64),
  version: z.number().int().min(1).max(INT4_MAX),
  runtime: z.enum(RUNTIME_NAMES as [RuntimeName, ...RuntimeName[]]),
  handler: z.string().min(1).max(256),
  memoryMb: z.number().int().min(MEMORY_MB.min).max(MEMORY_MB.max),
  timeoutMs: z.number().int().min(1).max(INT4_MAX),
  env: z.record(z.string(), z.string()),
  /** `none`: no network at all; `egress`: internet only, never the host or private ranges. */
  network: z.enum(['none', 'egress']),
  /** The namespace secrets it references; absent or empty: none. */
  secrets: z.array(secretRefSchema).max(MAX_SECRETS_PER_VERSION).optional(),
});

/** The function version a job runs and a sandbox is bound to. */
export type FunctionVersion = z.infer<typeof functionVersionSchema>;

/**
 * Pool key of a sandbox assigned to a function version: only calls to that
 * version share it. Reports list warm containers by it, and routing matches on it.
 */
export function sandboxKey(fn: { functionId: string; version: number }): string {
  return `${fn.functionId}@${fn.version}`;
}

/** A version's references as the contract carries them, from the stored names and variables (`secretEnv`: variable → secret name). */
export function secretRefsOf(secrets: readonly string[], secretEnv: Readonly<Record<string, string>>): SecretRef[] {
  return secrets.map((name) => ({ name, env: Object.keys(secretEnv).filter((key) => secretEnv[key] === name).sort() }));
}

/** Pool key of a pre-warmed sandbox: its runtime and memory class. */
export function prewarmKey(runtime: RuntimeName, memoryMb: number): string {
  return `prewarm:${runtime}:${memoryMb}`;
}
