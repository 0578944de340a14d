/**
 * AWS Signature Version 4 verification, for requests signed in the
 * `Authorization` header as the AWS SDKs and CLI send them. Pure functions
 * over the request's parts (no HTTP framework), built on node:crypto.
 *
 * Verification is split in two so a request that cannot be authentic is
 * refused before its body is read: `checkHeaders` looks only at the
 * headers (the header's form; a credential scope for this service and a
 * well-formed region, ending in `aws4_request`, whose date is the
 * request's; a request time — `X-Amz-Date`, else `Date` — within 15 minutes
 * of ours; that `host`, the time header and every `x-amz-*` header sent are
 * signed, so none can be changed on replay; an `x-amz-content-sha256` of 64
 * hex digits), and `verifySignature` then takes the body's hash, computed
 * while it streamed in: it must equal `x-amz-content-sha256` when sent, and
 * the signature, recomputed from the canonical request, is compared in
 * constant time. The canonical request and the signing key are the AWS
 * SDK's own (`@smithy/signature-v4`, as the SDK signs), so what verifies is
 * what an SDK signs; the checks around them are Hearth's.
 *
 * Deliberately not supported: presigned URLs (query-string auth),
 * `UNSIGNED-PAYLOAD` and chunked `STREAMING-*` payloads, SigV4a.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ALGORITHM_IDENTIFIER, SignatureV4, createScope, getCanonicalHeaders, getSigningKey } from '@smithy/signature-v4';
import { NodeSha256 } from './node-sha256.ts';

const ALGORITHM = ALGORITHM_IDENTIFIER;
/** How far a request's time may be from ours, either way. */
const MAX_CLOCK_SKEW_MS = 15 * 60_000;

/** Why a request's signature was refused; the caller chooses how to answer each kind. */
export class SigV4Error extends Error {
  constructor(
    /**
     * `missing`: no Authorization header; `malformed`: not a well-formed SigV4
     * header; `scope`: a credential scope for another service or no valid
     * region; `expired`: outside the clock window; `mismatch`: wrong
     * signature or body hash.
     */
    readonly kind: 'missing' | 'malformed' | 'scope' | 'expired' | 'mismatch',
    message: string,
  ) {
    super(message);
    this.name = 'SigV4Error';
  }
}

/** The parts of an `Authorization: AWS4-HMAC-SHA256 …` header. */
export interface SigV4Authorization {
  accessKeyId: string;
  /** `YYYYMMDD` of the credential scope. */
  date: string;
  region: string;
  service: string;
  /** Lower-case header names, in the order signed. */
  signedHeaders: string[];
  /** 64 lower-case hex digits. */
  signature: string;
}

/** What verification needs of a request. */
export interface SignedRequest {
  method: string;
  /** The path exactly as received, percent-encoding untouched (no query). */
  rawPath: string;
  /** The query string as received, without `?` ('' for none). */
  rawQuery: string;
  /** The request's headers (a Web `Headers` fits). */
  headers: { get(name: string): string | null; keys(): Iterable<string> };
}

/** What `checkHeaders` found, for `verifySignature`. */
export interface CheckedHeaders {
  /** The request time as `YYYYMMDDTHHMMSSZ`. */
  requestTime: string;
  /** `x-amz-content-sha256` as sent (the canonical request carries it so), when sent. */
  declaredBodySha256: string | null;
}

/** The longest region name taken (AWS's longest today is 14 characters). */
const MAX_REGION_LENGTH = 32;
/** AWS's region shape: `us-east-1`, `ap-southeast-2`, `us-gov-west-1`. */
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

/** Whether `region` may stand in a credential scope (and so in the ARNs Hearth reports). */
export function isRegionName(region: string): boolean {
  return region.length <= MAX_REGION_LENGTH && REGION.test(region);
}

/** Parses the Authorization header; throws `SigV4Error` (`missing` or `malformed`). */
export function parseAuthorization(header: string | null | undefined): SigV4Authorization {
  if (header === null || header === undefined || header.trim() === '') {
    throw new SigV4Error('missing', 'Missing Authentication Token');
  }
  const malformed = (why: string) => new SigV4Error('malformed', `Authorization header is not a valid ${ALGORITHM} header: ${why}`);
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space) !== ALGORITHM) throw malformed(`the algorithm must be ${ALGORITHM}`);
  const fields = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw malformed(`"${part.trim().slice(0, 32)}" is not key=value`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature) throw malformed('Credential, SignedHeaders and Signature are all required');
  const scope = credential.split('/');
  if (scope.length !== 5 || scope.some((s) => s === '')) throw malformed('Credential must be <key id>/<date>/<region>/<service>/aws4_request');
  const [accessKeyId, date, region, service, terminator] = scope as [string, string, string, string, string];
  if (!/^\d{8}$/.test(date)) throw malformed('the credential date must be YYYYMMDD');
  if (terminator !== 'aws4_request') throw malformed('the credential scope must end in aws4_request');
  if (!/^[0-9a-f]{64}$/.test(signature)) throw malformed('Signature must be 64 lower-case hex digits');
  const names = signedHeaders.split(';');
  if (names.some((n) => !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(n))) throw malformed('SignedHeaders must be lower-case header names separated by ";"');
  return { accessKeyId, date, region, service, signedHeaders: names, signature };
}

/**
 * Everything that can be checked before the body is read; throws
 * `SigV4Error` for a request that cannot carry a valid signature.
 */
export function checkHeaders(request: SignedRequest, auth: SigV4Authorization, service: string, now: Date): CheckedHeaders {
  if (auth.service !== service) {
    throw new SigV4Error('scope', `Credential should be scoped to correct service: '${service}'.`);
  }
  if (!isRegionName(auth.region)) {
    throw new SigV4Error('scope', `Credential should be scoped to a valid region, not '${auth.region.slice(0, MAX_REGION_LENGTH)}'.`);
  }
  const amzDate = request.headers.get('x-amz-date');
  const timeHeader = amzDate !== null ? 'x-amz-date' : 'date';
  const requestTime = parseRequestTime(amzDate ?? request.headers.get('date'));
  const signed = new Set(auth.signedHeaders);
  for (const required of ['host', timeHeader]) {
    if (!signed.has(required)) throw new SigV4Error('malformed', `the '${required}' header must be signed`);
  }
  const unsigned = amzHeaderNames(request.headers).filter((name) => !signed.has(name));
  if (unsigned.length > 0) throw new SigV4Error('malformed', `these headers must be signed: ${unsigned.slice(0, 8).join(', ').slice(0, 256)}`);
  if (Math.abs(now.getTime() - requestTime.date.getTime()) > MAX_CLOCK_SKEW_MS) {
    throw new SigV4Error(
      'expired',
      `Signature expired: ${requestTime.text} is now earlier or later than ${amzTimestamp(new Date(now.getTime() - MAX_CLOCK_SKEW_MS))} (${amzTimestamp(now)} - 15 min.)`,
    );
  }
  if (auth.date !== requestTime.text.slice(0, 8)) {
    throw new SigV4Error('malformed', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${requestTime.text.slice(0, 8)}'`);
  }
  const declared = request.headers.get('x-amz-content-sha256');
  if (declared !== null && !/^[0-9a-fA-F]{64}$/.test(declared)) {
    throw new SigV4Error('malformed', `x-amz-content-sha256 must be the body's SHA-256 in hex: Hearth takes neither UNSIGNED-PAYLOAD nor chunked STREAMING-* payloads`);
  }
  return { requestTime: requestTime.text, declaredBodySha256: declared };
}

/**
 * Verifies the signature of a request `checkHeaders` passed, given its
 * body's SHA-256 (hex); rejects with `SigV4Error` unless it is the one
 * `secret` produces.
 */
export async function verifySignature(request: SignedRequest, auth: SigV4Authorization, checked: CheckedHeaders, bodySha256: string, secret: string): Promise<void> {
  const declared = checked.declaredBodySha256;
  if (declared !== null && declared.toLowerCase() !== bodySha256) {
    throw new SigV4Error('mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const scope = createScope(auth.date, auth.region, auth.service);
  const stringToSign = await canonical.stringToSign(request, auth.signedHeaders, declared ?? bodySha256, checked.requestTime, scope);
  // The key from the scope's date as written, and the request time as sent, exactly as the client signed them.
  const key = await getSigningKey(NodeSha256, { accessKeyId: auth.accessKeyId, secretAccessKey: secret }, auth.date, auth.region, auth.service);
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  if (!timingSafeEqual(expected, Buffer.from(auth.signature, 'hex'))) {
    throw new SigV4Error(
      'mismatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
}

type SdkRequest = Parameters<typeof getCanonicalHeaders>[0];

/**
 * The SDK signer's string to sign for a request as received. Its canonical
 * request is protected (the signer builds it only for requests it signs
 * itself, setting X-Amz-Date and dropping Date), hence the subclass.
 */
class CanonicalRequests extends SignatureV4 {
  constructor() {
    super({ credentials: { accessKeyId: '', secretAccessKey: '' }, region: '', service: '', sha256: NodeSha256 });
  }

  stringToSign(request: SignedRequest, signedHeaders: readonly string[], payloadHash: string, requestTime: string, scope: string): Promise<string> {
    // Null-prototype bags, so a parameter or header named __proto__ is an entry like any other.
    const headers: Record<string, string> = Object.create(null);
    // Every header the client named, '' when absent, hop-by-hop ones included if it signed them.
    for (const name of signedHeaders) headers[name] = request.headers.get(name) ?? '';
    const query: Record<string, string[]> = Object.create(null);
    for (const [key, value] of queryParameters(request.rawQuery)) {
      // The SDK's canonical query loses a parameter of this name (it lands on a plain object's
      // prototype), so its value would go unsigned: refused rather than acted on unsigned.
      if (key === '__proto__') throw new SigV4Error('malformed', 'a query parameter may not be named __proto__');
      (query[key] ??= []).push(value);
    }
    const sdkRequest: SdkRequest = { method: request.method.toUpperCase(), protocol: 'https:', hostname: '', path: request.rawPath, query, headers };
    const canonicalHeaders = getCanonicalHeaders(sdkRequest, undefined, new Set(signedHeaders));
    return this.createStringToSign(requestTime, scope, this.createCanonicalRequest(sdkRequest, canonicalHeaders, payloadHash), ALGORITHM);
  }
}

const canonical = new CanonicalRequests();

/**
 * The query's parameters as SigV4 reads them, in order: split on `&` and the
 * first `=`, then percent-decoded. A `+` is a literal plus, as for AWS (the
 * SDKs send a plus as `%2B` and a space as `%20`): the routes read the query
 * through this too, so what is signed is what is acted on.
 */
export function queryParameters(rawQuery: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    pairs.push([decodeComponent(eq < 0 ? part : part.slice(0, eq)), eq < 0 ? '' : decodeComponent(part.slice(eq + 1))]);
  }
  return pairs;
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new SigV4Error('malformed', 'the query string is not validly percent-encoded');
  }
}

function amzHeaderNames(headers: SignedRequest['headers']): string[] {
  return [...headers.keys()].map((n) => n.toLowerCase()).filter((n) => n.startsWith('x-amz-'));
}

/** `YYYYMMDDTHHMMSSZ`, or an HTTP date in the `Date` header. */
function parseRequestTime(value: string | null): { date: Date; text: string } {
  if (value === null) throw new SigV4Error('malformed', 'the request must carry an X-Amz-Date (or Date) header');
  const basic = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (basic) {
    const [, y, mo, d, h, mi, s] = basic.map(Number) as number[];
    const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
    if (!Number.isNaN(date.getTime())) return { date, text: value };
  } else {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime()) && /GMT$/.test(value)) return { date, text: amzTimestamp(date) };
  }
  throw new SigV4Error('malformed', `the request time "${value.slice(0, 40)}" is not YYYYMMDDTHHMMSSZ`);
}

function amzTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}
