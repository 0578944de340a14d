/**
 * AWS access key ids and the Hearth keys behind them. A SigV4 request names
 * an access key id; the secret it was signed with is one of Hearth's API keys:
 *
 * - `HEARTHDEFAULT`: the platform key (`HEARTH_API_KEY`), namespace `default`;
 * - `HEARTHADMIN`: the admin key (`HEARTH_ADMIN_KEY`, when set), acting in `default`;
 * - `HK` + the key's id as 32 upper-case hex digits: a namespace key, in its
 *   namespace. Its text comes from the sealed copy made when it was created.
 *
 * Namespace keys are read from the database on every request, so a revoked
 * key stops signing at once. An access key id that names no live key is
 * remembered for a short while (the miss cache `auth.ts` uses for bearer
 * keys), so repeating it costs one query per TTL, not one per request. That
 * is safe because key ids are random: an id that missed does not become a
 * key later, and a revoked key stays revoked.
 */
import { MAX_MISSES, sha256Hex } from '../auth.ts';
import { MissCache } from '../miss-cache.ts';
import type { TenantsStore } from '../store/tenants-store.ts';
import type { CredentialSealer } from './credential-seal.ts';
import { LambdaError } from './lambda-errors.ts';

const PLATFORM_ACCESS_KEY_ID = 'HEARTHDEFAULT';
const ADMIN_ACCESS_KEY_ID = 'HEARTHADMIN';

/** The access key id of a namespace key. */
export function accessKeyIdOf(keyId: string): string {
  return `HK${keyId.replace(/-/g, '').toUpperCase()}`;
}

/** The key id (uuid) an access key id names, or null when it is not a namespace key's. */
function keyIdOf(accessKeyId: string): string | null {
  const match = /^HK([0-9A-F]{8})([0-9A-F]{4})([0-9A-F]{4})([0-9A-F]{4})([0-9A-F]{12})$/.exec(accessKeyId);
  return match ? match.slice(1).join('-').toLowerCase() : null;
}

/** Who signed: the namespace the request acts in and the secret to verify with. */
export interface LambdaCaller {
  namespace: string;
  secret: string;
}

export interface CredentialResolverOptions {
  apiKey: string;
  adminKey?: string;
  tenants: Pick<TenantsStore, 'lambdaCredential'>;
  sealer: CredentialSealer;
  /** Told when a sealed secret exists but cannot be opened (the admin key changed). */
  onUnreadable(keyId: string): void;
  /** How long an access key id that named no live key is refused without a lookup (default 10 s; 0 turns it off). */
  missTtlMs?: number;
}

/** Resolves an access key id; throws UnrecognizedClientException for an unknown or unusable one. */
export function createCredentialResolver(options: CredentialResolverOptions) {
  const unknown = () => new LambdaError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  const misses = new MissCache(options.missTtlMs ?? 10_000, MAX_MISSES);
  return async (accessKeyId: string): Promise<LambdaCaller> => {
    if (accessKeyId === PLATFORM_ACCESS_KEY_ID) return { namespace: 'default', secret: options.apiKey };
    if (accessKeyId === ADMIN_ACCESS_KEY_ID && options.adminKey) return { namespace: 'default', secret: options.adminKey };
    const keyId = keyIdOf(accessKeyId);
    if (!keyId || misses.has(keyId)) throw unknown();
    const row = await options.tenants.lambdaCredential(keyId);
    if (!row) {
      misses.add(keyId);
      throw unknown();
    }
    if (row.sealedSecret === null) {
      throw new LambdaError(
        'UnrecognizedClientException',
        'This key was created before Hearth offered the Lambda API and has no SigV4 secret; create a new key for the namespace.',
      );
    }
    const secret = options.sealer.open(keyId, row.namespace, row.sealedSecret);
    // The hash check guards against a sealed copy that opens but is not this key's.
    if (secret === null || sha256Hex(secret) !== row.keyHash) {
      options.onUnreadable(keyId);
      throw new LambdaError(
        'UnrecognizedClientException',
        "This key's SigV4 secret cannot be read (the admin key changed since it was created); create a new key for the namespace.",
      );
    }
    return { namespace: row.namespace, secret };
  };
}
