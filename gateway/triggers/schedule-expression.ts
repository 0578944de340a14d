/**
 * A schedule trigger's `schedule` and `timezone` read once into what
 * BullMQ's job scheduler takes (`{ every }` or `{ pattern, tz }`), and the
 * questions asked of it before it is stored: how close two ticks can come
 * (the pile-up rule) and when the next ones are (the API's `nextRunAt`).
 *
 * Accepted: EventBridge's `rate(N unit)` (minute, hour, day; singular only
 * for 1) plus Hearth's `rate(N second|seconds)`; EventBridge's 6-field
 * `cron(...)` (translated by `eventbridge-cron.ts`); and plain 5-field
 * (`m h dom mon dow`) or 6-field-with-seconds (`s m h dom mon dow`) crons in
 * cron-parser's own syntax (day-of-week 0-7, 0 and 7 both Sunday), passed
 * through as they are. Patterns are evaluated with cron-parser, the library
 * and version BullMQ itself evaluates them with, so what is checked here is
 * what will tick.
 */
import cronParser from 'cron-parser';
import { ScheduleError } from './schedule-error.ts';
import { translateEventBridgeCron } from './eventbridge-cron.ts';
import { cronTicks } from './cron-ticks.ts';

export { ScheduleError } from './schedule-error.ts';

/** What BullMQ's `upsertJobScheduler` is given: a fixed interval, or a cron pattern read in a zone. */
export type ScheduleRepeat = { every: number } | { pattern: string; tz: string };

/** A schedule as read: its kind, the text it came from and the repeat options that run it. */
export type ParsedSchedule =
  | { kind: 'rate'; text: string; everyMs: number; repeat: { every: number } }
  | { kind: 'cron'; text: string; pattern: string; tz: string; repeat: { pattern: string; tz: string } };

/** The longest `rate(...)`: a year, so every schedule ticks within one. */
export const MAX_RATE_MS = 365 * 24 * 3600 * 1000;
/** Ticks looked at for the shortest gap (`intervalMs`). */
const GAP_SAMPLE = 100;
/** What `intervalMs` answers for a cron with fewer than two ticks in the ten years it looks through. */
const GAP_HORIZON_MS = 3660 * 24 * 3600 * 1000;
/** Most ticks `nextTicks` gives: each costs cron-parser up to ~60 ms for a sparse cron in a zone. */
export const MAX_NEXT_TICKS = 10;
/** The pile-up rule: at most this many ticks' calls within one function timeout. */
export const MAX_TICKS_PER_TIMEOUT = 100;

const UNITS: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/**
 * Reads `text` (the trigger's `schedule`) in `timezone` (an IANA name,
 * default UTC; crons only). Throws `ScheduleError` with a sentence naming
 * the problem. The zone is kept in its canonical spelling (`europe/paris`
 * → `Europe/Paris`).
 */
export function parseSchedule(text: string, timezone = 'UTC'): ParsedSchedule {
  const trimmed = text.trim();
  const tz = canonicalZone(timezone);
  if (trimmed.startsWith('rate(') || trimmed.startsWith('rate ')) return parseRate(trimmed);
  const eventBridge = /^cron\((.*)\)$/s.exec(trimmed);
  if (eventBridge) return cronSchedule(trimmed, translateEventBridgeCron(eventBridge[1]!, trimmed), tz);
  if (trimmed.startsWith('cron')) {
    throw new ScheduleError('InvalidSchedule', `"${trimmed}" is not cron(...): write cron(minutes hours day-of-month month day-of-week year)`);
  }
  const fields = trimmed.split(/\s+/);
  if (trimmed === '' || fields.length < 5 || fields.length > 6) {
    throw new ScheduleError(
      'InvalidSchedule',
      `"${trimmed}" is not a schedule: write rate(5 minutes), cron(0 12 * * ? *) (EventBridge), or a 5-field (m h dom mon dow) or 6-field (s m h dom mon dow) cron`,
    );
  }
  if (!/^[0-9A-Za-z*?,/#-]+$/.test(fields.join(''))) {
    throw new ScheduleError('InvalidSchedule', `"${trimmed}" has characters a cron does not use; each field takes digits, names, * ? , / - L and #`);
  }
  return cronSchedule(trimmed, fields.join(' '), tz);
}

function parseRate(text: string): ParsedSchedule {
  const match = /^rate\(\s*(\d{1,12})\s+([a-z]+)\s*\)$/.exec(text);
  if (!match) {
    throw new ScheduleError('InvalidSchedule', `"${text}" is not a rate: write rate(N unit) with a whole N and a unit of seconds, minutes, hours or days, e.g. rate(5 minutes)`);
  }
  const value = Number(match[1]);
  const unit = match[2]!;
  const singular = unit.endsWith('s') ? unit.slice(0, -1) : unit;
  const unitMs = UNITS[singular];
  if (unitMs === undefined) throw new ScheduleError('InvalidSchedule', `${text}: the unit "${unit}" is not one of second(s), minute(s), hour(s), day(s)`);
  if (value < 1) throw new ScheduleError('InvalidSchedule', `${text}: the value must be at least 1`);
  if (value === 1 && unit !== singular) throw new ScheduleError('InvalidSchedule', `${text}: for 1, write the unit singular: rate(1 ${singular})`);
  if (value > 1 && unit === singular) throw new ScheduleError('InvalidSchedule', `${text}: for ${value}, write the unit plural: rate(${value} ${singular}s)`);
  const everyMs = value * unitMs;
  if (everyMs > MAX_RATE_MS) throw new ScheduleError('InvalidSchedule', `${text}: a rate may be at most 365 days`);
  return { kind: 'rate', text, everyMs, repeat: { every: everyMs } };
}

/** `pattern` (cron-parser syntax) checked by cron-parser itself, and shown to tick at least once. */
function cronSchedule(text: string, pattern: string, tz: string): ParsedSchedule {
  try {
    cronParser.parseExpression(pattern, { tz, currentDate: new Date() }).next();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const never = /day of month|loop limit|timespan/i.test(reason);
    throw new ScheduleError(
      'InvalidSchedule',
      never ? `${text} never ticks (no date matches it)` : `${text} is not a valid cron: ${lowerFirst(reason)}`,
    );
  }
  return { kind: 'cron', text, pattern, tz, repeat: { pattern, tz } };
}

/** The canonical IANA name of `timezone`, or a `ScheduleError` when Intl does not know it. */
export function canonicalZone(timezone: string): string {
  // Names only (no offsets such as +02:00): what both Intl and BullMQ's date library read alike.
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(timezone)) {
    throw new ScheduleError('InvalidSchedule', `timezone "${timezone}" is not an IANA time zone name such as "Europe/Paris" or "UTC"`);
  }
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    throw new ScheduleError('InvalidSchedule', `timezone "${timezone}" is not an IANA time zone this server knows (such as "Europe/Paris" or "UTC")`);
  }
}

/**
 * The shortest gap (ms) between two consecutive ticks among the next 100
 * after `from` (fewer for a cron that ticks fewer times in ten years); a
 * rate's interval. Daylight-saving changes count where they fall (see
 * `cron-ticks.ts` for how closely).
 */
export function intervalMs(schedule: ParsedSchedule, from: number = Date.now()): number {
  if (schedule.kind === 'rate') return schedule.everyMs;
  let previous: number | null = null;
  let shortest = Number.POSITIVE_INFINITY;
  let seen = 0;
  for (const tick of cronTicks(schedule.pattern, schedule.tz, from)) {
    if (previous !== null) shortest = Math.min(shortest, tick - previous);
    previous = tick;
    if (++seen >= GAP_SAMPLE) break;
  }
  // One tick in ten years (a cron it takes cron-parser to find, not this scan): as rare as it gets.
  return Number.isFinite(shortest) ? shortest : GAP_HORIZON_MS;
}

/**
 * The next `n` ticks (epoch ms) strictly after `from`, at most 10. A
 * cron's are found by cron-parser, exactly as BullMQ will find them. A
 * rate's depend on when its schedule started: pass a past tick as `anchor`
 * (default `from`, so the first is `from + every`). BullMQ starts a new rate
 * schedule with a tick at once, then one every interval; the runner reports
 * BullMQ's own next time.
 */
export function nextTicks(schedule: ParsedSchedule, from: number, n: number, anchor: number = from): number[] {
  const count = Math.max(0, Math.min(Math.floor(n), MAX_NEXT_TICKS));
  if (schedule.kind === 'rate') {
    const every = schedule.everyMs;
    const first = from < anchor ? anchor : anchor + (Math.floor((from - anchor) / every) + 1) * every;
    return Array.from({ length: count }, (_, i) => first + i * every);
  }
  const iterator = cronParser.parseExpression(schedule.pattern, { tz: schedule.tz, currentDate: new Date(from) });
  const ticks: number[] = [];
  while (ticks.length < count) {
    try {
      ticks.push(iterator.next().getTime());
    } catch {
      break;
    }
  }
  return ticks;
}

/**
 * The pile-up rule: a schedule that ticks every `intervalMs` on a function
 * whose calls may run `timeoutMs` each is refused when it ticks faster than
 * once a second, or when more than 100 ticks' calls could be running at
 * once (`timeoutMs / intervalMs > 100`): a slow function on a fast schedule
 * would otherwise stack up calls without bound. Throws `ScheduleError`
 * (`ScheduleTooFrequent`) saying how far to slow it.
 */
export function checkScheduleFits(intervalMs: number, timeoutMs: number): void {
  if (!(intervalMs >= 1000)) {
    throw new ScheduleError('ScheduleTooFrequent', `a schedule may tick at most once a second; this one ticks ${seconds(intervalMs)} apart`);
  }
  if (timeoutMs / intervalMs > MAX_TICKS_PER_TIMEOUT) {
    const ticks = Math.floor(timeoutMs / intervalMs);
    const least = Math.ceil(timeoutMs / MAX_TICKS_PER_TIMEOUT / 1000) * 1000;
    throw new ScheduleError(
      'ScheduleTooFrequent',
      `a tick every ${seconds(intervalMs)} on a function whose timeout is ${seconds(timeoutMs)} could run ${ticks} ticks at once; make the interval at least ${seconds(least)} or the timeout shorter`,
    );
  }
}

/** `ms` as seconds, to the millisecond where needed: `900 s`, `1.5 s`. */
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** Whether two repeat options run the same schedule (what a scheduler already has against what a trigger now says). */
export function sameRepeat(a: { every?: number; pattern?: string; tz?: string }, b: ScheduleRepeat): boolean {
  if ('every' in b) return a.every === b.every && a.pattern === undefined;
  return a.every === undefined && a.pattern === b.pattern && (a.tz ?? 'UTC') === b.tz;
}
