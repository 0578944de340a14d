import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { MultipartParser, boundaryOf, type MultipartEvent } from '../../gateway/deploy/multipart-parser.ts';
import { readDeployForm } from '../../gateway/deploy/read-deploy-form.ts';
import { HearthError } from '../../gateway/errors.ts';
import { UploadBudget } from '../../gateway/upload-budget.ts';

const B = 'hearth-b0undary';

/** Parses `body` fed in pieces of `split` bytes; returns the parts with their data joined. */
function parse(body: Buffer, split = body.length, limits = {}) {
  const parser = new MultipartParser(B, limits);
  const events: MultipartEvent[] = [];
  for (let at = 0; at < body.length; at += split) events.push(...parser.write(body.subarray(at, at + split)));
  parser.end();
  const parts: { name: string; filename?: string; data: string }[] = [];
  let chunks: Buffer[] = [];
  for (const event of events) {
    if (event.type === 'part') {
      parts.push({ ...event.headers, data: '' });
      chunks = [];
    } else if (event.type === 'data') chunks.push(Buffer.from(event.data));
    else parts.at(-1)!.data = Buffer.concat(chunks).toString('latin1');
  }
  return parts.map(({ contentType: _, ...rest }: { contentType?: string; name: string; filename?: string; data: string }) => rest);
}

function expectInvalid(run: () => unknown, message?: RegExp) {
  let error: unknown;
  try {
    run();
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(HearthError);
  expect((error as HearthError).code).toBe('InvalidMultipart');
  if (message) expect((error as HearthError).message).toMatch(message);
}

const part = (headers: string, data: string | Buffer) => Buffer.concat([Buffer.from(`--${B}\r\n${headers}\r\n\r\n`), Buffer.from(data), Buffer.from('\r\n')]);
const close = Buffer.from(`--${B}--\r\n`);

describe('multipart parser', () => {
  // Data that looks like a delimiter up to its last byte, at a chunk edge, is the classic bug.
  const tricky = Buffer.from(`\r\n--${B.slice(0, -1)}X\r\r\n-\r\n--`);
  const body = Buffer.concat([
    part('Content-Disposition: form-data; name="runtime"', 'nodejs20'),
    part('Content-Disposition: form-data; name="code"; filename="a b.zip"\r\nContent-Type: application/zip', tricky),
    part('Content-Disposition: form-data; name="empty"', ''),
    close,
  ]);
  const expected = [
    { name: 'runtime', data: 'nodejs20' },
    { name: 'code', filename: 'a b.zip', data: tricky.toString('latin1') },
    { name: 'empty', data: '' },
  ];

  it('gives the same parts however the body is split', () => {
    for (let split = 1; split <= body.length; split++) expect(parse(body, split), `split ${split}`).toEqual(expected);
  });

  it('reads what browsers and fetch send: quoted and token parameters, escapes, a missing final line end', () => {
    const sent = Buffer.concat([
      part('content-disposition: form-data; name=handler', 'index.handler'),
      part('Content-Disposition: form-data; name="code"; filename="C:\\\\dir\\\\x.js"', 'x'),
      Buffer.from(`--${B}--`),
    ]);
    expect(parse(sent)).toEqual([
      { name: 'handler', data: 'index.handler' },
      { name: 'code', filename: 'C:\\dir\\x.js', data: 'x' },
    ]);
  });

  it('keeps binary data intact across many chunk sizes', () => {
    const data = randomBytes(300_000);
    const sent = Buffer.concat([part('Content-Disposition: form-data; name="code"; filename="x.bin"', data), close]);
    for (const split of [1000, 4096, 65536, 65537]) {
      const [got] = parse(sent, split);
      expect(Buffer.from(got!.data, 'latin1').equals(data)).toBe(true);
    }
  });

  it('refuses a body that ends before the closing boundary', () => {
    expectInvalid(() => parse(part('Content-Disposition: form-data; name="runtime"', 'nodejs20')), /before the closing boundary/);
    expectInvalid(() => parse(Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="runtime"\r\n\r\nnodejs20\r\n--${B.slice(0, 4)}`)));
    expectInvalid(() => parse(Buffer.alloc(0)));
  });

  it('refuses parts that are not plain form data', () => {
    expectInvalid(() => parse(Buffer.concat([part('Content-Type: text/plain', 'x'), close])), /no Content-Disposition/);
    expectInvalid(() => parse(Buffer.concat([part('Content-Disposition: attachment; name="a"', 'x'), close])), /not "form-data"/);
    expectInvalid(() => parse(Buffer.concat([part('Content-Disposition: form-data; filename="a"', 'x'), close])), /no name/);
    expectInvalid(() => parse(Buffer.concat([part('Content-Disposition: form-data; name="a"; name="b"', 'x'), close])), /repeats/);
    expectInvalid(() => parse(Buffer.concat([part('Content-Disposition: form-data; name="a\r\n folded"', 'x'), close])), /malformed header/);
    expectInvalid(() => parse(Buffer.concat([part('Content-Disposition: form-data; name="a', 'x'), close])), /unterminated/);
    expectInvalid(() => parse(Buffer.concat([part('Content-Disposition: form-data; name="a"\r\nContent-Transfer-Encoding: base64', 'eA=='), close])), /base64/);
    expectInvalid(() => parse(Buffer.from(`--${B}junk\r\n`)), /something other than a line end/);
  });

  it('caps headers, parts, preamble and epilogue', () => {
    expectInvalid(() => parse(Buffer.concat([part(`Content-Disposition: form-data; name="a"\r\nX-Pad: ${'p'.repeat(9000)}`, 'x'), close])), /headers are larger/);
    // An endless header block is refused once past the cap, not buffered.
    const parser = new MultipartParser(B);
    parser.write(Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="a"\r\n`));
    expectInvalid(() => parser.write(Buffer.alloc(10_000, 'h')), /headers are larger/);
    const many = Buffer.concat([...Array.from({ length: 5 }, (_, i) => part(`Content-Disposition: form-data; name="f${i}"`, 'x')), close]);
    expect(parse(many, many.length, { maxParts: 5 })).toHaveLength(5);
    expectInvalid(() => parse(many, many.length, { maxParts: 4 }), /more than 4 parts/);
    expectInvalid(() => parse(Buffer.concat([Buffer.alloc(10_000, 'p'), body])), /does not start with its boundary/);
    expectInvalid(() => parse(Buffer.concat([body, Buffer.alloc(10_000, 'e')])), /after the closing boundary/);
  });

  it('reads the boundary from the Content-Type', () => {
    expect(boundaryOf('multipart/form-data; boundary=abc')).toBe('abc');
    expect(boundaryOf('multipart/form-data; charset=utf-8; boundary="a b:c"')).toBe('a b:c');
    expectInvalid(() => boundaryOf('multipart/form-data'), /no boundary/);
    expectInvalid(() => boundaryOf('multipart/form-data; boundary='), /1 to 70/);
    expectInvalid(() => boundaryOf(`multipart/form-data; boundary=${'a'.repeat(71)}`), /1 to 70/);
    expectInvalid(() => boundaryOf('multipart/form-data; boundary="a\u0000"'), /1 to 70/);
  });

  it('takes linear time on pathological headers', () => {
    const started = performance.now();
    expectInvalid(() => boundaryOf(`multipart/form-data; ${'a=b; '.repeat(20_000)}x`));
    expectInvalid(() => parse(Buffer.concat([part(`Content-Disposition: form-data; name="a"${';'.repeat(8000)}x`, 'x'), close])));
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('reading a deploy form', () => {
  async function* pieces(body: Buffer, size = 1000) {
    for (let at = 0; at < body.length; at += size) yield body.subarray(at, at + size);
  }
  const options = { boundary: B, textFields: ['runtime', 'env'], maxBytes: 1024 * 1024, maxFieldBytes: 100 };

  it('spools the code to a private file and keeps text fields', async () => {
    const code = randomBytes(200_000);
    const body = Buffer.concat([
      part('Content-Disposition: form-data; name="runtime"', 'nodejs20'),
      part('Content-Disposition: form-data; name="code"; filename="x.zip"', code),
      part('Content-Disposition: form-data; name="other"', 'y'),
      close,
    ]);
    const form = await readDeployForm(pieces(body), options);
    expect(form.fields).toEqual({ runtime: 'nodejs20' });
    expect(form.unknown).toEqual(['other']);
    expect(form.code).toMatchObject({ filename: 'x.zip', size: code.length });
    expect((await readFile(form.code!.path)).equals(code)).toBe(true);
    await form.dispose();
    expect(existsSync(form.code!.path)).toBe(false);
  });

  it('removes the temp file whenever it refuses the body', async () => {
    const paths: string[] = [];
    const code = part('Content-Disposition: form-data; name="code"; filename="x.zip"', randomBytes(50_000));
    const cases: { body: AsyncIterable<Uint8Array>; code: string; onBytes?: (n: number) => void }[] = [
      { body: pieces(code), code: 'InvalidMultipart' }, // truncated
      { body: pieces(Buffer.concat([code, part('Content-Disposition: form-data; name="env"', 'e'.repeat(101)), close])), code: 'InvalidParameter' },
      { body: pieces(Buffer.concat([code, code, close])), code: 'InvalidParameter' }, // code twice
      { body: pieces(Buffer.concat([code, Buffer.alloc(1024 * 1024)])), code: 'PayloadTooLarge' },
      {
        body: (async function* () {
          yield* pieces(code.subarray(0, 30_000));
          throw new Error('aborted');
        })(),
        code: 'InvalidMultipart',
      },
      { body: pieces(Buffer.concat([code, close])), code: 'TooManyUploads', onBytes: budgetOf(40_000) },
    ];
    for (const c of cases) {
      const seen = new Set(await tempSpools());
      const error = await readDeployForm(c.body, { ...options, ...(c.onBytes ? { onBytes: c.onBytes } : {}) }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(error, c.code).toBeInstanceOf(HearthError);
      expect((error as HearthError).code).toBe(c.code);
      const left = (await tempSpools()).filter((p) => !seen.has(p));
      paths.push(...left);
    }
    expect(paths).toEqual([]);
  });
});

function budgetOf(namespaceBytes: number) {
  const reservation = new UploadBudget({ namespaceBytes, gatewayBytes: 10 * namespaceBytes }).reserve('ns');
  return (n: number) => reservation.grow(n);
}

async function tempSpools(): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  return (await readdir(tmpdir())).filter((name) => name.startsWith('hearth-upload-'));
}

describe('upload budget', () => {
  it('reserves declared lengths up front and refuses what does not fit, namespace first', () => {
    const budget = new UploadBudget({ gatewayBytes: 100, namespaceBytes: 60 });
    const a = budget.reserve('a', 50);
    expect(() => budget.reserve('a', 20)).toThrow(expect.objectContaining({ status: 429, code: 'TooManyUploads' }));
    const b = budget.reserve('b', 40);
    expect(() => budget.reserve('c', 20)).toThrow(expect.objectContaining({ status: 503, code: 'UploadCapacity', retryAfterSeconds: 5 }));
    a.release();
    a.release();
    expect(budget.inFlight()).toBe(40);
    const c = budget.reserve('c', 0);
    c.grow(30);
    expect(() => c.grow(31)).toThrow(expect.objectContaining({ code: 'TooManyUploads' }));
    expect(c.bytes).toBe(30);
    b.release();
    c.release();
    expect(budget.inFlight()).toBe(0);
    expect(budget.inFlight('c')).toBe(0);
  });
});
