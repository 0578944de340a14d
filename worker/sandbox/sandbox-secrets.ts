/**
 * The secrets a sandbox gets at init: read sealed from Postgres when the
 * sandbox starts its function (never carried by a job: jobs pass through
 * Redis), opened with the worker's key ring, handed to the agent in the init
 * message and then dropped — nothing here keeps a value.
 *
 * Each sandbox remembers the version of every secret it was given;
 * `SecretVersions` holds the version this worker last heard is current (a
 * `secret-changed` broadcast, or the poll in `run/secret-watch.ts`). A
 * sandbox holding another version is stale: it finishes the call it has and
 * is never reused (`Sandbox.alive`), so the next call starts with the new value.
 */
import type { Logger } from '../common/logger.ts';
import { SealError, secretContext, type Sealer } from '../common/secret-sealing.ts';
import type { FunctionVersion } from '../contract/function-version.ts';

/** Where the sealed values are (`records/secrets-store.ts`). */
export interface SealedSecretSource {
  read(namespace: string, names: readonly string[]): Promise<Array<{ name: string; version: number; valueSealed: string }>>;
  /** Secrets written after `since` (database time; null: none, just the clock), and the database's clock now. */
  changedSince(since: Date | null): Promise<{ changes: Array<{ namespace: string; name: string; version: number }>; now: Date }>;
}

/** The version of each of a sandbox's secrets, by name. */
export type SecretVersionsHeld = ReadonlyMap<string, number>;

/** The versions this worker last heard are current, per namespace and name (0: deleted). */
export class SecretVersions {
  private readonly current = new Map<string, number>();

  /**
   * Hears that `version` is current (0: deleted). Versions only grow while a
   * secret lives, so an older one heard late (a poll read before a broadcast
   * arrived after it) is ignored; a deletion, or a secret made again after
   * one, always counts.
   */
  note(namespace: string, name: string, version: number): void {
    const key = `${namespace}/${name}`;
    const current = this.current.get(key);
    if (current === undefined || version === 0 || current === 0 || version > current) this.current.set(key, version);
  }

  /** False when any secret of `held` has changed since the sandbox read it. */
  fresh(namespace: string, held: SecretVersionsHeld): boolean {
    for (const [name, version] of held) {
      const current = this.current.get(`${namespace}/${name}`);
      if (current !== undefined && current !== version) return false;
    }
    return true;
  }
}

/** What the agent gets: the variables set to secrets, every referenced secret as a file, and the versions read. */
export type SecretResolution =
  | { ok: true; env: Record<string, string>; files: Record<string, string>; versions: SecretVersionsHeld }
  /** `transient`: the platform's own fault (the database did not answer), not the function's: the call waits and runs again. */
  | { ok: false; type: 'Runtime.SecretNotFound' | 'Runtime.SecretUnavailable'; message: string; transient?: boolean };

export interface SandboxSecrets {
  readonly versions: SecretVersions;
  /** The secrets `fn` references, opened; a failure (missing, unreadable) is said, never thrown. */
  resolve(fn: FunctionVersion): Promise<SecretResolution>;
}

export function createSandboxSecrets(options: { source: SealedSecretSource; sealer: Sealer; log: Logger; versions?: SecretVersions }): SandboxSecrets {
  const versions = options.versions ?? new SecretVersions();
  return {
    versions,
    async resolve(fn) {
      const refs = fn.secrets ?? [];
      let rows: Awaited<ReturnType<SealedSecretSource['read']>>;
      try {
        rows = await options.source.read(fn.namespace, refs.map((r) => r.name));
      } catch (err) {
        options.log.warn('could not read secrets for a sandbox', { functionId: fn.functionId, version: fn.version, err });
        return {
          ok: false,
          type: 'Runtime.SecretUnavailable',
          message: 'the platform could not read the function\'s secrets (the database did not answer); try again',
          transient: true,
        };
      }
      const byName = new Map(rows.map((row) => [row.name, row]));
      const missing = refs.filter((r) => !byName.has(r.name)).map((r) => r.name);
      if (missing.length > 0) {
        return { ok: false, type: 'Runtime.SecretNotFound', message: `the namespace has no secret ${missing.map((n) => `"${n}"`).join(', ')}, which this version references (deleted since it was deployed)` };
      }
      const env: Record<string, string> = {};
      const files: Record<string, string> = {};
      const held = new Map<string, number>();
      for (const ref of refs) {
        const row = byName.get(ref.name)!;
        let value: string;
        try {
          value = options.sealer.open(secretContext(fn.namespace, ref.name), row.valueSealed);
        } catch (err) {
          if (!(err instanceof SealError)) throw err;
          options.log.error('a secret does not open with this worker\'s keys', { namespace: fn.namespace, secret: ref.name, keyId: err.keyId, reason: err.reason });
          return { ok: false, type: 'Runtime.SecretUnavailable', message: `the platform could not open secret "${ref.name}" (${err.reason}); the operator has been told` };
        }
        files[ref.name] = value;
        for (const variable of ref.env) env[variable] = value;
        held.set(ref.name, row.version);
      }
      return { ok: true, env, files, versions: held };
    },
  };
}
