/**
 * The fast tick enumeration behind `intervalMs` finds the same ticks as
 * cron-parser (what BullMQ runs), pattern by pattern and zone by zone, the
 * day rules' corners included.
 */
import cronParser from 'cron-parser';
import { describe, expect, it } from 'vitest';
import { cronTicks } from '../../gateway/triggers/cron-ticks.ts';

const PATTERNS = [
  '0 12 * * *',
  '*/7 * * * *',
  '0 8 * * 1-5',
  '15 10 * * 5L',
  '0 9 * * 1#1',
  '0 9 * * 3#5',
  '0 18 L * *',
  '0 0 1,15 * *',
  '0 9 * * 0-6/2',
  '0 0 1 1,7 *',
  // Day-of-month and day-of-week both set: either matches (cron-parser's reading).
  '30 4 1,15 * 5',
  '0 0 29 2 *',
  '*/20 * * * * *',
  '0 0 * * 7',
  '0 9 * * 2L,4',
  '0 6 1-29 2 *',
];

const first = <T>(iterable: Iterable<T>, n: number): T[] => {
  const out: T[] = [];
  for (const item of iterable) {
    out.push(item);
    if (out.length >= n) break;
  }
  return out;
};

const fromCronParser = (pattern: string, tz: string, from: number, n: number) => {
  const iterator = cronParser.parseExpression(pattern, { tz, currentDate: new Date(from) });
  return Array.from({ length: n }, () => iterator.next().getTime());
};

describe('fast cron ticks', () => {
  for (const tz of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
    it(`match cron-parser's ticks in ${tz}`, () => {
      const from = Date.parse('2025-01-10T07:13:00Z');
      for (const pattern of PATTERNS) {
        const n = pattern === '0 0 29 2 *' ? 2 : 5;
        expect({ pattern, ticks: first(cronTicks(pattern, tz, from), n) }).toEqual({ pattern, ticks: fromCronParser(pattern, tz, from, n) });
      }
    });
  }

  it('match cron-parser across a daylight-saving change, a skipped local time included', () => {
    const from = Date.parse('2025-03-27T00:00:00Z');
    for (const pattern of ['0 9 * * *', '30 2 * * *', '0 * * * *']) {
      expect({ pattern, ticks: first(cronTicks(pattern, 'Europe/Paris', from), 6) }).toEqual({
        pattern,
        ticks: fromCronParser(pattern, 'Europe/Paris', from, 6),
      });
    }
  });

  it('give ticks strictly after the start, in order', () => {
    const from = Date.parse('2025-01-10T12:00:00Z');
    expect(first(cronTicks('0 12 * * *', 'UTC', from), 1)).toEqual([Date.parse('2025-01-11T12:00:00Z')]);
    const ticks = first(cronTicks('*/20 * * * * *', 'Europe/Paris', from), 50);
    expect(ticks.every((tick, i) => i === 0 || tick - ticks[i - 1]! === 20_000)).toBe(true);
  });
});
