/**
 * The one way Hearth seals a value at rest for functions: namespace secrets
 * and every version's environment. AES-256-GCM under the platform's secrets
 * master key (`HEARTH_SECRETS_KEY`, or the key file `npm start` keeps), a
 * fresh 96-bit nonce per value, and additional data naming what the value
 * is (`secret:<namespace>/<name>`, `env`), so a sealed value copied to
 * another row or namespace no longer opens.
 *
 * Sealed text: `hs1.<key id>.<nonce>.<ciphertext>.<tag>` (base64url parts).
 * The key id is a digest of the key, never the key: a ring holds the key
 * that seals (the first) and older ones that still open, which is what
 * lets `npm run secrets:rotate-key` re-seal everything while the platform
 * runs. Both deployables use it: the gateway seals, the worker opens at init.
 *
 * Errors never carry a value or a key, only the key id and what was wrong.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const FORMAT = 'hs1';
const GENERATED_PREFIX = 'hsk_';

export interface MasterKey {
  /** 12 hex digits of a digest of the key: names it in sealed text and messages. */
  readonly id: string;
  readonly key: Buffer;
}

/** The keys a process holds: `primary` seals, every key in `byId` opens. */
export interface Keyring {
  readonly primary: MasterKey;
  readonly byId: ReadonlyMap<string, MasterKey>;
}

/** A value that does not open: which key it names, and why. Never holds the value. */
export class SealError extends Error {
  override name = 'SealError';
  constructor(
    readonly reason: 'malformed' | 'unknown-key' | 'unauthentic',
    message: string,
    readonly keyId?: string,
  ) {
    super(message);
  }
}

/** A new master key's text: `hsk_` and 32 random bytes in base64url. */
export function generateKeyText(): string {
  return `${GENERATED_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/**
 * One master key from its text: `hsk_<base64url of 32 bytes>` (what Hearth
 * generates), 64 hex digits, or any other text of at least 32 characters
 * (stretched with HKDF-SHA256, so an operator may paste a passphrase).
 */
export function parseMasterKey(text: string): MasterKey {
  const trimmed = text.trim();
  let key: Buffer;
  if (trimmed.startsWith(GENERATED_PREFIX) && /^[A-Za-z0-9_-]{43}$/.test(trimmed.slice(GENERATED_PREFIX.length))) {
    key = Buffer.from(trimmed.slice(GENERATED_PREFIX.length), 'base64url');
  } else if (/^[0-9a-fA-F]{64}$/.test(trimmed)) {
    key = Buffer.from(trimmed, 'hex');
  } else if (trimmed.length >= 32) {
    key = Buffer.from(hkdfSync('sha256', trimmed, 'hearth/secrets', 'master key v1', 32));
  } else {
    throw new Error('a secrets master key must be hsk_ and 43 base64url characters, 64 hex digits, or at least 32 characters of text');
  }
  const id = createHash('sha256').update('hearth/secrets key id').update(key).digest('hex').slice(0, 12);
  return { id, key };
}

/** A ring from text: keys separated by commas or newlines, the first one seals. Throws on a malformed or empty list. */
export function parseKeyring(text: string): Keyring {
  const keys = text
    .split(/[,\n]/)
    .map((part) => part.trim())
    .filter((part) => part !== '' && !part.startsWith('#'))
    .map(parseMasterKey);
  if (keys.length === 0) throw new Error('the secrets key ring is empty');
  return { primary: keys[0]!, byId: new Map(keys.map((k) => [k.id, k])) };
}

/** Whether `text` has the shape of a sealed value (says nothing of whether it opens). */
export function isSealed(text: unknown): text is string {
  return typeof text === 'string' && text.startsWith(`${FORMAT}.`) && text.split('.').length === 5;
}

/** The key id a sealed value names, or null when it is not sealed text. */
export function keyIdOf(sealed: string): string | null {
  return isSealed(sealed) ? sealed.split('.')[1]! : null;
}

/** Seals and opens values under a key ring. */
export interface Sealer {
  /** Seals `plain` as `context` (what it is, e.g. `secret:acme/db-url`) under the ring's first key. */
  seal(context: string, plain: string): string;
  /** Opens a value sealed as `context`; throws `SealError` when it does not open. */
  open(context: string, sealed: string): string;
  /** The id of the key new values are sealed under. */
  primaryKeyId(): string;
}

/**
 * A sealer over `keyring()` (read on every call, so a ring that is re-read
 * from its file takes effect at once). When a value names a key the ring
 * does not hold, `refresh` runs once (the file may have a newer ring) and
 * the ring is read again before giving up.
 */
export function createSealer(keyring: () => Keyring, refresh: () => void = () => {}): Sealer {
  const aad = (context: string) => Buffer.from(`hearth:${context}`, 'utf8');
  return {
    seal(context, plain) {
      const { primary } = keyring();
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', primary.key, iv);
      cipher.setAAD(aad(context));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [FORMAT, primary.id, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    },
    open(context, sealed) {
      if (!isSealed(sealed)) throw new SealError('malformed', `the stored ${describe(context)} is not sealed text`);
      const [, keyId, iv, body, tag] = sealed.split('.') as [string, string, string, string, string];
      let key = keyring().byId.get(keyId);
      if (!key) {
        refresh();
        key = keyring().byId.get(keyId);
      }
      if (!key) {
        throw new SealError('unknown-key', `the stored ${describe(context)} is sealed under key ${keyId.slice(0, 12)}, which this process does not hold (give every gateway and worker the same HEARTH_SECRETS_KEY)`, keyId);
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
        decipher.setAAD(aad(context));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new SealError('unauthentic', `the stored ${describe(context)} does not open under key ${keyId.slice(0, 12)} (altered, or sealed for another row)`, keyId);
      }
    },
    primaryKeyId: () => keyring().primary.id,
  };
}

/** The context a namespace secret's value is sealed as. */
export function secretContext(namespace: string, name: string): string {
  return `secret:${namespace}/${name}`;
}

/** The context every version's environment is sealed as. */
export const ENV_CONTEXT = 'env';

/** What a context names, for messages: a secret's name is not secret, its value is. */
function describe(context: string): string {
  return context === ENV_CONTEXT ? 'environment' : context.startsWith('secret:') ? `secret "${context.slice(7, 200)}"` : 'value';
}
