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
 */
import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';

export interface EarlyAnswerOptions {
  /** The most unread body bytes read and discarded before answering. */
  maxBytes: number;
  /** The longest the answer waits for the rest of the body. */
  maxMs: number;
}

/** Middleware: runs the route, then discards what is left of the request body before the answer goes out. */
export function discardUnreadBody(options: EarlyAnswerOptions): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    // `complete`: the parser has the whole message; whatever is unread is in memory, not on the socket.
    if (!incoming || incoming.complete || incoming.destroyed) return;
    const declared = Number(incoming.headers['content-length']);
    const fits = !Number.isFinite(declared) || declared <= options.maxBytes;
    if (fits) await discardRest(incoming, options.maxBytes, options.maxMs);
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
