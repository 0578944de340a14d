/**
 * Who is calling. A bearer key is one of: the admin key (configuration;
 * manages namespaces and keys, and acts in the namespace named by
 * `X-Hearth-Namespace`, default `default`), the platform key (configuration;
 * the `default` namespace), or a namespace key (random, stored only as its
 * SHA-256). Configured keys are compared as digests with `timingSafeEqual`;
 * namespace keys are looked up by digest, which reveals nothing about a key
 * that is not already known.
 *
 * The dashboard signs in once with its key and then sends a sealed session
 * cookie instead (`dashboard-session.ts`); the cookie counts only on the API
 * origin, only with the dashboard's header and only from the same origin.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { DASHBOARD_HEADER, sessionCookies, type SessionSealer } from './dashboard-session.ts';
import { HearthError } from './errors.ts';
import { DNS_LABEL } from './ids.ts';
import { MissCache } from './miss-cache.ts';

/** The caller's identity, set by the auth middleware for the routes behind it. */
export interface AuthVariables {
  namespace: string;
  /** True for the admin key. */
  admin: boolean;
  /** False for an anonymous call to a public endpoint. */
  authenticated: boolean;
}

/** Where namespace keys are looked up (by SHA-256 hex), with revocation honoured. */
interface KeyLookup {
  namespaceOf(keyHash: string): Promise<string | null>;
  namespaceExists(namespace: string): Promise<boolean>;
}

export interface AuthOptions {
  /** The `default` namespace's key (and the admin key too when `adminKey` is unset). */
  apiKey: string;
  adminKey?: string;
  keys: KeyLookup;
  /** How long a key that matched nothing is refused without a lookup (default 10 s; 0 turns it off). */
  missTtlMs?: number;
  /** Opens the dashboard's session cookie; without it cookies are never credentials. */
  sessions?: SessionSealer;
}

/** The shape of every namespace key (`routes/manage-tenants.ts` makes them): a token of another shape is refused without a lookup. */
export const NAMESPACE_KEY = /^hk_[A-Za-z0-9_-]{32}$/;
/** Most wrong keys remembered at once. */
export const MAX_MISSES = 10_000;

export const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const digest = (text: string) => createHash('sha256').update(text).digest();

export function unauthorized(): HearthError {
  return new HearthError('Unauthorized', 'missing or invalid API key: send "Authorization: Bearer <key>"');
}

/** The bearer token of a request, if it sent one. */
function bearerToken(c: Context): string | null {
  const header = c.req.header('authorization');
  if (header === undefined) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthorized();
  return match[1]!;
}

/**
 * The key sealed in the dashboard's session cookie, if the request may use
 * it: a cookie alone is what a cross-site request carries, so it counts only
 * next to `X-Hearth-Dashboard: 1` (a header no other origin can add without
 * a CORS preflight, which the API never grants) and, when the browser says
 * where the request comes from, only from the same origin. Two session
 * cookies mean one was planted: neither counts.
 */
function sessionToken(c: Context, sessions: SessionSealer | undefined): string | null {
  if (!sessions) return null;
  const values = sessionCookies(c.req.header('cookie'));
  if (values.length === 0) return null;
  const site = c.req.header('sec-fetch-site');
  if (values.length > 1 || c.req.header(DASHBOARD_HEADER) !== '1' || (site !== undefined && site !== 'same-origin')) {
    throw new HearthError('Unauthorized', `a session cookie counts only on the dashboard's own requests (${DASHBOARD_HEADER}: 1, same origin)`);
  }
  const token = sessions.open(values[0]!);
  if (token === null) throw new HearthError('Unauthorized', 'the dashboard session has expired or is not valid: sign in again');
  return token;
}

/** Resolves a token to its caller, or null when it is not a valid key. */
function createKeyResolver(options: AuthOptions) {
  const platform = digest(options.apiKey);
  const admin = options.adminKey ? digest(options.adminKey) : null;
  const misses = new MissCache(options.missTtlMs ?? 10_000, MAX_MISSES);
  return async (token: string, requestedNamespace: string | undefined): Promise<Omit<AuthVariables, 'authenticated'> | null> => {
    const presented = digest(token);
    if (admin && timingSafeEqual(presented, admin)) {
      const namespace = requestedNamespace ?? 'default';
      if (!DNS_LABEL.test(namespace) || !(await options.keys.namespaceExists(namespace))) {
        throw new HearthError('NamespaceNotFound', `namespace "${namespace.slice(0, 64)}" does not exist`);
      }
      return { namespace, admin: true };
    }
    if (timingSafeEqual(presented, platform)) return { namespace: 'default', admin: admin === null };
    if (!NAMESPACE_KEY.test(token)) return null;
    const hash = presented.toString('hex');
    if (misses.has(hash)) return null;
    const namespace = await options.keys.namespaceOf(hash);
    if (!namespace) misses.add(hash);
    return namespace ? { namespace, admin: false } : null;
  };
}

/** Requires a valid key (or, with `options.sessions`, a dashboard session) on every route behind it. */
export function requireApiKey(options: AuthOptions): MiddlewareHandler<{ Variables: AuthVariables }> {
  const resolve = createKeyResolver(options);
  return async (c, next) => {
    const token = bearerToken(c) ?? sessionToken(c, options.sessions);
    const caller = token === null ? null : await resolve(token, c.req.header('x-hearth-namespace'));
    if (!caller) throw unauthorized();
    c.set('namespace', caller.namespace);
    c.set('admin', caller.admin);
    c.set('authenticated', true);
    await next();
  };
}

/**
 * For function endpoints that may be public: a key, if sent, must be valid;
 * with none the call is anonymous (the route then admits only public functions).
 * Only the `Authorization` header counts: a session cookie never reaches a function.
 */
export function optionalApiKey(options: AuthOptions): MiddlewareHandler<{ Variables: AuthVariables }> {
  const { sessions: _ignored, ...headerOnly } = options;
  const required = requireApiKey(headerOnly);
  return async (c, next) => {
    if (c.req.header('authorization') !== undefined) return required(c, next);
    c.set('namespace', 'default');
    c.set('admin', false);
    c.set('authenticated', false);
    await next();
  };
}

/** Throws 403 unless the caller holds the admin key. */
export function assertAdmin(c: Context<{ Variables: AuthVariables }>): void {
  if (!c.get('admin')) throw new HearthError('Forbidden', 'this needs the admin key');
}
