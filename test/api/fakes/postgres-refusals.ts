/**
 * What Postgres (through `pg`) refuses, for the in-memory stores: each check
 * throws a plain error, as the driver does, so a route that passes such a
 * value on answers 500 in these tests as it would in production.
 */
import { UUID } from '../../../gateway/ids.ts';
import { INT4_MAX } from '../../../worker/common/storable.ts';

/** What Postgres (through `pg`) would throw for a value it cannot store or compare. */
export function refuseUnstorable(what: string, value: unknown): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) throw new Error(`fake postgres: invalid byte sequence for encoding "UTF8": 0x00 (${what})`);
  } else if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < -INT4_MAX - 1 || value > INT4_MAX) throw new Error(`fake postgres: value "${value}" is out of range for type integer (${what})`);
  }
}

/** jsonb input refuses `\u0000` and lone surrogates (which `JSON.stringify` writes as `\udXXX`). */
export function refuseUnstorableJson(what: string, value: unknown): void {
  const text = JSON.stringify(value);
  if (/\\u0000/.test(text)) throw new Error(`fake postgres: unsupported Unicode escape sequence \\u0000 (${what})`);
  if (/\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}/i.test(text)) {
    throw new Error(`fake postgres: invalid input syntax for type json: a lone surrogate (${what})`);
  }
}

export function refuseNonUuid(what: string, value: string): void {
  if (!UUID.test(value.toLowerCase())) throw new Error(`fake postgres: invalid input syntax for type uuid: "${value.slice(0, 40)}" (${what})`);
}

export const iso = (ms: number) => new Date(ms).toISOString();
