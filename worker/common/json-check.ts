/**
 * Whether a text is JSON (RFC 8259), checked in one linear pass that builds
 * nothing. `JSON.parse` answers the same question, but by building the value:
 * a 6 MB event of 3 million nested arrays or 400,000 keys holds the event
 * loop for a second or more while it does. An event travels to the function
 * as the caller's text, so the gateway only needs to know that it is JSON.
 */

const OBJECT = 1;
const ARRAY = 2;

const VALUE = 0;
const KEY = 1;
const AFTER = 2;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

const isDigit = (c: number) => c >= ZERO && c <= NINE;
const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
/** `"`, `\`, `/`, `b`, `f`, `n`, `r`, `t`: the one-character escapes. */
const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

/**
 * `null` when `text` is one JSON value (with white space around it), else
 * what is wrong and where; values nested deeper than `maxDepth` are wrong too.
 */
export function jsonSyntaxError(text: string, maxDepth = Infinity): string | null {
  // One loop over local variables (no closures: this runs on every event, up to 6 MB).
  const n = text.length;
  let i = 0;
  let stack = new Uint8Array(64);
  let depth = 0;
  /** What comes next: a value, a member's name (after `{` or `,` in an object), or what follows a value. */
  let expect = VALUE;
  for (;;) {
    let c = text.charCodeAt(i);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++i);
    if (expect === AFTER) {
      if (depth === 0) return i >= n ? null : at(i, 'unexpected text after the JSON value');
      const inObject = stack[depth - 1] === OBJECT;
      if (c === COMMA) {
        i++;
        expect = inObject ? KEY : VALUE;
      } else if (c === (inObject ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        depth--;
        i++;
      } else {
        return at(i, i >= n ? 'unexpected end of JSON' : `expected "," or "${inObject ? '}' : ']'}"`);
      }
      continue;
    }
    if (expect === KEY) {
      if (c !== QUOTE) return at(i, 'expected a property name in double quotes');
      const end = stringEnd(text, i);
      if (end < 0) return at(-end, 'bad string');
      i = end;
      c = text.charCodeAt(i);
      while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++i);
      if (c !== COLON) return at(i, 'expected ":" after a property name');
      i++;
      expect = VALUE;
      continue;
    }
    // A value.
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth >= maxDepth) return at(i, `nested deeper than ${maxDepth} levels`);
      if (depth === stack.length) {
        const grown = new Uint8Array(stack.length * 2);
        grown.set(stack);
        stack = grown;
      }
      stack[depth++] = c === OPEN_OBJECT ? OBJECT : ARRAY;
      i++;
      let d = text.charCodeAt(i);
      while (d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) d = text.charCodeAt(++i);
      if (d === (c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        depth--;
        i++;
        expect = AFTER;
      } else {
        expect = c === OPEN_OBJECT ? KEY : VALUE;
      }
      continue;
    }
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) return at(-end, 'bad string');
      i = end;
    } else if (c === MINUS || isDigit(c)) {
      const end = numberEnd(text, i);
      if (end < 0) return at(-end, 'bad number');
      i = end;
    } else if (text.startsWith('true', i) || text.startsWith('null', i)) {
      i += 4;
    } else if (text.startsWith('false', i)) {
      i += 5;
    } else {
      return at(i, i >= n ? 'unexpected end of JSON' : `unexpected character ${JSON.stringify(text[i])}`);
    }
    expect = AFTER;
  }
}

const at = (i: number, what: string) => `${what} at position ${i}`;

/** The index after the string starting at `start` (a quote), or minus the index of what is wrong. */
function stringEnd(text: string, start: number): number {
  const n = text.length;
  let i = start + 1;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) {
      const e = text.charCodeAt(i + 1);
      if (SIMPLE_ESCAPES.has(e)) i += 2;
      else if (e === 0x75 && isHex(text.charCodeAt(i + 2)) && isHex(text.charCodeAt(i + 3)) && isHex(text.charCodeAt(i + 4)) && isHex(text.charCodeAt(i + 5))) i += 6;
      else return -i;
    } else if (c < 0x20) {
      return -i;
    } else {
      i++;
    }
  }
  return -n;
}

/** The index after the number starting at `start`, or minus the index of what is wrong. */
function numberEnd(text: string, start: number): number {
  let i = start;
  if (text.charCodeAt(i) === MINUS) i++;
  const first = text.charCodeAt(i);
  if (first === ZERO) i++;
  else if (isDigit(first)) while (isDigit(text.charCodeAt(i))) i++;
  else return -i;
  if (text.charCodeAt(i) === DOT) {
    i++;
    if (!isDigit(text.charCodeAt(i))) return -i;
    while (isDigit(text.charCodeAt(i))) i++;
  }
  const e = text.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    i++;
    const sign = text.charCodeAt(i);
    if (sign === PLUS || sign === MINUS) i++;
    if (!isDigit(text.charCodeAt(i))) return -i;
    while (isDigit(text.charCodeAt(i))) i++;
  }
  return i;
}

/**
 * The members of a JSON object text, each value as its own JSON text, read
 * without building anything (the last of a repeated name wins, as in
 * `JSON.parse`); null when `text` is not an object. `text` must be valid
 * JSON (the worker's own serialisation, or checked by `jsonSyntaxError`).
 */
export function objectMembers(text: string): Map<string, string> | null {
  const n = text.length;
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== OPEN_OBJECT) return null;
  const members = new Map<string, string>();
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) === CLOSE_OBJECT) return members;
  while (i < n) {
    const keyEnd = stringEnd(text, i);
    if (keyEnd < 0) return null;
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipSpace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) return null;
    const start = skipSpace(text, i + 1);
    const end = valueEnd(text, start);
    if (end < 0) return null;
    members.set(key, text.slice(start, end));
    i = skipSpace(text, end);
    if (text.charCodeAt(i) === COMMA) i = skipSpace(text, i + 1);
    else break;
  }
  return members;
}

function skipSpace(text: string, from: number): number {
  let i = from;
  let c = text.charCodeAt(i);
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++i);
  return i;
}

/** The index after the (valid) value starting at `start`, or a negative number. */
function valueEnd(text: string, start: number): number {
  const c = text.charCodeAt(start);
  if (c === QUOTE) return stringEnd(text, start);
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    let depth = 0;
    let i = start;
    while (i < text.length) {
      const d = text.charCodeAt(i);
      if (d === QUOTE) {
        i = stringEnd(text, i);
        if (i < 0) return i;
        continue;
      }
      if (d === OPEN_OBJECT || d === OPEN_ARRAY) depth++;
      else if (d === CLOSE_OBJECT || d === CLOSE_ARRAY) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return -text.length;
  }
  if (c === MINUS || isDigit(c)) return numberEnd(text, start);
  if (text.startsWith('true', start) || text.startsWith('null', start)) return start + 4;
  if (text.startsWith('false', start)) return start + 5;
  return -start;
}
