/**
 * EventBridge's `cron(minutes hours day-of-month month day-of-week year)`
 * read field by field and rewritten in the 5-field syntax of cron-parser
 * 4.9 (what BullMQ's job schedulers evaluate). The two differ where a
 * straight copy would silently tick on the wrong day, so nothing passes
 * through unread:
 *
 * - day-of-week is 1-7 = SUN-SAT in EventBridge, 0-6 (or 7) = SUN-SAT in
 *   cron-parser: every number is shifted down by one (`2#1` → `1#1`,
 *   `6L` → `5L`); names mean the same day in both and become numbers;
 * - `?` (EventBridge's "whichever", required in exactly one of the two day
 *   fields) becomes `*`, which with the other day field set means the same
 *   thing in cron-parser;
 * - the year field has no counterpart: `*` is dropped; any other year is
 *   refused, since cron-parser would run it every year;
 * - `W` (nearest weekday) has no counterpart either and is refused.
 *
 * Every refusal is a `ScheduleError` naming the field and the value.
 */
import { ScheduleError } from './schedule-error.ts';

/** The fields EventBridge takes, in order, as its documentation names them. */
const FIELD_NAMES = 'minutes hours day-of-month month day-of-week year';

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  /** Names for min, min+1, …, case-insensitive. */
  names?: readonly string[];
  /** Added to every number on the way out (day-of-week: -1). */
  shift: number;
}

const MINUTES: FieldSpec = { name: 'minutes', min: 0, max: 59, shift: 0 };
const HOURS: FieldSpec = { name: 'hours', min: 0, max: 23, shift: 0 };
const DAY_OF_MONTH: FieldSpec = { name: 'day-of-month', min: 1, max: 31, shift: 0 };
const MONTH: FieldSpec = { name: 'month', min: 1, max: 12, names: MONTHS, shift: 0 };
const DAY_OF_WEEK: FieldSpec = { name: 'day-of-week', min: 1, max: 7, names: DAYS, shift: -1 };

/**
 * The cron-parser pattern (`m h dom mon dow`) for the inside of an
 * EventBridge `cron(...)`; `shown` is the whole expression as the user
 * wrote it, for the messages.
 */
export function translateEventBridgeCron(body: string, shown: string): string {
  const fields = body.trim().split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 6) {
    throw new ScheduleError(
      'InvalidSchedule',
      `${shown} has ${fields.length} field${fields.length === 1 ? '' : 's'}; EventBridge cron takes 6: ${FIELD_NAMES}`,
    );
  }
  const [minutes, hours, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if (year !== '*') {
    throw new ScheduleError(
      'InvalidSchedule',
      `${shown}: the year field must be * (Hearth runs a cron every year; limiting it to "${year}" is not supported)`,
    );
  }
  if ((dom === '?') === (dow === '?')) {
    throw new ScheduleError(
      'InvalidSchedule',
      `${shown}: EventBridge cron takes ? in exactly one of day-of-month and day-of-week, e.g. cron(0 12 * * ? *) or cron(0 12 ? * MON-FRI *)`,
    );
  }
  return [
    standardField(minutes, MINUTES, shown),
    standardField(hours, HOURS, shown),
    dayOfMonthField(dom, shown),
    standardField(month, MONTH, shown),
    dayOfWeekField(dow, shown),
  ].join(' ');
}

function refuse(shown: string, spec: FieldSpec, value: string, why: string): never {
  throw new ScheduleError('InvalidSchedule', `${shown}: ${spec.name} "${value}" ${why}`);
}

/** One number or name of `spec`, checked against its range, as the number cron-parser reads (shifted). */
function valueOf(token: string, spec: FieldSpec, shown: string, whole: string): number {
  let value: number | undefined;
  if (/^\d{1,2}$/.test(token)) value = Number(token);
  else if (spec.names) {
    const index = spec.names.indexOf(token.toUpperCase());
    if (index >= 0) value = spec.min + index;
  }
  const range = `${spec.min}-${spec.max}${spec.names ? ` or ${spec.names[0]}-${spec.names.at(-1)}` : ''}`;
  if (value === undefined) refuse(shown, spec, whole, `is not a value, range, list or step of ${range}`);
  if (value < spec.min || value > spec.max) refuse(shown, spec, whole, `is out of range: ${spec.name} takes ${range}`);
  return value + spec.shift;
}

/** A list of `*`, values, ranges `a-b` and steps (`*`/n, `a/n`, `a-b/n`), each rewritten with numbers. */
function listOf(field: string, spec: FieldSpec, shown: string): string {
  const items = field.split(',');
  if (items.some((item) => item === '')) refuse(shown, spec, field, 'has an empty list item');
  return items.map((item) => itemOf(item, spec, shown, field)).join(',');
}

function itemOf(item: string, spec: FieldSpec, shown: string, field: string): string {
  const [base = '', step, extra] = item.split('/');
  if (extra !== undefined) refuse(shown, spec, field, 'has more than one /');
  let stepText = '';
  if (step !== undefined) {
    if (!/^\d{1,2}$/.test(step) || Number(step) < 1 || Number(step) > spec.max) {
      refuse(shown, spec, field, `has step /${step}; a step is a whole number from 1 to ${spec.max}`);
    }
    stepText = `/${Number(step)}`;
  }
  const low = spec.min + spec.shift;
  const high = spec.max + spec.shift;
  if (base === '*') return step === undefined ? '*' : `${low}-${high}${stepText}`;
  const [from = '', to, more] = base.split('-');
  if (more !== undefined) refuse(shown, spec, field, 'has a range with more than one -');
  const start = valueOf(from, spec, shown, field);
  if (to === undefined) {
    // `a/n` is "from a to the end, every n"; spelled out, as cron-parser's own reading of `a/n` varies by field.
    return step === undefined ? `${start}` : `${start}-${high}${stepText}`;
  }
  const end = valueOf(to, spec, shown, field);
  if (end < start) refuse(shown, spec, field, 'is a range that runs backwards; write it as two ranges in a list');
  return `${start}-${end}${stepText}`;
}

function standardField(field: string, spec: FieldSpec, shown: string): string {
  if (field === '?') refuse(shown, spec, field, 'cannot be ?; only day-of-month or day-of-week can');
  if (/[LW#]/i.test(field.replace(/[A-Z]{3}/gi, ''))) refuse(shown, spec, field, 'cannot use L, W or #');
  return listOf(field, spec, shown);
}

function dayOfMonthField(field: string, shown: string): string {
  if (field === '?') return '*';
  if (field.toUpperCase() === 'L') return 'L';
  if (/W/i.test(field)) {
    refuse(shown, DAY_OF_MONTH, field, 'uses W (nearest weekday), which Hearth does not support; use L, or a day-of-week such as MON-FRI');
  }
  if (/[L#]/i.test(field)) refuse(shown, DAY_OF_MONTH, field, 'can use L only alone (the last day of the month); # belongs to day-of-week');
  return listOf(field, DAY_OF_MONTH, shown);
}

function dayOfWeekField(field: string, shown: string): string {
  if (field === '?') return '*';
  // Alone, L is the last day of the week: Saturday (as in Quartz, whose syntax EventBridge follows).
  if (field.toUpperCase() === 'L') return '6';
  const nth = /^([A-Za-z]{3}|\d{1,2})#(\d{1,2})$/.exec(field);
  if (nth) {
    const occurrence = Number(nth[2]);
    if (occurrence < 1 || occurrence > 5) refuse(shown, DAY_OF_WEEK, field, 'names occurrence #' + nth[2] + '; it must be #1 to #5');
    return `${valueOf(nth[1]!, DAY_OF_WEEK, shown, field)}#${occurrence}`;
  }
  if (field.includes('#')) refuse(shown, DAY_OF_WEEK, field, 'uses # with something else; write one day and its occurrence alone, e.g. 2#1 (the first Monday)');
  const items = field.split(',');
  if (items.some((item) => item === '')) refuse(shown, DAY_OF_WEEK, field, 'has an empty list item');
  return items
    .map((item) => {
      const last = /^([A-Za-z]{3}|\d{1,2})L$/i.exec(item);
      if (last) return `${valueOf(last[1]!, DAY_OF_WEEK, shown, field)}L`;
      if (/L/i.test(item.replace(/[A-Z]{3}/gi, ''))) refuse(shown, DAY_OF_WEEK, field, 'uses L other than as nL (the last such day of the month) or alone');
      return itemOf(item, DAY_OF_WEEK, shown, field);
    })
    .join(',');
}
