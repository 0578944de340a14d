/** Request size limits, enforced while the body streams in. */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { CODE_LIMITS } from '../worker/contract/limits.ts';
import { HearthError } from './errors.ts';

/** Lambda's synchronous payload limit. */
export const MAX_EVENT_BYTES = 6 * 1024 * 1024;
/** The largest archive plus room for the multipart envelope and fields. */
export const MAX_DEPLOY_BYTES = CODE_LIMITS.maxUploadBytes + 256 * 1024;

/** 413 `PayloadTooLarge` for a body over `maxSize` bytes. */
export function tooLarge(what: string, maxSize: number): HearthError {
  return new HearthError('PayloadTooLarge', `${what} is larger than ${maxSize} bytes`);
}

/**
 * The request body, piece by piece, as it arrives. On Node it reads the
 * socket stream directly, so no Web `Request` (with its stream and abort
 * signal) is built on the hot invoke path. Stopping early (a `break` or a
 * throw in the loop) leaves the rest unread but the message intact: a
 * destroyed message takes its socket with it, and the 4xx would never reach
 * the client (see early-answer.ts).
 */
export async function* requestBodyChunks(c: Context): AsyncGenerator<Uint8Array> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming && !incoming.readableDidRead) {
    const stopWatching = watchIdleBody(incoming);
    try {
      for await (const chunk of incoming.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
    } finally {
      stopWatching();
    }
    return;
  }
  const stream = c.req.raw.body;
  if (!stream) return;
  const reader = stream.getReader();
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
  }
}

/** How long a request body may send nothing before its connection is closed. */
export const BODY_IDLE_TIMEOUT_MS = 10_000;

/**
 * Closes the connection of a request whose body stops arriving for
 * `BODY_IDLE_TIMEOUT_MS` (a client holding an upload's share, or a socket,
 * by sending nothing); returns the function that stops watching, to call
 * once the body is read.
 */
export function watchIdleBody(incoming: IncomingMessage, idleMs = BODY_IDLE_TIMEOUT_MS): () => void {
  incoming.setTimeout(idleMs, () => {
    incoming.destroy(new HearthError('RequestTimeout', `no body bytes arrived for ${idleMs / 1000} s`));
  });
  return () => {
    incoming.setTimeout(0);
  };
}

/** The declared Content-Length, or undefined for a body without one (chunked); a malformed one is a 400. */
export function declaredLength(c: Context): number | undefined {
  const declared = c.req.header('content-length');
  if (declared === undefined) return undefined;
  if (!/^\d{1,15}$/.test(declared.trim())) throw new HearthError('BadRequest', 'the Content-Length header is not a number');
  return Number(declared);
}

/**
 * Reads a request body of at most `maxSize` bytes: a declared length over
 * the limit is refused before reading, and a body without one is counted as
 * it streams and cut off at the limit.
 */
export async function readBody(c: Context, maxSize: number, what: string): Promise<Uint8Array> {
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > maxSize) throw tooLarge(what, maxSize);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of requestBodyChunks(c)) {
    size += chunk.length;
    if (size > maxSize) throw tooLarge(what, maxSize);
    chunks.push(chunk);
  }
  if (chunks.length === 0) return new Uint8Array(0);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
