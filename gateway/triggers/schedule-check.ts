/** A schedule trigger's check before it is stored: its syntax and zone, and that its ticks cannot pile up past the function's timeout. */
import { checkScheduleFits, intervalMs, nextTicks, parseSchedule } from './schedule-expression.ts';
import type { ScheduleSettings } from './trigger-settings.ts';

/** Throws `ScheduleError` with the sentence that says what is wrong. */
export function checkSchedule(settings: ScheduleSettings, timeoutMs: number): void {
  checkScheduleFits(intervalMs(parseSchedule(settings.schedule, settings.timezone)), timeoutMs);
}

/** The next tick after `from`, or null. */
export function nextTickOf(settings: ScheduleSettings, from = Date.now()): number | null {
  return nextTicks(parseSchedule(settings.schedule, settings.timezone), from, 1)[0] ?? null;
}
