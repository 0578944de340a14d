/**
 * The Lambda API's authentication: every request must be SigV4-signed with
 * one of Hearth's keys as the secret (`lambda-credentials.ts`). The body is
 * read here, within a per-operation size limit, because the signature covers
 * its hash; handlers take it from `c.get('body')`.
 */
import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { readBody } from '../request-limits.ts';
import type { LambdaCaller } from './lambda-credentials.ts';
import { LambdaError } from './lambda-errors.ts';
import { SigV4Error, parseAuthorization, verifySignature } from './sigv4.ts';

export interface LambdaVariables {
  /** Sent back as `x-amzn-RequestId` (the invocation id, for Invoke). */
  requestId: string;
  /** The caller's namespace. */
  namespace: string;
  /** The region of the signature's credential scope, used in ARNs. */
  region: string;
  /** The whole request body, already read and hashed. */
  body: Uint8Array;
}

/** Hono environment of the Lambda routes. */
export type LambdaEnv = { Variables: LambdaVariables };

export interface SigV4AuthOptions {
  resolve(accessKeyId: string): Promise<LambdaCaller>;
  /** The largest body accepted for a request (checked before the signature, while reading). */
  maxBodyBytes(method: string, path: string): number;
  now?: () => Date;
}

/** Verifies the signature, then sets `namespace`, `region` and `body`. */
export function sigV4Auth(options: SigV4AuthOptions): MiddlewareHandler<LambdaEnv> {
  const now = options.now ?? (() => new Date());
  return async (c, next) => {
    try {
      const auth = parseAuthorization(c.req.header('authorization'));
      const caller = await options.resolve(auth.accessKeyId);
      const { rawPath, rawQuery } = requestTarget(c.env as { incoming?: IncomingMessage } | undefined, c.req.url);
      const body = await readBody(c, options.maxBodyBytes(c.req.method, rawPath), 'the request');
      verifySignature({ method: c.req.method, rawPath, rawQuery, headers: c.req.raw.headers, body }, auth, caller.secret, 'lambda', now());
      c.set('namespace', caller.namespace);
      c.set('region', auth.region);
      c.set('body', body);
    } catch (err) {
      if (!(err instanceof SigV4Error)) throw err;
      if (err.kind === 'missing') throw new LambdaError('MissingAuthenticationTokenException', err.message);
      if (err.kind === 'malformed') throw new LambdaError('IncompleteSignatureException', err.message);
      throw new LambdaError('InvalidSignatureException', err.message);
    }
    await next();
  };
}

/**
 * The path and query exactly as the client sent them: the signature covers
 * the client's own percent-encoding, which a parsed URL may have changed.
 */
function requestTarget(env: { incoming?: IncomingMessage } | undefined, url: string): { rawPath: string; rawQuery: string } {
  const target = env?.incoming?.url;
  if (target !== undefined && target.startsWith('/')) {
    const q = target.indexOf('?');
    return q < 0 ? { rawPath: target, rawQuery: '' } : { rawPath: target.slice(0, q), rawQuery: target.slice(q + 1) };
  }
  const parsed = new URL(url);
  return { rawPath: parsed.pathname, rawQuery: parsed.search.replace(/^\?/, '') };
}
