import { describe, expect, it } from 'vitest';
import {
  ScheduleError,
  checkScheduleFits,
  intervalMs,
  nextTicks,
  parseSchedule,
  sameRepeat,
  type ParsedSchedule,
} from '../../gateway/triggers/schedule-expression.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const pattern = (text: string, tz = 'UTC') => {
  const parsed = parseSchedule(text, tz);
  if (parsed.kind !== 'cron') throw new Error(`${text} is not a cron`);
  return parsed.pattern;
};
const refusal = (run: () => unknown): ScheduleError => {
  try {
    run();
  } catch (err) {
    if (err instanceof ScheduleError) return err;
    throw err;
  }
  throw new Error('not refused');
};
const firstTicks = (schedule: ParsedSchedule, from: string, n: number) => nextTicks(schedule, at(from), n).map(iso);

describe('rate expressions', () => {
  it('reads minutes, hours, days and Hearth seconds as BullMQ intervals', () => {
    expect(parseSchedule('rate(5 minutes)')).toEqual({ kind: 'rate', text: 'rate(5 minutes)', everyMs: 300_000, repeat: { every: 300_000 } });
    expect(parseSchedule('rate(1 minute)').repeat).toEqual({ every: 60_000 });
    expect(parseSchedule('rate(2 hours)').repeat).toEqual({ every: 7_200_000 });
    expect(parseSchedule('rate(1 day)').repeat).toEqual({ every: 86_400_000 });
    expect(parseSchedule(' rate(1 second) ').repeat).toEqual({ every: 1000 });
    expect(parseSchedule('rate(30 seconds)').repeat).toEqual({ every: 30_000 });
  });

  it('takes the unit singular for 1 and plural otherwise, as EventBridge does', () => {
    expect(refusal(() => parseSchedule('rate(1 minutes)')).message).toBe('rate(1 minutes): for 1, write the unit singular: rate(1 minute)');
    expect(refusal(() => parseSchedule('rate(5 minute)')).message).toBe('rate(5 minute): for 5, write the unit plural: rate(5 minutes)');
  });

  it('refuses a zero, a fraction, a word, an unknown unit and more than a year', () => {
    expect(refusal(() => parseSchedule('rate(0 minutes)')).message).toMatch(/at least 1/);
    expect(refusal(() => parseSchedule('rate(1.5 minutes)')).message).toMatch(/is not a rate/);
    expect(refusal(() => parseSchedule('rate(five minutes)')).message).toMatch(/is not a rate/);
    expect(refusal(() => parseSchedule('rate(2 weeks)')).message).toMatch(/"weeks" is not one of/);
    expect(refusal(() => parseSchedule('rate(366 days)')).message).toMatch(/at most 365 days/);
    expect(refusal(() => parseSchedule('rate 5 minutes')).code).toBe('InvalidSchedule');
  });
});

describe('EventBridge cron expressions', () => {
  it('drops the year, turns ? into * and spells steps out', () => {
    expect(pattern('cron(0 12 * * ? *)')).toBe('0 12 * * *');
    expect(pattern('cron(0/15 * * * ? *)')).toBe('0-59/15 * * * *');
    expect(pattern('cron(*/10 8-17 * * ? *)')).toBe('0-59/10 8-17 * * *');
    expect(pattern('cron(0 18 L * ? *)')).toBe('0 18 L * *');
    expect(pattern('cron(0 0 1 JAN,jul ? *)')).toBe('0 0 1 1,7 *');
  });

  it('shifts day-of-week from 1-7 = SUN-SAT to cron-parser numbers', () => {
    expect(pattern('cron(0 8 ? * MON-FRI *)')).toBe('0 8 * * 1-5');
    expect(pattern('cron(0 8 ? * 2-6 *)')).toBe('0 8 * * 1-5');
    expect(pattern('cron(0 12 ? * 1 *)')).toBe('0 12 * * 0');
    expect(pattern('cron(15 10 ? * 6L *)')).toBe('15 10 * * 5L');
    expect(pattern('cron(0 9 ? * 2#1 *)')).toBe('0 9 * * 1#1');
    expect(pattern('cron(0 9 ? * */2 *)')).toBe('0 9 * * 0-6/2');
    expect(pattern('cron(0 9 ? * L *)')).toBe('0 9 * * 6');
  });

  it('ticks on the days EventBridge means', () => {
    // 2025-01-04 is a Saturday.
    expect(firstTicks(parseSchedule('cron(0 8 ? * MON-FRI *)'), '2025-01-04T00:00:00Z', 2)).toEqual(['2025-01-06T08:00:00.000Z', '2025-01-07T08:00:00.000Z']);
    expect(firstTicks(parseSchedule('cron(0 12 ? * 1 *)'), '2025-01-01T00:00:00Z', 1)).toEqual(['2025-01-05T12:00:00.000Z']);
    expect(firstTicks(parseSchedule('cron(0 12 ? * SUN *)'), '2025-01-01T00:00:00Z', 1)).toEqual(['2025-01-05T12:00:00.000Z']);
    expect(firstTicks(parseSchedule('cron(15 10 ? * 6L *)'), '2025-01-01T00:00:00Z', 2)).toEqual(['2025-01-31T10:15:00.000Z', '2025-02-28T10:15:00.000Z']);
    expect(firstTicks(parseSchedule('cron(0 9 ? * 2#1 *)'), '2025-01-01T00:00:00Z', 2)).toEqual(['2025-01-06T09:00:00.000Z', '2025-02-03T09:00:00.000Z']);
    expect(firstTicks(parseSchedule('cron(0 18 L * ? *)'), '2025-02-01T00:00:00Z', 2)).toEqual(['2025-02-28T18:00:00.000Z', '2025-03-31T18:00:00.000Z']);
    expect(firstTicks(parseSchedule('cron(0 0 1,15 * ? *)'), '2025-01-02T00:00:00Z', 2)).toEqual(['2025-01-15T00:00:00.000Z', '2025-02-01T00:00:00.000Z']);
  });

  it('names the field count it wants', () => {
    expect(refusal(() => parseSchedule('cron(0 12 * * ?)')).message).toBe(
      'cron(0 12 * * ?) has 5 fields; EventBridge cron takes 6: minutes hours day-of-month month day-of-week year',
    );
    expect(refusal(() => parseSchedule('cron()')).message).toMatch(/has 0 fields/);
  });

  it('refuses what it cannot run as written', () => {
    expect(refusal(() => parseSchedule('cron(0 12 * * ? 2030)')).message).toMatch(/the year field must be \*/);
    expect(refusal(() => parseSchedule('cron(0 12 * * MON *)')).message).toMatch(/\? in exactly one of day-of-month and day-of-week/);
    expect(refusal(() => parseSchedule('cron(0 12 ? * ? *)')).message).toMatch(/\? in exactly one/);
    expect(refusal(() => parseSchedule('cron(0 12 15W * ? *)')).message).toMatch(/W \(nearest weekday\)/);
    expect(refusal(() => parseSchedule('cron(0 12 LW * ? *)')).message).toMatch(/W \(nearest weekday\)/);
    expect(refusal(() => parseSchedule('cron(60 12 * * ? *)')).message).toBe('cron(60 12 * * ? *): minutes "60" is out of range: minutes takes 0-59');
    expect(refusal(() => parseSchedule('cron(0 12 ? * 8 *)')).message).toMatch(/day-of-week "8" is out of range: day-of-week takes 1-7 or SUN-SAT/);
    expect(refusal(() => parseSchedule('cron(0 12 ? * 0 *)')).message).toMatch(/day-of-week "0" is out of range/);
    expect(refusal(() => parseSchedule('cron(0 12 ? FOO * *)')).message).toMatch(/month "FOO" is not a value/);
    expect(refusal(() => parseSchedule('cron(50-10 12 * * ? *)')).message).toMatch(/runs backwards/);
    expect(refusal(() => parseSchedule('cron(0/0 12 * * ? *)')).message).toMatch(/step \/0/);
    expect(refusal(() => parseSchedule('cron(0 12 ? * 2#6 *)')).message).toMatch(/#1 to #5/);
    expect(refusal(() => parseSchedule('cron(0 12 ? * 2#1,3 *)')).message).toMatch(/uses # with something else/);
    expect(refusal(() => parseSchedule('cron(0 12 1,,2 * ? *)')).message).toMatch(/empty list item/);
    expect(refusal(() => parseSchedule('cron(0 0 31 4 ? *)')).message).toBe('cron(0 0 31 4 ? *) never ticks (no date matches it)');
    expect(refusal(() => parseSchedule('cron 0 12 * * ? *')).message).toMatch(/is not cron\(\.\.\.\)/);
  });
});

describe('plain crons', () => {
  it('passes 5-field and 6-field-with-seconds crons to cron-parser as they are', () => {
    expect(parseSchedule('*/5 * * * *')).toEqual({
      kind: 'cron',
      text: '*/5 * * * *',
      pattern: '*/5 * * * *',
      tz: 'UTC',
      repeat: { pattern: '*/5 * * * *', tz: 'UTC' },
    });
    expect(pattern('*/10  * * * * *')).toBe('*/10 * * * * *');
    expect(intervalMs(parseSchedule('*/10 * * * * *'))).toBe(10_000);
    // cron-parser's day-of-week: 0 and 7 are both Sunday.
    expect(firstTicks(parseSchedule('0 12 * * 7'), '2025-01-01T00:00:00Z', 1)).toEqual(['2025-01-05T12:00:00.000Z']);
  });

  it('refuses other field counts, odd characters and values cron-parser refuses', () => {
    expect(refusal(() => parseSchedule('@daily')).message).toMatch(/is not a schedule/);
    expect(refusal(() => parseSchedule('* * * *')).message).toMatch(/is not a schedule/);
    expect(refusal(() => parseSchedule('* * * * * * *')).message).toMatch(/is not a schedule/);
    expect(refusal(() => parseSchedule('')).message).toMatch(/is not a schedule/);
    expect(refusal(() => parseSchedule('0 12 * * $')).message).toMatch(/characters a cron does not use/);
    expect(refusal(() => parseSchedule('61 * * * *')).message).toMatch(/is not a valid cron: constraint error/);
    expect(refusal(() => parseSchedule('0 0 15W * *')).message).toMatch(/is not a valid cron/);
  });
});

describe('time zones', () => {
  it('reads a cron in its zone, daylight saving included', () => {
    const nine = parseSchedule('cron(0 9 * * ? *)', 'America/New_York');
    expect(firstTicks(nine, '2025-01-15T00:00:00Z', 1)).toEqual(['2025-01-15T14:00:00.000Z']);
    expect(firstTicks(nine, '2025-07-15T00:00:00Z', 1)).toEqual(['2025-07-15T13:00:00.000Z']);
  });

  it('keeps the canonical name and refuses names Intl does not know', () => {
    expect(parseSchedule('0 9 * * *', 'europe/paris')).toMatchObject({ tz: 'Europe/Paris' });
    expect(parseSchedule('0 9 * * *')).toMatchObject({ tz: 'UTC' });
    expect(refusal(() => parseSchedule('0 9 * * *', 'Mars/Olympus_Mons')).message).toBe(
      'timezone "Mars/Olympus_Mons" is not an IANA time zone this server knows (such as "Europe/Paris" or "UTC")',
    );
    expect(refusal(() => parseSchedule('rate(5 minutes)', '+02:00')).message).toMatch(/is not an IANA time zone name/);
    expect(refusal(() => parseSchedule('rate(5 minutes)', '')).code).toBe('InvalidSchedule');
  });
});

describe('interval and next ticks', () => {
  it('gives the shortest gap among the next ticks', () => {
    expect(intervalMs(parseSchedule('rate(10 minutes)'))).toBe(600_000);
    expect(intervalMs(parseSchedule('cron(0/15 * * * ? *)'))).toBe(900_000);
    expect(intervalMs(parseSchedule('cron(0 9,10 * * ? *)'), at('2025-01-01T00:00:00Z'))).toBe(3_600_000);
    expect(intervalMs(parseSchedule('cron(0,1 9 * * ? *)'), at('2025-01-01T00:00:00Z'))).toBe(60_000);
  });

  it('answers quickly for a sparse cron', () => {
    const started = performance.now();
    const yearly = intervalMs(parseSchedule('cron(0 0 1 1 ? *)'), at('2025-06-01T00:00:00Z'));
    // 2026-01-01 to 2027-01-01; the next would lie past the year it looks ahead.
    expect(yearly).toBe(365 * 86_400_000);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('lists a cron’s next ticks strictly after the given time', () => {
    const quarter = parseSchedule('cron(0/15 * * * ? *)');
    expect(firstTicks(quarter, '2025-01-01T10:00:00Z', 3)).toEqual(['2025-01-01T10:15:00.000Z', '2025-01-01T10:30:00.000Z', '2025-01-01T10:45:00.000Z']);
    expect(nextTicks(quarter, at('2025-01-01T10:00:00Z'), 5000)).toHaveLength(10);
  });

  it('lists a rate’s ticks from an anchor tick', () => {
    const rate = parseSchedule('rate(1 minute)');
    expect(nextTicks(rate, 1_000_000, 2)).toEqual([1_060_000, 1_120_000]);
    expect(nextTicks(rate, 1_000_000, 2, 970_000)).toEqual([1_030_000, 1_090_000]);
    expect(nextTicks(rate, 1_000_000, 1, 1_000_000)).toEqual([1_060_000]);
    expect(nextTicks(rate, 1_000_000, 1, 1_010_000)).toEqual([1_010_000]);
  });
});

describe('the pile-up rule', () => {
  it('refuses more than 100 ticks within one function timeout, saying how far to slow down', () => {
    expect(refusal(() => checkScheduleFits(1000, 900_000))).toMatchObject({
      code: 'ScheduleTooFrequent',
      message: 'a tick every 1 s on a function whose timeout is 900 s could run 900 ticks at once; make the interval at least 9 s or the timeout shorter',
    });
    expect(refusal(() => checkScheduleFits(5000, 600_000)).message).toMatch(/could run 120 ticks at once; make the interval at least 6 s/);
    expect(() => checkScheduleFits(9000, 900_000)).not.toThrow();
    expect(() => checkScheduleFits(1000, 3000)).not.toThrow();
  });

  it('refuses ticks less than a second apart', () => {
    expect(refusal(() => checkScheduleFits(500, 1000)).message).toBe('a schedule may tick at most once a second; this one ticks 0.5 s apart');
  });
});

describe('comparing a scheduler with a trigger', () => {
  it('is the same schedule only with the same interval, or pattern and zone', () => {
    expect(sameRepeat({ every: 1000 }, { every: 1000 })).toBe(true);
    expect(sameRepeat({ every: 1000 }, { every: 2000 })).toBe(false);
    expect(sameRepeat({ pattern: '0 9 * * *', tz: 'UTC' }, { pattern: '0 9 * * *', tz: 'UTC' })).toBe(true);
    expect(sameRepeat({ pattern: '0 9 * * *' }, { pattern: '0 9 * * *', tz: 'UTC' })).toBe(true);
    expect(sameRepeat({ pattern: '0 9 * * *', tz: 'UTC' }, { pattern: '0 9 * * *', tz: 'Europe/Paris' })).toBe(false);
    expect(sameRepeat({ every: 60_000 }, { pattern: '* * * * *', tz: 'UTC' })).toBe(false);
  });
});
