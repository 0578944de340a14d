/**
 * Reading the body of a SigV4 request whose headers already passed: it is
 * hashed as it streams in and counted against the operation's limit (and by
 * `onBytes`, the budget of bodies not yet verified) as its bytes arrive —
 * never reserved or allocated by the length a client merely declares — and
 * a body that stops arriving closes its connection (`watchIdleBody`).
 */
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { requestBodyChunks } from '../request-limits.ts';
import { LambdaError } from './lambda-errors.ts';

export interface SignedBody {
  body: Uint8Array;
  /** Lower-case hex SHA-256 of `body`. */
  sha256: string;
}

function tooLarge(maxBytes: number): LambdaError {
  return new LambdaError('RequestTooLargeException', `Request must be smaller than ${maxBytes} bytes for this operation.`);
}

/**
 * Reads the body of `c`, at most `maxBytes`; throws RequestTooLargeException
 * past it (a declared length over it before reading). `onBytes` sees each
 * piece before it is kept (an upload budget; it may throw to stop reading).
 */
export async function readSignedBody(c: Context, maxBytes: number, onBytes?: (bytes: number) => void): Promise<SignedBody> {
  const declaredText = c.req.header('content-length');
  const declared = declaredText === undefined ? null : Number(declaredText);
  if (declared !== null && !(Number.isSafeInteger(declared) && declared >= 0)) {
    throw new LambdaError('InvalidRequestContentException', 'Content-Length must be a whole number of bytes.');
  }
  if (declared !== null && declared > maxBytes) throw tooLarge(maxBytes);

  const hash = createHash('sha256');
  const pieces: Uint8Array[] = [];
  let size = 0;
  const take = (chunk: Uint8Array) => {
    const limit = declared ?? maxBytes;
    if (size + chunk.length > limit) throw declared !== null ? new LambdaError('InvalidRequestContentException', 'The body is longer than its Content-Length.') : tooLarge(maxBytes);
    onBytes?.(chunk.length);
    size += chunk.length;
    hash.update(chunk);
    pieces.push(chunk);
  };

  // The shared reader: an idle body closes its connection, and stopping early leaves the message intact
  // so the refusal still reaches the client (see early-answer.ts).
  for await (const chunk of requestBodyChunks(c)) take(chunk);
  if (declared !== null && size !== declared) throw new LambdaError('InvalidRequestContentException', 'The body is shorter than its Content-Length.');
  const body = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, size);
  return { body, sha256: hash.digest('hex') };
}
