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
import { clientAddress } from '../client-address.ts';
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
  /** The query's parameters, decoded as the signature covered them (`+` is a plus), each with every value it was given. */
  query: ReadonlyMap<string, readonly string[]>;
}

/** Hono environment of the Lambda routes. */
export type LambdaEnv = { Variables: LambdaVariables };

export interface SigV4AuthOptions {
  resolve(accessKeyId: string): Promise<LambdaCaller>;
  /** The largest body accepted for a request (checked while reading, after the headers passed). */
  maxBodyBytes(method: string, path: string): number;
  /** Whether the request uploads code: once verified, its body then takes its namespace's share of `uploads` while it is handled. */
  isUpload(method: string, path: string): boolean;
  uploads: UploadBudget;
  /**
   * Bytes of bodies read but not yet verified, across the gateway and per
   * client address: an access key id is no secret (`HEARTHDEFAULT` is
   * fixed), so until the signature is checked a body is anyone's.
   */
  unverified: UploadBudget;
  now?: () => Date;
}

/** Verifies the signature, then sets `namespace`, `region` and `body`. */
export function sigV4Auth(options: SigV4AuthOptions): MiddlewareHandler<LambdaEnv> {
  const now = options.now ?? (() => new Date());
  return async (c, next) => {
    let reservation: UploadReservation | undefined;
    let unverified: UploadReservation | undefined;
    let verified = false;
    try {
      const auth = parseAuthorization(c.req.header('authorization'));
      const { rawPath, rawQuery } = requestTarget(c.env as { incoming?: IncomingMessage } | undefined, c.req.url);
      const request = { method: c.req.method, rawPath, rawQuery, headers: c.req.raw.headers };
      const checked = checkHeaders(request, auth, 'lambda', now());
      const query = new Map<string, string[]>();
      for (const [name, value] of queryParameters(rawQuery)) query.set(name, [...(query.get(name) ?? []), value]);
      const caller = await options.resolve(auth.accessKeyId);
      // Counted as its bytes arrive (never by what it declares), against what unverified bodies may hold
      // (per client address: behind a proxy, the proxy's, and then the gateway-wide cap is what holds).
      const held = options.unverified.reserve(clientAddress(c), 0);
      unverified = held;
      const { body, sha256 } = await readSignedBody(c, options.maxBodyBytes(c.req.method, rawPath), held.grow);
      await verifySignature(request, auth, checked, sha256, caller.secret);
      verified = true;
      held.release();
      // Verified: now the body is the namespace's, and takes its share while the code is unpacked and stored.
      if (options.isUpload(c.req.method, rawPath)) reservation = options.uploads.reserve(caller.namespace, body.length);
      c.set('namespace', caller.namespace);
      c.set('region', auth.region);
      c.set('body', body);
      c.set('query', query);
    } catch (err) {
      unverified?.release();
      reservation?.release();
      // Before the signature was verified, a refusal is the unverified budget's; after, the namespace's.
      if (err instanceof UploadBudgetError) throw verified ? uploadRefusal(err) : unverifiedRefusal(err);
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

/** Unverified bytes in flight: across the gateway (as much as verified uploads may hold) and from one client address (one code upload and a little). */
export const DEFAULT_UNVERIFIED_LIMITS = { gatewayBytes: 256 * 1024 * 1024, namespaceBytes: 96 * 1024 * 1024 } as const;


/**
 * The budget's refusal as Lambda answers throttling: 429
 * TooManyRequestsException (which the AWS SDKs retry with backoff), whether
 * the namespace holds its share or the gateway is full.
 */
function unverifiedRefusal(err: UploadBudgetError): LambdaError {
  return new LambdaError(
    'TooManyRequestsException',
    err.status === 429
      ? 'Too many request bytes from this client are waiting for their signatures to be checked: retry when one has finished.'
      : 'The gateway is reading as many unverified request bodies as it can take right now: retry shortly.',
    { Reason: 'CallerRateLimitExceeded' },
  );
}

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
  return c.get('query').get(name)?.at(-1);
}

/** Every value of a repeated query parameter (`?tagKeys=a&tagKeys=b`), as the signature read them. */
export function lambdaQueryAll(c: Context<LambdaEnv>, name: string): readonly string[] {
  return c.get('query').get(name) ?? [];
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
