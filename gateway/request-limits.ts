/** Request size limits, enforced while the body streams in. */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { CODE_LIMITS } from '../worker/code/code-limits.ts';
import { HearthError } from './errors.ts';

/** Lambda's synchronous payload limit. */
export const MAX_EVENT_BYTES = 6 * 1024 * 1024;
/** The largest archive plus room for the multipart envelope and fields. */
export const MAX_DEPLOY_BYTES = CODE_LIMITS.maxUploadBytes + 256 * 1024;

function tooLarge(what: string, maxSize: number): HearthError {
  return new HearthError(413, 'PayloadTooLarge', `${what} is larger than ${maxSize} bytes`);
}

/** Middleware form, for routes that hand the whole Request on (multipart parsing). */
export function limitBody(maxSize: number, what: string) {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw tooLarge(what, maxSize);
    },
  });
}

/**
 * Reads a request body of at most `maxSize` bytes: a declared length over
 * the limit is refused before reading, and a body without one is counted as
 * it streams and cut off at the limit. On Node it reads the socket stream
 * directly, so no Web `Request` (with its stream and abort signal) is built
 * on the hot invoke path.
 */
export async function readBody(c: Context, maxSize: number, what: string): Promise<Uint8Array> {
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > maxSize) throw tooLarge(what, maxSize);
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const chunks: Uint8Array[] = [];
  let size = 0;
  const take = (chunk: Uint8Array) => {
    size += chunk.length;
    if (size > maxSize) throw tooLarge(what, maxSize);
    chunks.push(chunk);
  };
  if (incoming && !incoming.readableDidRead) {
    // Not destroyed on the way out: a destroyed message takes its socket with
    // it, and the 413 would never reach the client (see early-answer.ts).
    for await (const chunk of incoming.iterator({ destroyOnReturn: false })) take(chunk as Buffer);
  } else {
    const stream = c.req.raw.body;
    if (!stream) return new Uint8Array(0);
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
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
