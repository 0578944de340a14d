/**
 * A cron pattern's ticks enumerated quickly, for the questions that need many
 * of them (the shortest gap among the next 100, for the pile-up rule).
 * cron-parser 4.9 finds each tick by stepping minute by minute and hour by
 * hour through a time-zone-aware date: about 15-20 ms a tick for an hourly or
 * daily cron in a zone, two seconds for a hundred, too slow for a request.
 * Here the fields cron-parser expanded are read directly: matching days are
 * found day by day with cron-parser's own rules (day-of-month OR day-of-week
 * when both are set, `L`, `nL`, `#n`, its 29-day February for "every day"),
 * and each day's times are listed at once, then turned into instants in the
 * zone. Around a daylight-saving change a skipped local time comes out as
 * cron-parser places it (an hour later); a repeated one is counted once. So
 * the gaps match what BullMQ will run, to within that hour on those two days
 * of a year; anything that must be exact (the next tick to show) asks
 * cron-parser itself.
 */
import cronParser from 'cron-parser';

/** cron-parser's table: February has 29 days when it decides whether day-of-month is "every day". */
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** Days looked through at most: ten years (a 29 February cron ticks twice in eight). */
const MAX_DAYS = 3660;

interface ExpandedFields {
  second: readonly number[];
  minute: readonly number[];
  hour: readonly number[];
  dayOfMonth: readonly (number | string)[];
  month: readonly number[];
  dayOfWeek: readonly (number | string)[];
}

/** The ticks of `pattern` (cron-parser syntax) in `tz` strictly after `from`, in order, lazily. */
export function* cronTicks(pattern: string, tz: string, from: number): Generator<number> {
  const expression = cronParser.parseExpression(pattern, { tz });
  const fields = expression.fields as unknown as ExpandedFields;
  // The `#n` of day-of-week is kept by cron-parser beside the fields, not in them.
  const nth = (expression as unknown as { _nthDayOfWeek?: number })._nthDayOfWeek ?? 0;
  const times = timesOfDay(fields);
  const zone = zoneOffsets(tz);
  const start = zone.wallClock(from);
  let last = from;
  for (let day = 0; day < MAX_DAYS; day++) {
    const date = new Date(Date.UTC(start.year, start.month - 1, start.day + day));
    if (!dayMatches(fields, nth, date)) continue;
    const midnight = date.getTime();
    for (const seconds of times) {
      const tick = zone.instant(midnight + seconds * 1000);
      // A repeated or skipped local hour can put a tick at or before the previous one: count each instant once, in order.
      if (tick <= last) continue;
      last = tick;
      yield tick;
    }
  }
}

/** Every time of day the pattern names, in seconds after midnight, ascending. */
function timesOfDay(fields: ExpandedFields): number[] {
  const times: number[] = [];
  for (const hour of fields.hour) for (const minute of fields.minute) for (const second of fields.second) times.push(hour * 3600 + minute * 60 + second);
  return times.sort((a, b) => a - b);
}

/** cron-parser's day test (`_findSchedule`), for a calendar day given as a UTC date. */
function dayMatches(fields: ExpandedFields, nth: number, date: Date): boolean {
  const day = date.getUTCDate();
  const month = date.getUTCMonth() + 1;
  const weekday = date.getUTCDay();
  const daysThisMonth = new Date(Date.UTC(date.getUTCFullYear(), month, 0)).getUTCDate();
  const domMatch = fields.dayOfMonth.includes(day) || (fields.dayOfMonth.includes('L') && day === daysThisMonth);
  const lastWeekday = day + 7 > daysThisMonth;
  const dowMatch =
    fields.dayOfWeek.includes(weekday) ||
    fields.dayOfWeek.some((value) => typeof value === 'string' && value.endsWith('L') && Number.parseInt(value, 10) % 7 === weekday && lastWeekday);
  const domWildcard = fields.dayOfMonth.length >= DAYS_IN_MONTH[month - 1]!;
  const dowWildcard = fields.dayOfWeek.length === 8;
  if (!domMatch && (!dowMatch || dowWildcard)) return false;
  if (domWildcard && !dowWildcard && !dowMatch) return false;
  if (nth > 0 && Math.ceil(day / 7) !== nth) return false;
  return fields.month.includes(month);
}

/** Wall-clock readings and instants in one zone, through one cached Intl formatter. */
function zoneOffsets(tz: string) {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const wallClock = (instant: number) => {
    const parts: Record<string, number> = {};
    for (const part of format.formatToParts(new Date(instant))) if (part.type !== 'literal') parts[part.type] = Number(part.value);
    return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
  };
  /** How far the zone's clock is ahead of UTC at `instant` (ms). */
  const offset = (instant: number) => {
    const w = wallClock(instant);
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(instant / 1000) * 1000;
  };
  const utc = tz === 'UTC' || tz === 'Etc/UTC';
  return {
    wallClock,
    /** The instant the zone's clock reads `wall` (a wall-clock time written as if UTC); a skipped time lands after the gap. */
    instant(wall: number): number {
      if (utc) return wall;
      const guess = wall - offset(wall);
      return wall - offset(guess);
    },
  };
}
