/**
 * One POST of a destination record to a webhook: to the address the
 * outbound guard checked (never a fresh DNS answer), within a deadline,
 * without following redirects (a 3xx could point anywhere: it is a failed
 * try, retried like any other), reading at most a few KB of the answer. The
 * receiver's answer is untrusted: only its status and a short, cleaned
 * excerpt are kept, for the delivery's `last_error`.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pinnedLookup, type OutboundAllowed } from './outbound-guard.ts';

/** How one try went: `status` null when no answer came (refused, timed out, TLS). */
export interface WebhookAnswer {
  delivered: boolean;
  status: number | null;
  error: string | null;
}

/** The most of an answer's body read (the rest is discarded with the connection). */
const MAX_ANSWER_BYTES = 4096;

export interface WebhookPost {
  url: URL;
  /** The guard's verdict for `url`, checked just now. */
  allowed: OutboundAllowed;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

/** Posts once; resolves with how it went, never rejects. */
export function postWebhook(post: WebhookPost): Promise<WebhookAnswer> {
  const { url, allowed } = post;
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const isName = !/^[\d.]+$|:/.test(allowed.host);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: WebhookAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(answer);
    };
    const req = request(
      {
        method: 'POST',
        // A name keeps its name (Host header, TLS server name and certificate check); the pinned lookup decides where it connects.
        host: isName ? allowed.host : allowed.address,
        port: allowed.port,
        path: `${url.pathname}${url.search}`,
        ...(url.username || url.password ? { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` } : {}),
        headers: { ...post.headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(post.body)) },
        lookup: pinnedLookup(allowed),
        agent: false,
      },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let bytes = 0;
        const done = () => {
          const excerpt = Buffer.concat(chunks).toString('utf8').replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
          if (status >= 200 && status < 300) finish({ delivered: true, status, error: null });
          else if (status >= 300 && status < 400) finish({ delivered: false, status, error: `answered ${status}: redirects are not followed` });
          else finish({ delivered: false, status, error: `answered ${status}${excerpt ? `: ${excerpt}` : ''}` });
        };
        res.on('data', (chunk: Buffer) => {
          if (bytes < MAX_ANSWER_BYTES) chunks.push(chunk.subarray(0, MAX_ANSWER_BYTES - bytes));
          bytes += chunk.length;
          if (bytes >= MAX_ANSWER_BYTES) done();
        });
        res.on('end', done);
        res.on('error', done);
      },
    );
    const timer = setTimeout(() => finish({ delivered: false, status: null, error: `no answer within ${post.timeoutMs / 1000} s` }), post.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => finish({ delivered: false, status: null, error: `could not post: ${err.code ?? err.message}` }));
    req.end(post.body);
  });
}
