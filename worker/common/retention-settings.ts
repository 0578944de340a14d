/**
 * How long records and rollups are kept: `HEARTH_RECORD_RETENTION` (days, or
 * hours with `h`; default 7 days; never under a day, so no call still
 * queued or retrying outlives its partition) and `HEARTH_ROLLUP_RETENTION`
 * (per resolution: `10s=24h,1m=7d,15m=31d,1h=400d` is the default).
 */

export const DAY_MS = 86_400_000;

/** The UTC day (`YYYY-MM-DD`) of `ms`: the day partition of `invocations` a record queued then lies in. */
export const utcDay = (ms: number): string => new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
const HOUR_MS = 3_600_000;

/** Rollup resolutions (seconds) and how long each is kept by default. */
export const DEFAULT_ROLLUP_RETENTION_MS: Readonly<Record<number, number>> = {
  10: 24 * HOUR_MS,
  60: 7 * DAY_MS,
  900: 31 * DAY_MS,
  3600: 400 * DAY_MS,
};

export const DEFAULT_RECORD_RETENTION_DAYS = 7;
/** A namespace's own retention, in days (`PATCH /v1/namespaces/{ns}` `recordRetentionDays`). */
export const RECORD_RETENTION_DAYS = { min: 1, max: 3650 } as const;

const RESOLUTIONS: Record<string, number> = { '10s': 10, '1m': 60, '15m': 900, '1h': 3600 };

/** `7d`, `36h`, `7` (days) → milliseconds; throws on anything else. */
export function parseSpan(text: string, what: string): number {
  const m = /^\s*(\d{1,5})\s*(d|h)?\s*$/.exec(text);
  if (!m) throw new Error(`${what} "${text.slice(0, 40)}" must be a number of days ("7d") or hours ("36h")`);
  return Number(m[1]) * (m[2] === 'h' ? HOUR_MS : DAY_MS);
}

/** `HEARTH_RECORD_RETENTION` → days (fractional when given in hours), at least one. */
export function parseRecordRetention(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return DEFAULT_RECORD_RETENTION_DAYS;
  const ms = parseSpan(text, 'HEARTH_RECORD_RETENTION');
  if (ms < DAY_MS) throw new Error(`HEARTH_RECORD_RETENTION must be at least a day (calls may be queued and retried for hours), got "${text}"`);
  return ms / DAY_MS;
}

/** `HEARTH_ROLLUP_RETENTION` → milliseconds per resolution, the defaults for those not named. */
export function parseRollupRetention(text: string | undefined): Record<number, number> {
  const out: Record<number, number> = { ...DEFAULT_ROLLUP_RETENTION_MS };
  if (text === undefined || text.trim() === '') return out;
  for (const part of text.split(',')) {
    const [name, span] = part.split('=').map((s) => s.trim());
    const resolution = RESOLUTIONS[name ?? ''];
    if (resolution === undefined || span === undefined) {
      throw new Error(`HEARTH_ROLLUP_RETENTION entry "${part.slice(0, 40)}" must look like 10s=24h (resolutions ${Object.keys(RESOLUTIONS).join(', ')})`);
    }
    out[resolution] = parseSpan(span, `HEARTH_ROLLUP_RETENTION ${name}`);
  }
  return out;
}
