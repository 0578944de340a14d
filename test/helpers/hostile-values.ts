/**
 * Values a hostile tenant can put in front of the platform: text with NUL,
 * lone surrogates, control characters and bytes of every kind, and numbers
 * out of every range. Seeded, so a failure can be replayed.
 */

/** A small seeded PRNG (mulberry32): the same seed gives the same values. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY_UNITS = [0x0000, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0x001b, 0x007f, 0xfffe, 0xffff, 0x0085, 0x2028, 0x000d, 0x0008];

/** A string of `length` UTF-16 code units drawn from nasty ones, any code unit, and plain ASCII. */
export function hostileString(random: () => number, length: number): string {
  const units = new Array<number>(length);
  for (let i = 0; i < length; i++) {
    const pick = random();
    if (pick < 0.3) units[i] = NASTY_UNITS[Math.floor(random() * NASTY_UNITS.length)]!;
    else if (pick < 0.6) units[i] = Math.floor(random() * 0x10000);
    else units[i] = 0x20 + Math.floor(random() * 0x5f);
  }
  let out = '';
  for (let i = 0; i < units.length; i += 4096) out += String.fromCharCode(...units.slice(i, i + 4096));
  return out;
}

export const HOSTILE_NUMBERS = [Number.NaN, Infinity, -Infinity, -1, -0, 5e9, 1e300, -1e300, 2 ** 31, 2 ** 53 + 1, 0.0001];

export function hostileNumber(random: () => number): number {
  return HOSTILE_NUMBERS[Math.floor(random() * HOSTILE_NUMBERS.length)]!;
}

/** True when Postgres would take `text` as it is: no NUL, well-formed UTF-16 (so valid UTF-8). */
export function isStorable(text: string): boolean {
  return !text.includes('\u0000') && text.isWellFormed();
}
