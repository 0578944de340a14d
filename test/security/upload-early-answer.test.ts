/**
 * Uploads the gateway refuses before their body has arrived (a wrong key,
 * a wrong media type, a body over its limit) must still reach the client as
 * a readable 4xx JSON answer, and the connection must survive the upload:
 * a socket closed mid-upload makes the kernel reset it, and Node's fetch
 * (undici) or `node:http` then get EPIPE instead of the answer.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';

const MiB = 1024 * 1024;
const MULTIPART = 'multipart/form-data; boundary=hearth-boundary';

describe('early answers to uploads', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  /** `bytes` in 1 MiB pieces `pauseMs` apart: an upload that takes a while, as over a real network. */
  function slowly(bytes: Buffer, pauseMs: number): ReadableStream<Uint8Array> {
    let at = 0;
    return new ReadableStream({
      async pull(controller) {
        if (at >= bytes.length) return controller.close();
        await new Promise((r) => setTimeout(r, pauseMs));
        controller.enqueue(bytes.subarray(at, at + MiB));
        at += MiB;
      },
    });
  }

  /**
   * A raw HTTP/1.1 client: sends `head`, then `total` body bytes in 256 KiB
   * pieces `pauseMs` apart, then `GET /healthz` on the same connection.
   * Resolves with all the server sent, the first socket error, and how much
   * of the body it could write.
   */
  function rawUpload(head: string, total: number, pauseMs: number): Promise<{ received: string; error: string | null; wrote: number }> {
    const url = new URL(platform.url);
    return new Promise((resolve) => {
      const socket = connect(Number(url.port), url.hostname);
      let received = '';
      let error: string | null = null;
      let wrote = 0;
      const piece = Buffer.alloc(256 * 1024, 0x61);
      socket.on('data', (d: Buffer) => {
        received += d.toString('latin1');
        if ((received.match(/HTTP\/1\.1 /g) ?? []).length >= 2 && received.endsWith('}')) socket.end();
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        error ??= err.code ?? String(err);
      });
      socket.on('close', () => resolve({ received, error, wrote }));
      socket.write(head);
      const next = () => {
        if (socket.destroyed) return;
        if (wrote >= total) return void socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
        const n = Math.min(piece.length, total - wrote);
        wrote += n;
        socket.write(piece.subarray(0, n), () => setTimeout(next, pauseMs));
      };
      next();
    });
  }

  it('reads the whole body of a refused upload, answers, and keeps the connection for the next request', async () => {
    const total = 16 * MiB;
    const head = `PUT /v1/functions/${uniqueName('raw')} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nContent-Type: ${MULTIPART}\r\nContent-Length: ${total}\r\n\r\n`;
    // 64 pieces 15 ms apart: about a second, longer than the 500 ms @hono/node-server waits before closing.
    const got = await rawUpload(head, total, 15);
    expect(got.error).toBeNull();
    expect(got.wrote).toBe(total);
    expect(got.received).toMatch(/^HTTP\/1\.1 401 /);
    expect(got.received).toContain('"code":"Unauthorized"');
    expect(got.received).toMatch(/HTTP\/1\.1 200 [\s\S]*"status":"ok"/);
  });

  it('answers a slow upload with a wrong key with a 401 that Node fetch reads', async () => {
    const body = Buffer.alloc(20 * MiB, 0x61);
    const res = await fetch(`${platform.url}/v1/functions/${uniqueName('early')}`, {
      method: 'PUT',
      headers: { authorization: 'Bearer nope', 'content-type': MULTIPART, 'content-length': String(body.length) },
      body: slowly(body, 40),
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('Unauthorized');
  });

  it('answers an upload over the deploy limit (by its declared length) with a 413 that Node fetch reads', async () => {
    const res = await fetch(`${platform.url}/v1/functions/${uniqueName('early')}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${platform.apiKey}`, 'content-type': MULTIPART },
      body: Buffer.alloc(60 * MiB, 0x61),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PayloadTooLarge');
  });

  it('answers an upload that is not multipart with a 415 that node:http reads, written slowly', async () => {
    const total = 24 * MiB;
    const got = await new Promise<{ status?: number; body?: string; error?: string }>((resolve) => {
      const req = request(`${platform.url}/v1/functions/${uniqueName('early')}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${platform.apiKey}`, 'content-type': 'application/zip', 'content-length': String(total) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', (err) => resolve({ error: String(err) }));
      let sent = 0;
      const piece = Buffer.alloc(MiB, 0x61);
      const next = () => {
        if (sent >= total) return void req.end();
        sent += MiB;
        req.write(piece, () => setTimeout(next, 30));
      };
      next();
    });
    expect(got.error).toBeUndefined();
    expect(got.status).toBe(415);
    expect(JSON.parse(got.body!).error.code).toBe('UnsupportedMediaType');
  });

  for (const path of ['/v1/functions/some-fn/invoke', '/fn/some-fn/x']) {
    it(`answers a chunked 20 MiB body to ${path} with a 413 that Node fetch reads`, async () => {
      const res = await fetch(`${path.startsWith('/fn/') ? platform.fnUrl : platform.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${platform.apiKey}`, 'content-type': 'application/json' },
        body: slowly(Buffer.alloc(20 * MiB, 0x20), 20),
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PayloadTooLarge');
    });
  }
});
