/**
 * A cap on upload bytes in flight at once, per gateway and per namespace, so
 * a burst of large uploads (or one tenant's) cannot take the gateway's memory
 * and disk. An upload reserves its declared Content-Length before a byte is
 * read, and is refused at once when that does not fit; a body without a
 * length (chunked) reserves as its bytes arrive and is cut off when the next
 * piece does not fit. What it reserved is released when it is done, however
 * it ends.
 *
 * Refusals: 503 `UploadCapacity` with Retry-After when the gateway as a whole
 * is full (no fault of this caller), 429 `TooManyUploads` when the caller's
 * namespace holds its share.
 */
import { HearthError } from './errors.ts';

const MiB = 1024 * 1024;

export interface UploadBudgetLimits {
  /** Upload bytes in flight across the gateway. */
  gatewayBytes: number;
  /** Upload bytes in flight for one namespace. */
  namespaceBytes: number;
}

export const DEFAULT_UPLOAD_BUDGET: Readonly<UploadBudgetLimits> = Object.freeze({ gatewayBytes: 256 * MiB, namespaceBytes: 128 * MiB });

/** Seconds a refused client is told to wait. */
const RETRY_AFTER_SECONDS = 5;

/** A refusal by the budget: 503 `UploadCapacity` or 429 `TooManyUploads`, to be answered with `Retry-After`. */
export class UploadBudgetError extends HearthError {
  override readonly retryAfterSeconds = RETRY_AFTER_SECONDS;
}

/** One upload's share of the budget; `release` is idempotent. */
export interface UploadReservation {
  /** Reserves `bytes` more (for bodies without a declared length); throws 503/429 when they do not fit. */
  grow(bytes: number): void;
  /** Bytes this upload holds. */
  readonly bytes: number;
  release(): void;
}

export class UploadBudget {
  readonly limits: UploadBudgetLimits;
  #total = 0;
  readonly #byNamespace = new Map<string, number>();

  constructor(limits: Partial<UploadBudgetLimits> = {}) {
    this.limits = { ...DEFAULT_UPLOAD_BUDGET, ...limits };
  }

  /** Bytes in flight: across the gateway, or for `namespace`. */
  inFlight(namespace?: string): number {
    return namespace === undefined ? this.#total : (this.#byNamespace.get(namespace) ?? 0);
  }

  /** Throws the refusal `reserve` would give for `bytes` more, reserving nothing (a declared length that cannot fit). */
  assertFits(namespace: string, bytes: number): void {
    this.#check(namespace, bytes);
  }

  /** Starts an upload for `namespace`, reserving `initialBytes` (0: it reserves as its bytes arrive). */
  reserve(namespace: string, initialBytes = 0): UploadReservation {
    let held = 0;
    let released = false;
    const take = (bytes: number) => {
      if (released) throw new Error('upload reservation used after release');
      this.#check(namespace, bytes);
      held += bytes;
      this.#total += bytes;
      this.#byNamespace.set(namespace, (this.#byNamespace.get(namespace) ?? 0) + bytes);
    };
    take(initialBytes);
    return {
      grow: take,
      get bytes() {
        return held;
      },
      release: () => {
        if (released) return;
        released = true;
        this.#total -= held;
        const left = (this.#byNamespace.get(namespace) ?? 0) - held;
        if (left > 0) this.#byNamespace.set(namespace, left);
        else this.#byNamespace.delete(namespace);
        held = 0;
      },
    };
  }

  #check(namespace: string, bytes: number): void {
    if (bytes <= 0) return;
    if (this.inFlight(namespace) + bytes > this.limits.namespaceBytes) {
      throw new UploadBudgetError(
        'TooManyUploads',
        `namespace "${namespace}" has ${formatMiB(this.inFlight(namespace))} of uploads in progress, and takes at most ${formatMiB(this.limits.namespaceBytes)} at once: retry when one has finished`,
      );
    }
    if (this.#total + bytes > this.limits.gatewayBytes) {
      throw new UploadBudgetError('UploadCapacity', 'the gateway is receiving as many uploads as it can take right now; retry shortly');
    }
  }
}

const formatMiB = (bytes: number) => `${+(bytes / MiB).toFixed(1)} MiB`;
