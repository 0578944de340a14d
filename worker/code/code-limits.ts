/**
 * How large a function's code may be: one set of numbers shared by the
 * gateway, which enforces them on upload, and the worker, which re-checks
 * them when it unpacks the stored archive.
 */
const MiB = 1024 * 1024;

export const CODE_LIMITS = Object.freeze({
  /** Largest accepted upload, in bytes, as received. */
  maxUploadBytes: 50 * MiB,
  /** Largest total of regular-file bytes after unpacking. */
  maxUnpackedBytes: 250 * MiB,
  /** Most entries (files, directories, symlinks) the uploaded archive may hold. */
  maxEntries: 20_000,
});
