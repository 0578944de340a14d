/**
 * One way to store what came from a sandbox. Postgres refuses NUL in text
 * and out-of-range numbers; one such value in a multi-row insert fails every
 * row of the batch. So every text field goes through `storableText` and every
 * number through `storableInt` / `storableFloat` before it reaches a query,
 * and nothing a tenant sends can make another tenant's record fail.
 */

/** What `storableText` kept, and whether it had to cut. */
export interface StorableText {
  text: string;
  truncated: boolean;
}

const NUL = /\u0000/g;
/** U+FFFD stands in for bytes that cannot be stored, as a UTF-8 decoder does for bad input. */
const REPLACEMENT = '\uFFFD';

/**
 * Text Postgres accepts: NUL replaced, lone surrogates replaced (so the
 * UTF-8 encoding is valid), and at most `maxBytes` bytes of UTF-8, never cut
 * inside a character.
 */
export function storableText(value: string, maxBytes = Number.POSITIVE_INFINITY): StorableText {
  let text = value.toWellFormed();
  if (text.includes('\u0000')) text = text.replace(NUL, REPLACEMENT);
  // A JS string of n code units is at most 3n bytes of UTF-8: cheap early out.
  if (text.length * 3 <= maxBytes) return { text, truncated: false };
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { text, truncated: false };
  let keep = maxBytes;
  while (keep > 0 && (bytes[keep]! & 0xc0) === 0x80) keep--;
  return { text: bytes.toString('utf8', 0, keep), truncated: true };
}

/** Postgres `int4`. */
export const INT4_MAX = 2_147_483_647;
/** Largest magnitude kept in a `float4` column (its own limit is ~3.4e38; no time or count comes near). */
const FLOAT_MAX = 1e15;

/** A whole number in `[min, INT4_MAX]`: out of range (±Infinity too) becomes the nearest bound, NaN becomes `min`. */
export function storableInt(value: number, min = 0): number {
  if (Number.isNaN(value)) return min;
  return Math.min(INT4_MAX, Math.max(min, Math.round(value)));
}

/** A finite number in `[min, 1e15]`; NaN becomes `min`. */
export function storableFloat(value: number, min = 0): number {
  if (Number.isNaN(value)) return min;
  return Math.min(FLOAT_MAX, Math.max(min, value));
}
