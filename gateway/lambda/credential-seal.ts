/**
 * Keeping namespace keys usable as SigV4 secrets without keeping them
 * readable in the database. SigV4 proves knowledge of a secret by an HMAC the
 * server must recompute, so the server needs the key itself, yet `api_keys`
 * holds only its SHA-256. When a key is created its text is therefore also
 * stored sealed: AES-256-GCM under a master key derived (HKDF-SHA256) from
 * the admin key in the configuration (the platform key when no separate
 * admin key is set). A copy of the database alone reveals nothing; the
 * additional data binds each sealed secret to its key id and namespace, so
 * it cannot be moved to another row.
 *
 * Changing the admin key makes existing sealed secrets unreadable: those
 * keys keep working as bearer keys, and need replacing for SigV4.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const SALT = 'hearth/lambda-credentials';
const INFO = 'api_keys.lambda_secret aes-256-gcm v1';

/** Seals and opens namespace keys; `open` returns null for anything it cannot authenticate. */
export interface CredentialSealer {
  seal(keyId: string, namespace: string, key: string): string;
  open(keyId: string, namespace: string, sealed: string): string | null;
}

/** A sealer keyed from the configured keys (`adminKey` if set, else `apiKey`). */
export function createCredentialSealer(keys: { apiKey: string; adminKey?: string }): CredentialSealer {
  const master = Buffer.from(hkdfSync('sha256', keys.adminKey ?? keys.apiKey, SALT, INFO, 32));
  const aad = (keyId: string, namespace: string) => Buffer.from(`api_keys:${keyId}:${namespace}`);
  return {
    seal(keyId, namespace, key) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', master, iv);
      cipher.setAAD(aad(keyId, namespace));
      const sealed = Buffer.concat([cipher.update(key, 'utf8'), cipher.final()]);
      return [VERSION, iv, sealed, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    open(keyId, namespace, text) {
      const [version, iv, sealed, tag] = text.split('.');
      if (version !== VERSION || iv === undefined || sealed === undefined || tag === undefined) return null;
      try {
        const decipher = createDecipheriv('aes-256-gcm', master, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
        decipher.setAAD(aad(keyId, namespace));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        return null;
      }
    },
  };
}
