/** The opaque cursor that pages a function's versions, newest first (`GET /v1/functions/{name}/versions?cursor=`). */
import { isVersionNumber } from '../ids.ts';

/** The opaque cursor of the page after `version` (newest first). */
export function versionCursor(version: number): string {
  return Buffer.from(`v${version}`, 'utf8').toString('base64url');
}

/** The version a cursor continues after, or null when it is not one `versionCursor` made. */
export function versionOfCursor(cursor: string): number | null {
  const match = /^v([1-9]\d{0,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const version = match ? Number(match[1]) : NaN;
  return isVersionNumber(version) ? version : null;
}
