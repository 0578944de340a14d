/** Bearer-key authentication for management and invoke routes. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { HearthError } from './errors.ts';

/** The caller's identity, set by `requireApiKey` for the routes behind it. */
export interface AuthVariables {
  namespace: string;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Accepts `Authorization: Bearer <key>` when the key matches. Both sides are
 * hashed first so the comparison is constant-time whatever the lengths.
 */
export function requireApiKey(apiKey: string): MiddlewareHandler<{ Variables: AuthVariables }> {
  const expected = digest(apiKey);
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      throw new HearthError(401, 'Unauthorized', 'missing or invalid API key: send "Authorization: Bearer <key>"');
    }
    c.set('namespace', 'default');
    await next();
  };
}
