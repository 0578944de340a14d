/**
 * Reads a deploy's multipart/form-data body as it streams in: the `code`
 * file goes straight to a private temp file, text fields are kept (each
 * capped small), and every byte is counted against the upload limit and
 * the caller's upload budget as it arrives. Nothing of the upload is ever
 * held in memory beyond one network chunk and the spool's write batch.
 */
import { badRequest } from '../errors.ts';
import { tooLarge } from '../request-limits.ts';
import { MultipartParser, type MultipartLimits, type PartHeaders } from './multipart-parser.ts';
import { SpoolFile } from './spool-file.ts';

export interface DeployFormOptions {
  boundary: string;
  /** The text fields a deploy takes; any other name (but `code`) is reported as unknown. */
  textFields: readonly string[];
  /** Largest body, counted as it arrives (413 `PayloadTooLarge` beyond). */
  maxBytes: number;
  /** Largest text field, in bytes (400 `InvalidParameter` beyond). */
  maxFieldBytes: number;
  multipart?: Partial<MultipartLimits>;
  /** Called with each piece's size before it is taken in; throws to refuse the upload (the upload budget). */
  onBytes?(bytes: number): void;
}

export interface DeployForm {
  /** Each known text field that was sent. */
  fields: Record<string, string>;
  /** The `code` file part, spooled; undefined when none was sent. */
  code: { filename: string; path: string; size: number } | undefined;
  /** Field names that are neither `code` nor a known text field, in the order seen. */
  unknown: string[];
  /** Known text fields that were sent as files. */
  filesForText: string[];
  /** Sent `code`, but as text (no filename). */
  codeAsText: boolean;
  /** Removes the spooled code; safe to call more than once. */
  dispose(): Promise<void>;
}

const CODE = 'code';

/**
 * Consumes `body` to its end. Throws 400 `InvalidMultipart` for a malformed
 * or truncated body, 400 `InvalidParameter` for a repeated or oversized
 * field, 413 `PayloadTooLarge` past `maxBytes`, or whatever `onBytes`
 * throws; the temp file is gone whenever it throws.
 */
export async function readDeployForm(body: AsyncIterable<Uint8Array>, options: DeployFormOptions): Promise<DeployForm> {
  const parser = new MultipartParser(options.boundary, options.multipart);
  const fields: Record<string, string> = {};
  const unknown: string[] = [];
  const filesForText: string[] = [];
  const seen = new Set<string>();
  let codeAsText = false;
  let spool: SpoolFile | undefined;
  let code: DeployForm['code'];
  /** Where the current part's data goes. */
  let sink: { kind: 'code' } | { kind: 'text'; name: string; chunks: Buffer[]; size: number } | { kind: 'skip'; name: string; size: number } | undefined;
  let received = 0;

  const startPart = async (headers: PartHeaders) => {
    const { name } = headers;
    if (seen.has(name)) throw badRequest('InvalidParameter', `field "${name.slice(0, 64)}" is sent more than once`);
    seen.add(name);
    if (name === CODE && headers.filename !== undefined) {
      spool = await SpoolFile.create();
      code = { filename: headers.filename, path: '', size: 0 };
      sink = { kind: 'code' };
    } else if (options.textFields.includes(name) && headers.filename === undefined) {
      sink = { kind: 'text', name, chunks: [], size: 0 };
    } else {
      if (name === CODE) codeAsText = true;
      else if (options.textFields.includes(name)) filesForText.push(name);
      else unknown.push(name);
      sink = { kind: 'skip', name, size: 0 };
    }
  };

  const take = async (data: Buffer) => {
    if (!sink) return;
    if (sink.kind === 'code') {
      await spool!.append(data);
      return;
    }
    sink.size += data.length;
    if (sink.size > options.maxFieldBytes) {
      throw badRequest('InvalidParameter', `field "${sink.name.slice(0, 64)}" is larger than ${options.maxFieldBytes} bytes`);
    }
    if (sink.kind === 'text') sink.chunks.push(Buffer.from(data));
  };

  const endPart = () => {
    if (sink?.kind === 'text') fields[sink.name] = Buffer.concat(sink.chunks).toString('utf8');
    sink = undefined;
  };

  try {
    for await (const chunk of cutOffAsInvalid(body)) {
      received += chunk.length;
      if (received > options.maxBytes) throw tooLarge('the upload', options.maxBytes);
      options.onBytes?.(chunk.length);
      for (const event of parser.write(chunk)) {
        if (event.type === 'part') await startPart(event.headers);
        else if (event.type === 'data') await take(event.data);
        else endPart();
      }
    }
    parser.end();
    if (spool && code) {
      code.path = await spool.finish();
      code.size = spool.size;
    }
  } catch (err) {
    await spool?.dispose();
    throw err;
  }
  const owned = spool;
  return {
    fields,
    code,
    unknown,
    filesForText,
    codeAsText,
    dispose: async () => {
      await owned?.dispose();
    },
  };
}

/** `body`, with a failure to read it (the client went away mid-upload) as the 400 it is. */
async function* cutOffAsInvalid(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const iterator = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await iterator.next();
      } catch {
        throw badRequest('InvalidMultipart', 'the upload was cut off before its end');
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await iterator.return?.();
  }
}
