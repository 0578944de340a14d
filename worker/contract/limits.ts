/**
 * Every size and count limit the two deployables share, in one place: the
 * gateway enforces them on the way in, the worker re-checks them on the way
 * out (a stored archive, an agent's answer), so both must read the same numbers.
 */
const MiB = 1024 * 1024;

/** The memory a function may ask for, in MB (Lambda's lower bound is 128; ours is 64). */
export const MEMORY_MB = { min: 64, max: 4096, default: 128 } as const;

/** How large a function's code may be, as uploaded and as unpacked. */
export const CODE_LIMITS = Object.freeze({
  /** Largest accepted upload, in bytes, as received. */
  maxUploadBytes: 50 * MiB,
  /** Largest total of regular-file bytes after unpacking. */
  maxUnpackedBytes: 250 * MiB,
  /** Most entries (files, directories, symlinks) the uploaded archive may hold. */
  maxEntries: 20_000,
});

/** Lambda's limit on a synchronous response, and ours on any result. */
export const MAX_RESULT_BYTES = 6 * MiB;

/** Results above this many bytes of JSON are stored cut, with `resultTruncated`. */
export const RECORDED_RESULT_CAP = 1 * MiB;

export interface QueuedCallLimit {
  calls: number;
  bytes: number;
}

export interface QueuedCallLimits {
  perFunction: QueuedCallLimit;
  perNamespace: QueuedCallLimit;
}

export const DEFAULT_QUEUED_CALL_LIMITS: QueuedCallLimits = {
  perFunction: { calls: 1000, bytes: 64 * 1024 * 1024 },
  perNamespace: { calls: 10_000, bytes: 256 * 1024 * 1024 },
};

/**
 * How long an admitted call counts at most: past the longest a call may be
 * queued (the worker's maximum event age, 6 h by default) plus its retries.
 */
export const QUEUED_CALL_TTL_MS = 7 * 3600_000;
