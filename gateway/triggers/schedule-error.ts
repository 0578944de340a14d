/**
 * Why a schedule was refused, in one sentence that names the problem and,
 * where there is one, the fix. Thrown by `schedule-expression.ts` and
 * `eventbridge-cron.ts`; the trigger check at the door turns it into a 400
 * with this message. Kept apart so the parser and the cron translation can
 * both throw it without importing each other.
 */
export class ScheduleError extends Error {
  override name = 'ScheduleError';
  constructor(
    /** `InvalidSchedule`: the text or time zone cannot be read; `ScheduleTooFrequent`: it would tick faster than the pile-up rule allows. */
    readonly code: 'InvalidSchedule' | 'ScheduleTooFrequent',
    message: string,
  ) {
    super(message);
  }
}
