/**
 * Answers given before a request's body has all arrived (a wrong key, a
 * wrong media type, a body over its limit) must still reach the client.
 * HTTP/1.1 clients write the whole body before (or while) they read the
 * answer; a server that stops reading and closes the socket mid-upload makes
 * the kernel reset the connection, and clients such as Node's `fetch`
 * (undici) or `node:http` may then see `EPIPE`/`ECONNRESET` instead of the
 * answer. `@hono/node-server` discards the rest for at most 500 ms and then
 * closes the socket, which a real upload of a few MB outlasts.
 *
 * So before answering, the rest of the body is read and thrown away, up to
 * `maxBytes` and `maxMs`; the client sees the answer once its upload is
 * done and the connection stays usable. A body that declares more than
 * that, or that does not end in time, is answered at once and left to the
 * server's own short drain: answering with `Connection: close` would be
 * worse, as Node then closes the socket the moment the answer is written.
 *
 * A caller without a valid key gets less: a smaller body, a shorter wait,
 * and only while the anonymous bodies being discarded at once stay under a
 * total; beyond that its answer goes out at once (and the socket soon
 * closes). Otherwise anyone could hold sockets and the gateway's time for
 * 30 s apiece by sending large bodies nobody will read.
 */
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';

export interface EarlyAnswerOptions {
  /** The most unread body bytes read and discarded before answering. */
  maxBytes: number;
  /** The longest the answer waits for the rest of the body. */
  maxMs: number;
  /** The same for callers without a valid key (defaults {@link ANONYMOUS_DISCARD}). */
  anonymous?: AnonymousDiscardOptions;
}

export interface AnonymousDiscardOptions {
  maxBytes: number;
  maxMs: number;
  /** Most bytes discarded for anonymous callers at once (declared, or `maxBytes` for a body without a length). */
  maxTotalBytes: number;
}

const MiB = 1024 * 1024;

/** Enough for a browser or CLI that sent a wrong key with an ordinary upload to read its 401. */
export const ANONYMOUS_DISCARD: Readonly<AnonymousDiscardOptions> = Object.freeze({ maxBytes: 24 * MiB, maxMs: 5_000, maxTotalBytes: 64 * MiB });

/** True once an auth middleware accepted the caller's key (Bearer: `authenticated`; SigV4: a namespace). */
function hasValidKey(c: Context): boolean {
  const authenticated = c.get('authenticated') as boolean | undefined;
  return authenticated ?? c.get('namespace') !== undefined;
}

/** Middleware: runs the route, then discards what is left of the request body before the answer goes out. */
export function discardUnreadBody(options: EarlyAnswerOptions): MiddlewareHandler {
  const anonymous = options.anonymous ?? ANONYMOUS_DISCARD;
  let anonymousBytes = 0;
  return async (c, next) => {
    await next();
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    // `complete`: the parser has the whole message; whatever is unread is in memory, not on the socket.
    if (!incoming || incoming.complete || incoming.destroyed) return;
    const declared = Number(incoming.headers['content-length']);
    const hasLength = incoming.headers['content-length'] !== undefined && Number.isFinite(declared);
    if (hasValidKey(c)) {
      if (!hasLength || declared <= options.maxBytes) await discardRest(incoming, options.maxBytes, options.maxMs);
      return;
    }
    const charge = hasLength ? declared : anonymous.maxBytes;
    if (charge > anonymous.maxBytes || anonymousBytes + charge > anonymous.maxTotalBytes) return;
    anonymousBytes += charge;
    try {
      await discardRest(incoming, anonymous.maxBytes, anonymous.maxMs);
    } finally {
      anonymousBytes -= charge;
    }
  };
}

/** Reads and drops the rest of `incoming`; true once it ended, false past the byte or time limit. */
function discardRest(incoming: IncomingMessage, maxBytes: number, maxMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (ended: boolean) => {
      clearTimeout(timer);
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onFail);
      incoming.off('close', onFail);
      resolve(ended);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) finish(false);
    };
    const onEnd = () => finish(true);
    const onFail = () => finish(incoming.readableEnded);
    const timer = setTimeout(() => finish(false), maxMs);
    timer.unref();
    // The route is done with the body: a reader it left behind (a Web stream
    // over this message) would buffer what is discarded here, so it goes.
    incoming.removeAllListeners('data');
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onFail);
    incoming.on('close', onFail);
    incoming.resume();
  });
}
