/**
 * Secrets as the store keeps them and the API shows them: names, versions
 * and times, never a value. The store port is implemented over Postgres
 * (`secrets-store.ts`) and in memory for the API tests.
 */

/** A secret's metadata. `version` counts the writes of its value, from 1. */
export interface StoredSecret {
  name: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** One function's versions that reference one secret, and those an alias points at. */
export interface SecretUse {
  secret: string;
  function: string;
  versions: number[];
  aliasedVersions: number[];
}

export type SecretPut = { secret: StoredSecret; created: boolean } | { refused: 'too-many'; held: number };

export type SecretRemoval =
  | { result: 'deleted'; version: number }
  | { result: 'not-found' }
  | { result: 'in-use'; functions: Array<{ function: string; versions: number[] }> };

export interface SecretStore {
  /** Writes the sealed value (a new secret at version 1, else the next version); refused when a new one would pass `maxPerNamespace`. */
  put(namespace: string, name: string, valueSealed: string, maxPerNamespace: number): Promise<SecretPut>;
  /** The namespace's secrets by name. */
  list(namespace: string): Promise<StoredSecret[]>;
  /** Which versions reference the secrets `names` (every secret when omitted). */
  uses(namespace: string, names?: readonly string[]): Promise<SecretUse[]>;
  /** The names of `names` the namespace has no secret of. */
  missing(namespace: string, names: readonly string[]): Promise<string[]>;
  /** Deletes the secret unless a version an alias points at references it. */
  remove(namespace: string, name: string): Promise<SecretRemoval>;
}

/** A secret as `GET /v1/secrets` lists it. */
export interface SecretView extends StoredSecret {
  /** Functions with a version referencing it: `inUse` when an alias points at one of those versions. */
  usedBy: Array<{ function: string; versions: number[]; inUse: boolean }>;
}
