/**
 * The two ways an uploaded code package is refused. Both are the caller's
 * fault (4xx) and carry stable codes clients can branch on.
 */
import { HearthError } from '../errors.ts';

/** 400 `InvalidArchive`: unreadable, or holds an entry we will not unpack. */
export function invalidArchive(message: string): HearthError {
  return new HearthError('InvalidArchive', message);
}

/** 413 `ArchiveTooLarge`: a size, count or compression-ratio cap was crossed. */
export function archiveTooLarge(message: string): HearthError {
  return new HearthError('ArchiveTooLarge', message);
}

/** Keeps our own errors; wraps library errors (yauzl, tar parsing, zlib) as `InvalidArchive`. */
export function asInvalid(error: unknown, context: string): HearthError {
  if (error instanceof HearthError) return error;
  return invalidArchive(`${context}: ${error instanceof Error ? error.message : String(error)}`);
}

/** Quotes an entry name for a message so control bytes and spaces stay visible. */
export function quoteName(name: string): string {
  return JSON.stringify(name);
}
