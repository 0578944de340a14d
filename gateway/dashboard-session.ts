/**
 * The dashboard's sign-in: `POST /v1/session` with `Authorization: Bearer
 * <key>` answers with an `HttpOnly`, `SameSite=Strict` cookie (`Secure` over
 * https) scoped to `/v1`, so no script, the dashboard's own included, ever
 * holds the key after sign-in. `GET /v1/session` says who is signed in;
 * `DELETE /v1/session` signs out.
 *
 * The cookie is the key sealed with AES-256-GCM under a secret derived from
 * the configured keys, with its expiry inside: any gateway of a deployment
 * can open it, none stores anything, and every request re-checks the key
 * inside (a revoked key ends its sessions). Rotating the configured keys ends
 * them all.
 *
 * CSRF: the cookie is `SameSite=Strict`, and `auth.ts` accepts it only with
 * the `X-Hearth-Dashboard: 1` header (which no other origin can send without
 * a CORS preflight the API never grants) and, where the browser says, only
 * from the same origin (`Sec-Fetch-Site`). Sign-in itself needs the key in
 * a header, so no page can sign a browser into another account.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export const SESSION_COOKIE = 'hearth_session';
/** The header every dashboard API call sends; a cookie without it is not a credential. */
export const DASHBOARD_HEADER = 'x-hearth-dashboard';
export const SESSION_TTL_MS = 12 * 3600_000;
/** Longer cookies are not ours: refused before any decoding. */
const MAX_COOKIE_CHARS = 4096;

/** Seals a key into a cookie value and opens one again. */
export interface SessionSealer {
  seal(token: string, now?: number): string;
  /** The key inside, or null when the value is not ours, was altered or has expired. */
  open(value: string, now?: number): string | null;
}

/** A sealer whose secret is derived from `secrets` (the configured keys). */
export function createSessionSealer(secrets: string[], ttlMs = SESSION_TTL_MS): SessionSealer {
  const key = Buffer.from(hkdfSync('sha256', secrets.join('\0'), 'hearth-dashboard-session', 'v1', 32));
  return {
    seal(token, now = Date.now()) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([cipher.update(JSON.stringify({ t: token, x: now + ttlMs }), 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
    },
    open(value, now = Date.now()) {
      if (value.length > MAX_COOKIE_CHARS || !/^[A-Za-z0-9_-]+$/.test(value)) return null;
      const bytes = Buffer.from(value, 'base64url');
      if (bytes.length < 29) return null;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
        decipher.setAuthTag(bytes.subarray(12, 28));
        const plain = Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
        const { t, x } = JSON.parse(plain) as { t?: unknown; x?: unknown };
        return typeof t === 'string' && typeof x === 'number' && x > now ? t : null;
      } catch {
        return null;
      }
    },
  };
}

/** Every value of the session cookie in a `Cookie` header (more than one means someone planted one). */
export function sessionCookies(cookieHeader: string | undefined): string[] {
  if (!cookieHeader) return [];
  const values: string[] = [];
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

/** True when the request came over HTTPS (directly or through a proxy that says so): cookies are then `Secure`. */
export const isHttps = (c: { req: { url: string; header(name: string): string | undefined } }) =>
  new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
