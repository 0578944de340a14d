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
import { Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { badRequest } from './errors.ts';
import type { GatewayEnv } from './gateway-deps.ts';

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

const isHttps = (c: { req: { url: string; header(name: string): string | undefined } }) =>
  new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';

/**
 * Mounted before the key check: `DELETE /v1/session` (so a stale cookie can
 * always be cleared) and the credential-less case of `GET /v1/session`
 * (`{ signedIn: false }`, so a fresh dashboard learns it must ask for the key
 * without a 401). Behind the key check: `POST /v1/session` (which must have
 * seen a bearer key) and `GET /v1/session` with credentials.
 */
export function sessionRoutes(sealer: SessionSealer) {
  const beforeAuth = new Hono<GatewayEnv>()
    .delete('/v1/session', (c) => {
      deleteCookie(c, SESSION_COOKIE, { path: '/v1', secure: isHttps(c), httpOnly: true, sameSite: 'Strict' });
      return c.body(null, 204);
    })
    .get('/v1/session', async (c, next) => {
      if (c.req.header('authorization') === undefined && sessionCookies(c.req.header('cookie')).length === 0) {
        return c.json({ signedIn: false });
      }
      await next();
    });
  const signedIn = new Hono<GatewayEnv>()
    .post('/v1/session', (c) => {
      const token = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1];
      if (token === undefined) throw badRequest('BearerKeyRequired', 'sign in with "Authorization: Bearer <key>"');
      setCookie(c, SESSION_COOKIE, sealer.seal(token), {
        path: '/v1',
        httpOnly: true,
        sameSite: 'Strict',
        secure: isHttps(c),
        maxAge: Math.floor(SESSION_TTL_MS / 1000),
      });
      return c.json({ signedIn: true, namespace: c.get('namespace'), admin: c.get('admin') });
    })
    .get('/v1/session', (c) => c.json({ signedIn: true, namespace: c.get('namespace'), admin: c.get('admin') }));
  return { beforeAuth, signedIn };
}
