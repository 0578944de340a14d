/** Bounding a broker's text by bytes, shared by the source adapters. */

/** `text` cut to at most `maxBytes` of UTF-8, never inside a character. */
export function clip(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
