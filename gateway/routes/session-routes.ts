/**
 * The dashboard's sign-in: `POST /v1/session` swaps a bearer key for the
 * sealed session cookie (`dashboard-session.ts`), `GET` says who is signed
 * in, `DELETE` clears it.
 */
import { Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { createSession, deleteSession, getSession } from '../api/platform-api.ts';
import { validated } from '../api/validated.ts';
import { SESSION_COOKIE, SESSION_TTL_MS, isHttps, sessionCookies, type SessionSealer } from '../dashboard-session.ts';
import { badRequest } from '../errors.ts';
import type { GatewayEnv } from '../gateway-deps.ts';

/**
 * Mounted before the key check: `DELETE /v1/session` (so a stale cookie can
 * always be cleared) and the credential-less case of `GET /v1/session`
 * (`{ signedIn: false }`, so a fresh dashboard learns it must ask for the key
 * without a 401). Behind the key check: `POST /v1/session` (which must have
 * seen a bearer key) and `GET /v1/session` with credentials.
 */
export function sessionRoutes(sealer: SessionSealer) {
  const beforeAuth = new Hono<GatewayEnv>()
    .delete(deleteSession.honoPath, validated(deleteSession), (c) => {
      deleteCookie(c, SESSION_COOKIE, { path: '/v1', secure: isHttps(c), httpOnly: true, sameSite: 'Strict' });
      return c.body(null, 204);
    })
    .get(getSession.honoPath, validated(getSession), async (c, next) => {
      if (c.req.header('authorization') === undefined && sessionCookies(c.req.header('cookie')).length === 0) {
        return c.json({ signedIn: false });
      }
      await next();
    });
  const signedIn = new Hono<GatewayEnv>()
    .post(createSession.honoPath, validated(createSession), (c) => {
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
    .get(getSession.honoPath, (c) => c.json({ signedIn: true, namespace: c.get('namespace'), admin: c.get('admin') }));
  return { beforeAuth, signedIn };
}
