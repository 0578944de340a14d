/**
 * Reading the body of a SigV4 request whose headers already passed: it is
 * hashed as it streams in and counted against the operation's limit, and
 * kept once (copied into one buffer of the declared length as it arrives,
 * so no list of chunks and no concatenated copy are held beside it).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
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
  // With a declared length the body goes straight into its one buffer; without, pieces are kept until the end.
  const into = declared !== null ? Buffer.allocUnsafe(declared) : null;
  const pieces: Uint8Array[] = [];
  let size = 0;
  const take = (chunk: Uint8Array) => {
    onBytes?.(chunk.length);
    size += chunk.length;
    if (size > (into ? into.length : maxBytes)) throw into ? new LambdaError('InvalidRequestContentException', 'The body is longer than its Content-Length.') : tooLarge(maxBytes);
    hash.update(chunk);
    if (into) into.set(chunk, size - chunk.length);
    else pieces.push(chunk);
  };

  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming && !incoming.readableDidRead) {
    // Not destroyed on the way out: the refusal must still reach the client (see early-answer.ts).
    for await (const chunk of incoming.iterator({ destroyOnReturn: false })) take(chunk as Buffer);
  } else {
    const stream = c.req.raw.body;
    if (stream) {
      const reader = stream.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        try {
          take(value);
        } catch (err) {
          await reader.cancel().catch(() => {});
          throw err;
        }
      }
    }
  }
  if (into && size !== into.length) throw new LambdaError('InvalidRequestContentException', 'The body is shorter than its Content-Length.');
  const body = into ?? (pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces));
  return { body, sha256: hash.digest('hex') };
}
