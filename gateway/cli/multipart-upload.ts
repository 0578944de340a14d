/**
 * A multipart/form-data request written by hand over `node:http(s)`, so the
 * body can be streamed with a known Content-Length and its progress counted
 * as it goes out (fetch hides both).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

export type FormPart =
  | { name: string; value: string }
  | { name: string; filename: string; data: Buffer; contentType?: string };

/** Called as the body goes out: bytes handed to the socket so far, and the total. */
export type ProgressListener = (sent: number, total: number) => void;

export interface UploadRequest {
  url: URL;
  method: 'PUT' | 'POST';
  headers: Record<string, string>;
  parts: FormPart[];
  onProgress?: ProgressListener;
}

const CHUNK_BYTES = 64 * 1024;

/**
 * Sends the parts and resolves with the response (any status) once its body
 * is read. A response that arrives before the body is fully sent (a 413,
 * say) wins: the rest of the body is not sent. Rejects with the socket's
 * error (`ECONNREFUSED`, …) when no response came.
 */
export function sendMultipart(request: UploadRequest): Promise<Response> {
  const boundary = `hearth-${randomBytes(12).toString('hex')}`;
  const chunks = encodeParts(request.parts, boundary);
  const total = chunks.reduce((sum, c) => sum + c.length, 0);
  const transport = request.url.protocol === 'https:' ? https : http;

  return new Promise<Response>((resolve, reject) => {
    let answered = false;
    const req = transport.request(request.url, {
      method: request.method,
      headers: {
        ...request.headers,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(total),
      },
    });
    req.on('response', (res) => {
      answered = true;
      const body: Buffer[] = [];
      res.on('data', (chunk: Buffer) => body.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const headers = new Headers();
        for (const [key, value] of Object.entries(res.headers)) {
          if (typeof value === 'string') headers.set(key, value);
          else if (Array.isArray(value)) for (const v of value) headers.append(key, v);
        }
        resolve(new Response(Buffer.concat(body), { status: res.statusCode ?? 500, headers }));
      });
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    void writeBody(req, chunks, total, request.onProgress, () => answered).catch(() => {
      // A write fails only when the request already failed; its 'error' event reports it.
    });
  });
}

async function writeBody(
  req: http.ClientRequest,
  chunks: Buffer[],
  total: number,
  onProgress: ProgressListener | undefined,
  answered: () => boolean,
): Promise<void> {
  let sent = 0;
  onProgress?.(0, total);
  for (const chunk of chunks) {
    for (let at = 0; at < chunk.length; at += CHUNK_BYTES) {
      if (answered() || req.destroyed) return;
      const piece = chunk.subarray(at, at + CHUNK_BYTES);
      if (!req.write(piece)) await drained(req);
      sent += piece.length;
      onProgress?.(sent, total);
    }
  }
  req.end();
}

/** Waits for the socket to take more, or for the request to end early. */
function drained(req: http.ClientRequest): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      req.off('drain', done).off('close', done);
      resolve();
    };
    req.on('drain', done).on('close', done);
  });
}

function encodeParts(parts: FormPart[], boundary: string): Buffer[] {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if ('value' in part) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${quote(part.name)}"\r\n\r\n${part.value}\r\n`));
    } else {
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${quote(part.name)}"; filename="${quote(part.filename)}"\r\n` +
            `Content-Type: ${part.contentType ?? 'application/octet-stream'}\r\n\r\n`,
        ),
        part.data,
        Buffer.from('\r\n'),
      );
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return chunks;
}

/** The escaping browsers apply to names in Content-Disposition. */
function quote(name: string): string {
  return name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
