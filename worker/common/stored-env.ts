/**
 * A version's environment as Postgres keeps it: sealed (`secret-sealing.ts`,
 * context `env`) inside a one-key JSON object, `{"$sealed": "hs1.…"}`, in the
 * `function_versions.env` jsonb column. Rows written before sealing hold the
 * plain object; both read the same way, which is what lets the sealing of
 * old rows (`gateway/secrets/env-sealing-store.ts`) run while the platform serves.
 *
 * The column's codec (`migrations/secrets-schema.ts`) is static, as drizzle's
 * column types are, so the process's sealer is registered here once by each
 * composition root (`useEnvSealer`), as the Redis logger is. Raw SQL readers
 * (the worker's provisioned versions) call `openStoredEnv` themselves.
 */
import { ENV_CONTEXT, type Sealer } from './secret-sealing.ts';

const SEALED_KEY = '$sealed';

let processSealer: Sealer | null = null;

/** Sets the sealer every later read and write of an environment uses. */
export function useEnvSealer(sealer: Sealer): void {
  processSealer = sealer;
}

/** Whether a stored value is already sealed. */
export function isSealedEnv(stored: unknown): boolean {
  return typeof stored === 'object' && stored !== null && typeof (stored as Record<string, unknown>)[SEALED_KEY] === 'string';
}

/**
 * The stored form of `env`: sealed under the registered sealer. Without one
 * (only tests that open a store by hand), the plain object, as before sealing.
 */
export function sealEnvForStore(env: Record<string, string>, sealer: Sealer | null = processSealer): Record<string, string> {
  if (!sealer) return env;
  return { [SEALED_KEY]: sealer.seal(ENV_CONTEXT, JSON.stringify(env)) };
}

/** The environment a stored value holds; throws `SealError` when a sealed one does not open. */
export function openStoredEnv(stored: unknown, sealer: Sealer | null = processSealer): Record<string, string> {
  if (!isSealedEnv(stored)) return (stored ?? {}) as Record<string, string>;
  if (!sealer) throw new Error('a sealed environment was read, but this process has no secrets key (useEnvSealer was not called)');
  const parsed: unknown = JSON.parse(sealer.open(ENV_CONTEXT, (stored as Record<string, string>)[SEALED_KEY]!));
  return parsed as Record<string, string>;
}
