/**
 * A streaming multipart/form-data parser (RFC 7578 over RFC 2046) that holds
 * at most one part's headers and a delimiter's length of body in memory, so
 * a file part can be written elsewhere as it arrives. It is push-based and
 * synchronous: `write(chunk)` returns what the chunk completed, which makes
 * it easy to test with a body split at every possible byte.
 *
 * It is strict on purpose: anything a browser, curl or a fetch `FormData`
 * would not send (a part without a `form-data` disposition or a name,
 * folded or oversized headers, a long preamble or epilogue, too many
 * parts, a body that ends before the closing delimiter) is refused with
 * 400 `InvalidMultipart`. Every scan is a linear search; no regex runs on
 * data a client controls beyond one header line, and none can backtrack.
 */
import { badRequest, type HearthError } from '../errors.ts';

export interface MultipartLimits {
  /** Most parts in one body. */
  maxParts: number;
  /** Largest header block of one part, in bytes (also the cap on preamble and epilogue). */
  maxHeaderBytes: number;
}

export const DEFAULT_MULTIPART_LIMITS: Readonly<MultipartLimits> = Object.freeze({ maxParts: 32, maxHeaderBytes: 8 * 1024 });

/** A part's headers, as far as form data needs them. */
export interface PartHeaders {
  /** The `name` of its Content-Disposition. */
  name: string;
  /** The `filename`, when the part is a file (an empty one counts). */
  filename?: string;
  contentType?: string;
}

export type MultipartEvent =
  | { type: 'part'; headers: PartHeaders }
  | { type: 'data'; data: Buffer }
  | { type: 'partEnd' };

export function invalidMultipart(message: string): HearthError {
  return badRequest('InvalidMultipart', `the multipart/form-data body could not be parsed: ${message}`);
}

/** RFC 2046 boundary characters; the last may not be a space. */
const BOUNDARY_CHARS = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/** The boundary of a `multipart/form-data` Content-Type, or a 400 `InvalidMultipart`. */
export function boundaryOf(contentType: string): string {
  const semi = contentType.indexOf(';');
  const params = parseParams(semi < 0 ? '' : contentType.slice(semi + 1), 'the Content-Type');
  const boundary = params.get('boundary');
  if (boundary === undefined) throw invalidMultipart('the Content-Type names no boundary');
  if (!BOUNDARY_CHARS.test(boundary)) throw invalidMultipart('the boundary must be 1 to 70 characters of RFC 2046');
  return boundary;
}

type State = 'preamble' | 'afterDelimiter' | 'headers' | 'body' | 'epilogue';

const CRLF = Buffer.from('\r\n');
const HEADERS_END = Buffer.from('\r\n\r\n');
/** Spaces and tabs allowed between a delimiter and its line end (RFC 2046 transport padding). */
const MAX_PADDING = 32;

export class MultipartParser {
  readonly #delimiter: Buffer;
  readonly #limits: MultipartLimits;
  #state: State = 'preamble';
  /** Bytes received but not yet resolved (a possible start of a delimiter, an incomplete header block). */
  #pending: Buffer;
  #parts = 0;
  /** Bytes of preamble or epilogue seen. */
  #outside = 0;

  constructor(boundary: string, limits: Partial<MultipartLimits> = {}) {
    this.#delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
    this.#limits = { ...DEFAULT_MULTIPART_LIMITS, ...limits };
    // The body may start with its first delimiter: pretend a line ended just before it.
    this.#pending = Buffer.from(CRLF);
  }

  /** Feeds the next piece of the body; returns the events it completed, in order. */
  write(chunk: Uint8Array): MultipartEvent[] {
    const events: MultipartEvent[] = [];
    let buffer = this.#pending.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([this.#pending, chunk]);
    for (;;) {
      const rest = this.#step(buffer, events);
      if (rest === null) break;
      buffer = rest;
    }
    return events;
  }

  /** The body has ended: throws unless it ended after the closing delimiter. */
  end(): void {
    if (this.#state !== 'epilogue') throw invalidMultipart('the body ends before the closing boundary');
  }

  /**
   * Consumes what it can from the front of `buffer`: returns the rest to go
   * on with, or null once it needs more input (keeping what it must).
   */
  #step(buffer: Buffer, events: MultipartEvent[]): Buffer | null {
    switch (this.#state) {
      case 'preamble':
      case 'body': {
        const at = buffer.indexOf(this.#delimiter);
        if (at < 0) {
          // Everything but a possible start of the delimiter at the end is data.
          const keep = Math.min(buffer.length, this.#delimiter.length - 1);
          this.#emit(buffer.subarray(0, buffer.length - keep), events);
          this.#pending = buffer.subarray(buffer.length - keep);
          return null;
        }
        this.#emit(buffer.subarray(0, at), events);
        if (this.#state === 'body') events.push({ type: 'partEnd' });
        this.#state = 'afterDelimiter';
        return buffer.subarray(at + this.#delimiter.length);
      }
      case 'afterDelimiter': {
        if (buffer.length < 2) return this.#wait(buffer);
        if (buffer[0] === 0x2d && buffer[1] === 0x2d) {
          this.#state = 'epilogue';
          return buffer.subarray(2);
        }
        let i = 0;
        while (i < buffer.length && i <= MAX_PADDING && (buffer[i] === 0x20 || buffer[i] === 0x09)) i++;
        if (i > MAX_PADDING) throw invalidMultipart('a boundary line is followed by too much white space');
        if (buffer.length < i + 2) return this.#wait(buffer);
        if (buffer[i] !== 0x0d || buffer[i + 1] !== 0x0a) throw invalidMultipart('a boundary is followed by something other than a line end');
        if (++this.#parts > this.#limits.maxParts) throw invalidMultipart(`more than ${this.#limits.maxParts} parts`);
        this.#state = 'headers';
        return buffer.subarray(i + 2);
      }
      case 'headers': {
        // A part with no headers at all starts with the blank line itself.
        const empty = buffer.length >= 2 && buffer[0] === 0x0d && buffer[1] === 0x0a;
        const at = empty ? -2 : buffer.indexOf(HEADERS_END);
        const size = at < 0 ? buffer.length : at;
        if (size > this.#limits.maxHeaderBytes) throw invalidMultipart(`a part's headers are larger than ${this.#limits.maxHeaderBytes} bytes`);
        if (at < 0 && !empty) return this.#wait(buffer);
        const block = empty ? '' : buffer.subarray(0, at).toString('utf8');
        events.push({ type: 'part', headers: parsePartHeaders(block) });
        this.#state = 'body';
        // The body's first delimiter search needs no CRLF in front: the delimiter carries its own.
        return buffer.subarray(empty ? 2 : at + HEADERS_END.length);
      }
      case 'epilogue':
        this.#outside += buffer.length;
        if (this.#outside > this.#limits.maxHeaderBytes) throw invalidMultipart('too much data after the closing boundary');
        this.#pending = Buffer.alloc(0);
        return null;
    }
  }

  #emit(data: Buffer, events: MultipartEvent[]): void {
    if (data.length === 0) return;
    if (this.#state === 'body') {
      events.push({ type: 'data', data });
      return;
    }
    this.#outside += data.length;
    if (this.#outside > this.#limits.maxHeaderBytes) throw invalidMultipart('the body does not start with its boundary');
  }

  #wait(buffer: Buffer): null {
    // A copy: what is kept must not pin the (possibly large) chunk it came in.
    this.#pending = Buffer.from(buffer);
    return null;
  }
}

/** Parses one part's header block (lines without the final blank line). */
function parsePartHeaders(block: string): PartHeaders {
  let disposition: string | undefined;
  let contentType: string | undefined;
  for (const line of block === '' ? [] : block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0 || line[0] === ' ' || line[0] === '\t') throw invalidMultipart('a part has a malformed header line');
    const field = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (field === 'content-disposition') {
      if (disposition !== undefined) throw invalidMultipart('a part has two Content-Disposition headers');
      disposition = value;
    } else if (field === 'content-type') {
      contentType = value;
    } else if (field === 'content-transfer-encoding') {
      if (!['binary', '8bit', '7bit'].includes(value.toLowerCase())) throw invalidMultipart(`Content-Transfer-Encoding ${JSON.stringify(value.slice(0, 32))} is not supported`);
    }
  }
  if (disposition === undefined) throw invalidMultipart('a part has no Content-Disposition header');
  const semi = disposition.indexOf(';');
  const kind = (semi < 0 ? disposition : disposition.slice(0, semi)).trim().toLowerCase();
  if (kind !== 'form-data') throw invalidMultipart('a part is not "form-data"');
  const params = parseParams(semi < 0 ? '' : disposition.slice(semi + 1), 'a Content-Disposition');
  const name = params.get('name');
  if (name === undefined || name === '') throw invalidMultipart('a part has no name');
  const filename = params.get('filename');
  return { name, ...(filename !== undefined ? { filename } : {}), ...(contentType !== undefined ? { contentType } : {}) };
}

/**
 * Parses `; key=value; key="quoted"` parameters with a single left-to-right
 * scan. Keys are lower-cased; a repeated key is refused. Quoted strings take
 * `\"` and `\\` escapes (browsers percent-encode quotes instead, and those are
 * kept as sent, as undici's own parser does).
 */
function parseParams(text: string, where: string): Map<string, string> {
  const params = new Map<string, string>();
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  while (i < text.length) {
    skipSpace();
    if (text[i] === ';') {
      i++;
      continue;
    }
    if (i >= text.length) break;
    const eq = text.indexOf('=', i);
    if (eq < 0) throw invalidMultipart(`${where} has a parameter without a value`);
    const key = text.slice(i, eq).trim().toLowerCase();
    if (key === '' || /[^a-z0-9!#$&+\-.^_`|~*]/.test(key)) throw invalidMultipart(`${where} has a malformed parameter`);
    i = eq + 1;
    skipSpace();
    let value = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw invalidMultipart(`${where} has an unterminated quoted parameter`);
        const ch = text[i]!;
        if (ch === '"') {
          i++;
          break;
        }
        if (ch === '\\' && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
          continue;
        }
        value += ch;
        i++;
      }
      skipSpace();
      if (i < text.length && text[i] !== ';') throw invalidMultipart(`${where} has text after a quoted parameter`);
    } else {
      const end = text.indexOf(';', i);
      value = (end < 0 ? text.slice(i) : text.slice(i, end)).trim();
      i = end < 0 ? text.length : end;
    }
    if (params.has(key)) throw invalidMultipart(`${where} repeats the parameter "${key}"`);
    params.set(key, value);
  }
  return params;
}
