/**
 * The Lambda API's authentication: every request must be SigV4-signed with
 * one of Hearth's keys as the secret (`lambda-credentials.ts`). The order
 * matters: the Authorization header, the credential scope, the request time
 * and the key id are checked from the headers alone, and only a request that
 * passes all of them has its body read (hashed as it streams, within a
 * per-operation size limit) and its signature verified. So an anonymous
 * client can make the gateway read no body into memory. Handlers take the
 * body from `c.get('body')` and query parameters from `lambdaQuery` (read
 * the way the signature read them).
 */
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import type { LambdaCaller } from './lambda-credentials.ts';
import { LambdaError } from './lambda-errors.ts';
import { UploadBudgetError, type UploadBudget, type UploadReservation } from '../upload-budget.ts';
import { readSignedBody } from './signed-body.ts';
import { SigV4Error, checkHeaders, parseAuthorization, queryParameters, verifySignature } from './sigv4.ts';

export interface LambdaVariables {
  /** Sent back as `x-amzn-RequestId` (the invocation id, for Invoke). */
  requestId: string;
  /** The caller's namespace. */
  namespace: string;
  /** The region of the signature's credential scope, used in ARNs. */
  region: string;
  /** The whole request body, already read and hashed. */
  body: Uint8Array;
  /** The query's parameters, decoded as the signature covered them (`+` is a plus). */
  query: ReadonlyMap<string, string>;
}

/** Hono environment of the Lambda routes. */
export type LambdaEnv = { Variables: LambdaVariables };

export interface SigV4AuthOptions {
  resolve(accessKeyId: string): Promise<LambdaCaller>;
  /** The largest body accepted for a request (checked while reading, after the headers passed). */
  maxBodyBytes(method: string, path: string): number;
  /** Whether the request uploads code: its body then takes a share of `uploads` while it is handled. */
  isUpload(method: string, path: string): boolean;
  uploads: UploadBudget;
  now?: () => Date;
}

/** Verifies the signature, then sets `namespace`, `region` and `body`. */
export function sigV4Auth(options: SigV4AuthOptions): MiddlewareHandler<LambdaEnv> {
  const now = options.now ?? (() => new Date());
  return async (c, next) => {
    let reservation: UploadReservation | undefined;
    try {
      const auth = parseAuthorization(c.req.header('authorization'));
      const { rawPath, rawQuery } = requestTarget(c.env as { incoming?: IncomingMessage } | undefined, c.req.url);
      const request = { method: c.req.method, rawPath, rawQuery, headers: c.req.raw.headers };
      const checked = checkHeaders(request, auth, 'lambda', now());
      const query = new Map(queryParameters(rawQuery));
      const caller = await options.resolve(auth.accessKeyId);
      if (options.isUpload(c.req.method, rawPath)) reservation = reserveUpload(options.uploads, caller.namespace, c.req.header('content-length'));
      const grow = reservation && c.req.header('content-length') === undefined ? reservation.grow : undefined;
      const { body, sha256 } = await readSignedBody(c, options.maxBodyBytes(c.req.method, rawPath), grow);
      verifySignature(request, auth, checked, sha256, caller.secret);
      c.set('namespace', caller.namespace);
      c.set('region', auth.region);
      c.set('body', body);
      c.set('query', query);
    } catch (err) {
      reservation?.release();
      if (err instanceof UploadBudgetError) throw uploadRefusal(err);
      if (!(err instanceof SigV4Error)) throw err;
      if (err.kind === 'missing') throw new LambdaError('MissingAuthenticationTokenException', err.message);
      if (err.kind === 'malformed') throw new LambdaError('IncompleteSignatureException', err.message);
      throw new LambdaError('InvalidSignatureException', err.message);
    }
    try {
      await next();
    } finally {
      // Held until the code is stored: unpacking and storing it cost memory in proportion too.
      reservation?.release();
    }
  };
}

/** Reserves the declared length (a chunked body reserves as it arrives); an unreadable length reserves nothing and is refused by the reader. */
function reserveUpload(uploads: UploadBudget, namespace: string, contentLength: string | undefined): UploadReservation {
  const declared = contentLength === undefined ? 0 : Number(contentLength);
  return uploads.reserve(namespace, Number.isSafeInteger(declared) && declared > 0 ? declared : 0);
}

/**
 * The budget's refusal as Lambda answers throttling: 429
 * TooManyRequestsException (which the AWS SDKs retry with backoff), whether
 * the namespace holds its share or the gateway is full.
 */
function uploadRefusal(err: UploadBudgetError): LambdaError {
  return new LambdaError('TooManyRequestsException', err.message, {
    Reason: err.status === 429 ? 'ConcurrentUploadLimitExceeded' : 'GatewayUploadCapacityExceeded',
  });
}

/**
 * A query parameter as the signature read it. Hono's own `c.req.query()`
 * turns `+` into a space, which would let a signed `+` mean something else
 * to the route than to the signature.
 */
export function lambdaQuery(c: Context<LambdaEnv>, name: string): string | undefined {
  return c.get('query').get(name);
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
