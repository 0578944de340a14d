/**
 * Namespace secrets: set, list, delete, and the deploy's check that the
 * secrets a version names exist. Values are sealed here, before the store
 * sees them, and never leave this file again: answers carry names,
 * versions and times; messages carry names and sizes.
 *
 * Every change is announced (`secret-changed`), so workers stop reusing
 * sandboxes started with the old value: calls that hold one finish with it,
 * the next call starts a fresh sandbox that reads the new one.
 */
import { secretContext, type Sealer } from '../../worker/common/secret-sealing.ts';
import type { ControlMessage } from '../../worker/contract/messages.ts';
import { HearthError } from '../errors.ts';
import { quotaExceeded } from '../store/namespace-quotas.ts';
import { assertSecretName, assertSecretValue, MAX_SECRETS_PER_NAMESPACE } from './secret-rules.ts';
import type { SecretStore, SecretView, StoredSecret } from './secret-views.ts';

export interface SecretServiceDeps {
  store: SecretStore;
  sealer: Sealer;
  announce(message: ControlMessage): Promise<void>;
  /** Most secrets one namespace holds (default `MAX_SECRETS_PER_NAMESPACE`). */
  maxPerNamespace?: number;
}

export interface SecretService {
  /** Sets the value (creating the secret, or its next version). */
  put(namespace: string, name: string, value: string): Promise<{ secret: StoredSecret; created: boolean }>;
  list(namespace: string): Promise<SecretView[]>;
  /** Deletes it; 409 `SecretInUse` while a version an alias points at references it. */
  remove(namespace: string, name: string): Promise<void>;
  /** 404 `SecretNotFound` unless the namespace has every secret of `names` (another namespace's are not seen). */
  assertExist(namespace: string, names: readonly string[]): Promise<void>;
}

export function createSecretService(deps: SecretServiceDeps): SecretService {
  const max = deps.maxPerNamespace ?? MAX_SECRETS_PER_NAMESPACE;
  const changed = (namespace: string, name: string, version: number) => deps.announce({ type: 'secret-changed', namespace, name, version });
  return {
    async put(namespace, name, value) {
      assertSecretName(name);
      assertSecretValue(value);
      const written = await deps.store.put(namespace, name, deps.sealer.seal(secretContext(namespace, name), value), max);
      if ('refused' in written) {
        throw quotaExceeded('secrets', max, written.held, `the namespace holds ${written.held} secrets, its limit; delete one first`);
      }
      await changed(namespace, name, written.secret.version);
      return written;
    },

    async list(namespace) {
      const [rows, uses] = await Promise.all([deps.store.list(namespace), deps.store.uses(namespace)]);
      return rows.map((row) => ({
        ...row,
        usedBy: uses
          .filter((use) => use.secret === row.name)
          .map((use) => ({ function: use.function, versions: use.versions, inUse: use.aliasedVersions.length > 0 })),
      }));
    },

    async remove(namespace, name) {
      assertSecretName(name);
      const removal = await deps.store.remove(namespace, name);
      if (removal.result === 'not-found') throw notFound(name);
      if (removal.result === 'in-use') {
        const list = removal.functions.map((f) => `${f.function} (version${f.versions.length > 1 ? 's' : ''} ${f.versions.join(', ')})`).join(', ');
        throw new HearthError('SecretInUse', `secret "${name}" is referenced by ${list}, which an alias points at: deploy without it, or delete the function, first`, {
          functions: removal.functions,
        });
      }
      // Sandboxes started with it stop being reused; a pinned old version that still names it fails at init.
      await changed(namespace, name, 0);
    },

    async assertExist(namespace, names) {
      const missing = await deps.store.missing(namespace, names);
      if (missing.length > 0) {
        throw new HearthError('SecretNotFound', `the namespace has no secret ${missing.map((n) => `"${n}"`).join(', ')} (set it first: hearth secret set <name>)`, { secrets: missing });
      }
    },
  };
}

function notFound(name: string): HearthError {
  return new HearthError('SecretNotFound', `the namespace has no secret "${name}"`);
}
