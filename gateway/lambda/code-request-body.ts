/**
 * Lambda JSON request bodies read without ever stalling the event loop.
 * A CreateFunction or UpdateFunctionCode body may be ~70 MB, but all of it
 * save the base64 `ZipFile` string is a few small fields; `JSON.parse` of
 * the whole would block the gateway for hundreds of milliseconds (a second
 * and more for deep nesting or 200,000 keys). So one linear pass over the
 * bytes finds the `ZipFile` string at its place in the document and
 * decodes its base64 as it goes, giving way to other requests every
 * megabyte; everything else — the fields — must come to at most
 * `maxFieldsBytes` and `maxDepth` levels before anything is parsed, and is
 * then parsed as the small JSON text it is, with the `ZipFile` value left
 * empty.
 *
 * Why the cut is safe: in JSON a left-to-right scan finds string boundaries
 * unambiguously, and removing one string's content (checked to be base64
 * characters only) leaves every other token where it was; so if the fields
 * parse, the document parsed the same way and the string cut was the value
 * at that path. A second `ZipFile` at the same path is refused, so
 * `JSON.parse`'s last-one-wins cannot pick another.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { LambdaError } from './lambda-errors.ts';

export interface JsonBodyLimits {
  /** Bytes of everything but the `ZipFile` string's content. */
  maxFieldsBytes: number;
  maxDepth: number;
}

export interface ScannedBody {
  /** The parsed document, with the `ZipFile` string (if found at `zipPath`) as ''. */
  json: unknown;
  /** The decoded `ZipFile`, or null when the document had no string there. */
  zip: Buffer | null;
}

/** Bytes scanned between two turns of the event loop. */
const SLICE = 1 << 20;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Scans and parses `body`; `zipPath` is where the base64 string may be
 * (`['Code', 'ZipFile']` for CreateFunction, `['ZipFile']` for
 * UpdateFunctionCode, none for other bodies). Throws LambdaError
 * (RequestTooLargeException, InvalidRequestContentException,
 * InvalidParameterValueException) for a body it will not take.
 */
export async function scanJsonBody(body: Uint8Array, zipPath: readonly string[] | null, limits: JsonBodyLimits): Promise<ScannedBody> {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  /** Per open container: an object (true) or array; whether it lies on `zipPath`; an object's current key. */
  const stack: Array<{ object: boolean; onPath: boolean; key: string | null; expectKey: boolean }> = [];
  let zipSpan: { start: number; end: number } | null = null;
  let zip: Buffer | null = null;
  let fieldsBytes = 0;
  let nextYield = SLICE;
  let i = 0;

  const countFields = (n: number) => {
    fieldsBytes += n;
    if (fieldsBytes > limits.maxFieldsBytes) {
      throw new LambdaError(
        'RequestTooLargeException',
        `The request's fields${zipPath ? ' other than ZipFile' : ''} come to more than ${limits.maxFieldsBytes} bytes; they are limited to that.`,
      );
    }
  };

  while (i < bytes.length) {
    if (i >= nextYield) {
      await yieldToLoop();
      nextYield = i + SLICE;
    }
    const b = bytes[i]!;
    if (b === QUOTE) {
      const top = stack[stack.length - 1];
      if (zipPath && top?.object && !top.expectKey && top.onPath && stack.length === zipPath.length && top.key === zipPath[zipPath.length - 1]) {
        if (zipSpan) throw new LambdaError('InvalidParameterValueException', 'ZipFile is given more than once.');
        countFields(2);
        const decoded = await decodeBase64(bytes, i + 1);
        zipSpan = { start: i + 1, end: decoded.end };
        zip = decoded.bytes;
        i = decoded.end + 1;
        nextYield = i + SLICE;
        continue;
      }
      // Any other string must end within what is left of the fields' budget.
      const end = stringEnd(bytes, i + 1, i + 1 + limits.maxFieldsBytes - fieldsBytes);
      countFields(end + 1 - i);
      if (top?.object && top.expectKey) {
        top.key = top.onPath && end - i <= 256 ? keyText(bytes, i, end) : null;
        top.expectKey = false;
      }
      i = end + 1;
      continue;
    }
    countFields(1);
    if (b === 0x7b || b === 0x5b) {
      // `{` or `[`
      if (stack.length >= limits.maxDepth) {
        throw new LambdaError('InvalidRequestContentException', `Could not parse request body into json: it nests deeper than ${limits.maxDepth} levels.`);
      }
      const top = stack[stack.length - 1];
      const onPath = zipPath !== null && (top === undefined || (top.object && top.onPath && stack.length < zipPath.length && top.key === zipPath[stack.length - 1]));
      stack.push({ object: b === 0x7b, onPath, key: null, expectKey: b === 0x7b });
    } else if (b === 0x7d || b === 0x5d) {
      stack.pop();
    } else if (b === 0x2c) {
      // `,`: in an object, a key comes next.
      const top = stack[stack.length - 1];
      if (top?.object) top.expectKey = true;
    }
    i++;
  }

  const fields = zipSpan ? Buffer.concat([bytes.subarray(0, zipSpan.start), bytes.subarray(zipSpan.end)]) : bytes;
  let json: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(fields);
    json = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new LambdaError('InvalidRequestContentException', 'Could not parse request body into json: the body is not a JSON document');
  }
  return { json, zip };
}

/**
 * The index of the quote closing the string whose content starts at `from`,
 * looked for before `before`; past that the fields are too large (or the
 * string is not closed, which the budget refuses just the same).
 */
function stringEnd(bytes: Buffer, from: number, before: number): number {
  const window = bytes.subarray(0, Math.min(before, bytes.length));
  let at = from;
  for (;;) {
    const quote = window.indexOf(QUOTE, at);
    if (quote < 0) {
      if (window.length === bytes.length) throw new LambdaError('InvalidRequestContentException', 'Could not parse request body into json: a string is not closed');
      throw new LambdaError('RequestTooLargeException', `The request's fields come to more than the bytes they are limited to (a string of over ${before - from} bytes).`);
    }
    // A quote after an odd number of backslashes is escaped.
    let slashes = 0;
    while (quote - 1 - slashes >= from && window[quote - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return quote;
    at = quote + 1;
  }
}

/** A key's text (escapes decoded), or null when it is not valid JSON (the parse that follows refuses it). */
function keyText(bytes: Buffer, quote: number, end: number): string | null {
  const raw = bytes.toString('utf8', quote, end + 1);
  if (!raw.includes('\\')) return raw.slice(1, -1);
  try {
    return JSON.parse(raw) as string;
  } catch {
    return null;
  }
}

const invalidBase64 = () => new LambdaError('InvalidParameterValueException', 'ZipFile must be base64-encoded.');

/** Base64 digits staged before each decode: a multiple of 4. */
const STAGE = 1 << 20;

/** A byte's role in base64 text: 1 a digit, 2 skipped (a space), 0 anything else. */
const ROLE = new Uint8Array(256);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') ROLE[ch.charCodeAt(0)] = 1;
ROLE[0x20] = 2;

/**
 * Decodes the JSON string whose content starts at `start` as base64, up to
 * its closing quote (`end`), in one linear pass that yields to the event
 * loop every megabyte. Spaces and the escapes `\n`, `\r`, `\t`
 * (line-wrapped base64) are skipped and `\/` is a `/`; padding may only end
 * it. Throws InvalidParameterValueException for anything else.
 */
export async function decodeBase64(bytes: Uint8Array, start: number): Promise<{ bytes: Buffer; end: number }> {
  const state: Base64State = {
    out: Buffer.allocUnsafe(Math.floor(((bytes.length - start) * 3) / 4) + 3),
    stage: Buffer.allocUnsafe(STAGE),
    staged: 0,
    written: 0,
    digits: 0,
    padding: 0,
    end: -1,
  };
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = start;
  for (;;) {
    at = fastSlice(buffer, at, state) ?? decodeSlice(bytes, at, Math.min(at + SLICE, bytes.length), state);
    if (state.end >= 0) break;
    if (at >= bytes.length) throw new LambdaError('InvalidRequestContentException', 'Could not parse request body into json: ZipFile is not closed');
    await yieldToLoop();
  }
  if (state.digits % 4 === 1 || (state.padding > 0 && (state.digits + state.padding) % 4 !== 0)) throw invalidBase64();
  flush(state);
  return { bytes: state.out.subarray(0, state.written), end: state.end };
}

interface Base64State {
  out: Buffer;
  stage: Buffer;
  staged: number;
  written: number;
  digits: number;
  padding: number;
  /** The closing quote's index, once found. */
  end: number;
}

function flush(state: Base64State): void {
  if (state.staged === 0) return;
  state.written += state.out.write(state.stage.toString('latin1', 0, state.staged), state.written, 'base64');
  state.staged = 0;
}

/**
 * The common case natively: a slice of nothing but base64 digits (as the
 * SDKs send) is decoded at once and checked by encoding it back. Returns
 * where it stopped, or undefined to leave the slice to `decodeSlice`.
 */
function fastSlice(bytes: Buffer, from: number, state: Base64State): number | undefined {
  if (state.staged !== 0 || state.padding !== 0) return undefined;
  const to = from + SLICE;
  if (to > bytes.length) return undefined;
  const text = bytes.toString('latin1', from, to);
  const decoded = Buffer.from(text, 'base64');
  if (decoded.length !== (SLICE / 4) * 3 || decoded.toString('base64') !== text) return undefined;
  decoded.copy(state.out, state.written);
  state.written += decoded.length;
  state.digits += SLICE;
  return to;
}

/** Decodes `bytes[from, to)` into `state`; returns where it stopped (`state.end` set at the closing quote). Synchronous, so it stays optimised. */
function decodeSlice(bytes: Uint8Array, from: number, to: number, state: Base64State): number {
  const stage = state.stage;
  let staged = state.staged;
  let digits = state.digits;
  let i = from;
  for (; i < to; i++) {
    let b = bytes[i]!;
    let role = ROLE[b]!;
    if (role === 2) continue;
    if (b === BACKSLASH) {
      const next = bytes[++i];
      if (next === 0x6e || next === 0x72 || next === 0x74) continue; // \n \r \t
      if (next !== 0x2f) throw invalidBase64(); // only \/ stands for a digit
      b = 0x2f;
      role = 1;
    }
    if (role === 1) {
      if (state.padding > 0) throw invalidBase64();
      stage[staged++] = b;
      digits++;
      if (staged === STAGE) {
        state.staged = staged;
        flush(state);
        staged = 0;
      }
      continue;
    }
    if (b === QUOTE) {
      state.end = i;
      break;
    }
    // `=`: at most two, and nothing but more padding or spacing after.
    if (b !== 0x3d || ++state.padding > 2) throw invalidBase64();
  }
  state.staged = staged;
  state.digits = digits;
  return i;
}
