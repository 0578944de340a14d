/**
 * Caps on what an upload may unpack to, and the meter that enforces them.
 * Caps are checked twice: against the sizes an archive declares (cheap, lets
 * an obvious bomb fail before anything is inflated) and against the bytes that
 * actually come out of the decompressor, because declared sizes can lie.
 */
import { CODE_LIMITS } from '../../worker/contract/limits.ts';
import { archiveTooLarge } from './archive-errors.ts';

export interface ArchiveLimits {
  /** Largest accepted upload, in bytes, as received. */
  maxUploadBytes: number;
  /** Largest total of regular-file bytes after unpacking. */
  maxUnpackedBytes: number;
  /** Most entries (files, directories, symlinks) the source archive may hold. */
  maxEntries: number;
  /** Largest unpacked-to-upload size ratio, checked once unpacked bytes pass {@link RATIO_FLOOR_BYTES}. */
  maxCompressionRatio: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  ...CODE_LIMITS,
  maxCompressionRatio: 100,
});

/**
 * Below this many unpacked bytes the ratio is not checked: a small source file
 * of repetitive text can legitimately compress 1000:1, and it costs nothing.
 */
const RATIO_FLOOR_BYTES = 10 * MiB;

/** Fills unset fields from the defaults; rejects nonsense (a programming error, not a user one). */
export function resolveLimits(overrides: Partial<ArchiveLimits> = {}): ArchiveLimits {
  const limits = { ...DEFAULT_ARCHIVE_LIMITS };
  for (const key of Object.keys(limits) as (keyof ArchiveLimits)[]) {
    const value = overrides[key];
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value <= 0) throw new TypeError(`archive limit ${key} must be a positive number, got ${value}`);
    limits[key] = value;
  }
  return limits;
}

/**
 * Running totals of unpacked bytes for one upload. `declare` is fed the sizes
 * an archive claims, `add` the bytes as they stream out of the decompressor;
 * either throws `ArchiveTooLarge` the moment a cap is crossed.
 */
export class UnpackMeter {
  #declared = 0;
  #inflated = 0;

  constructor(
    private readonly limits: ArchiveLimits,
    private readonly uploadBytes: number,
  ) {}

  declare(bytes: number): void {
    this.#declared += bytes;
    this.#check(this.#declared, 'declares');
  }

  add(bytes: number): void {
    this.#inflated += bytes;
    this.#check(this.#inflated, 'inflates to');
  }

  #check(total: number, verb: string): void {
    const { maxUnpackedBytes, maxCompressionRatio } = this.limits;
    if (total > maxUnpackedBytes) {
      throw archiveTooLarge(`archive ${verb} more than ${formatBytes(maxUnpackedBytes)} of files, the unpacked size limit`);
    }
    if (total > RATIO_FLOOR_BYTES && total > maxCompressionRatio * this.uploadBytes) {
      const ratio = Math.floor(total / this.uploadBytes);
      throw archiveTooLarge(
        `archive ${verb} at least ${formatBytes(total)} from a ${formatBytes(this.uploadBytes)} upload, ` +
          `a compression ratio of ${ratio}:1 (limit ${maxCompressionRatio}:1); this looks like a zip bomb`,
      );
    }
  }
}

/** Human-readable size for messages (binary units). */
export function formatBytes(bytes: number): string {
  if (bytes >= MiB) return `${+(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
