/**
 * The provided agent's HTTP/1.1 side, byte for byte: the C test bootstrap
 * sends the exact bytes of a request file from its code directory on a new
 * connection (`{"op":"raw"}`, `{ID}` replaced by the call's id) and answers
 * what came back. Covers Expect: 100-continue, pipelining, header names in
 * any case, HTTP/1.0, bodies over the 6 MB cap (refused with 413, never kept),
 * malformed requests, methods, and a second `next` while a call is in flight.
 */
import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { bootstrapCode, providedSessions, type CodeFile } from '../helpers/provided-bootstrap-kit.ts';

const start = providedSessions();
const file = (text: string | Buffer): CodeFile => ({ data: text, mode: 0o644 });
const crlf = (lines: string[]) => lines.join('\r\n');

/** A chunked request body of `megabytes` MiB in 1 MiB chunks. */
function chunkedBody(megabytes: number): Buffer {
  const chunk = Buffer.concat([Buffer.from('100000\r\n'), Buffer.alloc(1024 * 1024, 'z'), Buffer.from('\r\n')]);
  return Buffer.concat([...Array.from({ length: megabytes }, () => chunk), Buffer.from('0\r\n\r\n')]);
}

const REQUESTS: Record<string, CodeFile> = {
  'expect.txt': file(crlf(['POST /2018-06-01/runtime/invocation/other/response HTTP/1.1', 'Host: x', 'Expect: 100-continue', 'content-length: 2', 'Connection: close', '', '{}'])),
  'pipelined.txt': file(
    crlf(['GET /nope HTTP/1.1', 'Host: x', '', 'POST /2018-06-01/runtime/invocation/other/error HTTP/1.1', 'Host: x', 'CONTENT-LENGTH: 0', 'connection: close', '', '']),
  ),
  'http10.txt': file(crlf(['GET /nothing HTTP/1.0', '', ''])),
  'malformed.txt': file(crlf(['BROKEN', '', ''])),
  'method.txt': file(crlf(['DELETE /2018-06-01/runtime/invocation/next HTTP/1.1', 'Connection: close', '', ''])),
  'next-while-busy.txt': file(crlf(['GET /2018-06-01/runtime/invocation/next HTTP/1.1', 'Host: x', 'Connection: close', '', ''])),
  'error-any-case.txt': file(
    crlf(['POST /2018-06-01/runtime/invocation/{ID}/error HTTP/1.1', 'lambda-runtime-function-error-type: lower.Case', 'TRANSFER-ENCODING: Chunked', 'Connection: close', '', '10', '{"errorMessage":', '3', '"m"', '1', '}', '0', '', '']),
  ),
  'too-large-expect.txt': file(crlf(['POST /2018-06-01/runtime/invocation/{ID}/response HTTP/1.1', 'Host: x', 'Expect: 100-continue', 'Content-Length: 7000000', '', ''])),
  'too-large-chunked.txt': file(
    Buffer.concat([Buffer.from(crlf(['POST /2018-06-01/runtime/invocation/{ID}/response HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked', 'Connection: close', '', ''])), chunkedBody(7)]),
  ),
};

/** VmHWM of the container's PID 1 (the agent), read with the image's busybox cat. */
async function peakResidentKb(container: Dockerode.Container): Promise<number> {
  const exec = await container.exec({ Cmd: ['cat', '/proc/1/status'], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const match = /VmHWM:\s+(\d+) kB/.exec(Buffer.concat(chunks).toString('latin1'));
  if (!match) throw new Error('no VmHWM in /proc/1/status');
  return Number(match[1]);
}

async function ready() {
  const session = await start({ ...(await bootstrapCode()), ...REQUESTS });
  const init = await session.init({ handler: 'bootstrap' });
  expect(init.ok).toBe(true);
  return session;
}

const raw = async (session: Awaited<ReturnType<typeof ready>>, name: string) => {
  const reply = await session.invoke({ op: 'raw', file: name });
  expect(reply.ok, JSON.stringify(reply.error)).toBe(true);
  return (reply.result as { raw: string }).raw;
};

describe('provided agent: HTTP/1.1', () => {
  it('answers Expect: 100-continue, pipelined requests in order, and header names in any case', async () => {
    const session = await ready();
    expect(await raw(session, 'expect.txt')).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 400 Bad Request\r\n[^]*Connection: close\r\n\r\n\{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"\}$/);
    const pipelined = await raw(session, 'pipelined.txt');
    expect([...pipelined.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1])).toEqual(['404', '400']);
    expect(await raw(session, 'http10.txt')).toMatch(/^HTTP\/1\.1 404 Not Found\r\n[^]*Connection: close\r\n/);
  });

  it('refuses what is not a request it serves: 400 and close for a malformed one, 405 for a wrong method, 403 for a second next', async () => {
    const session = await ready();
    expect(await raw(session, 'malformed.txt')).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[^]*Connection: close\r\n/);
    expect(await raw(session, 'method.txt')).toMatch(/^HTTP\/1\.1 405 /);
    expect(await raw(session, 'next-while-busy.txt')).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n[^]*"errorType":"InvalidStateTransition"/);
  });

  it('reads an error posted chunked with lower-case header names', async () => {
    const session = await ready();
    const reply = await session.invoke({ op: 'raw', file: 'error-any-case.txt' });
    expect(reply).toMatchObject({ ok: false, error: { type: 'lower.Case', message: 'm' } });
    // The bootstrap's own answer afterwards came too late for the call: Lambda's 400.
    expect((await session.invoke({ op: 'echo' })).logs).toContain('answer status 400');
  });

  it('refuses a body over 6 MB with 413, announced (Expect) or chunked, and keeps serving', async () => {
    const session = await ready();
    for (const name of ['too-large-expect.txt', 'too-large-chunked.txt']) {
      const reply = await session.invoke({ op: 'raw', file: name });
      expect(reply, name).toMatchObject({ ok: false, error: { type: 'Runtime.ResponseSizeTooLarge' } });
      const next = await session.invoke({ op: 'echo' });
      expect(next.logs, name).toContain('raw status: HTTP/1.1 413 Payload Too Large\n');
      expect(next).toMatchObject({ ok: true });
    }
    // The agent (PID 1) keeps at most 6 MiB of a body and drops the rest as it comes: its peak
    // resident size (~1.5 MB of its own plus that) stays far below the 7 MB body kept whole, let alone copied.
    expect(await peakResidentKb(session.container)).toBeLessThan(10 * 1024);
  });
});
