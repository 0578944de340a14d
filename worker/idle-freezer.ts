/**
 * Freezes idle sandboxes, as OpenWhisk pauses idle containers: once a call
 * returns, nothing the function left behind (a `setInterval`, a detached
 * child, an unawaited promise) may keep using CPU that nobody is billed for.
 * A container released idle is paused after a short grace, so back-to-back
 * calls never pay for a pause and an unpause; taking it again thaws it first,
 * before the next call's clock starts. Destroying a paused container needs
 * no thaw (the engine kills and removes paused containers).
 *
 * Keyed by container id. Operations on one container run one after another:
 * a wake that arrives while its pause is still in flight waits for the pause,
 * then unpauses.
 */
import type { ContainerRuntime } from './container-runtime.ts';
import type { Logger } from './logger.ts';

/**
 * Default grace before an idle sandbox is paused. Measured here: a pause
 * costs ~15 ms and an unpause ~15 ms (p50) through the Engine API, so a
 * call arriving within the grace of the last skips both; OpenWhisk uses 50 ms.
 */
export const DEFAULT_PAUSE_GRACE_MS = 50;

/** A pause the engine refused is tried again this often, this many times in all. */
const PAUSE_RETRY_MS = 1000;
const PAUSE_ATTEMPTS = 5;

interface Entry {
  timer: NodeJS.Timeout | undefined;
  /** The container's pause state as last set by us. */
  paused: boolean;
  /** The last pause or unpause in flight (never rejects). */
  op: Promise<void>;
  /** Which idle period a pending pause belongs to; a wake ends the period (0). */
  period: number;
}

export interface IdleFreezerOptions {
  runtime: Pick<ContainerRuntime, 'pause' | 'unpause'>;
  /** Idle time before a pause; negative turns freezing off. */
  graceMs: number;
  log: Logger;
}

export class IdleFreezer {
  private readonly entries = new Map<string, Entry>();
  private periods = 0;

  constructor(private readonly options: IdleFreezerOptions) {}

  /** The container just went idle: pause it after `graceMs` (default: the freezer's grace) unless woken first. */
  idle(containerId: string, graceMs = this.options.graceMs, failures = 0): void {
    if (graceMs < 0 || this.options.graceMs < 0) return;
    const entry = this.entry(containerId);
    clearTimeout(entry.timer);
    const period = failures > 0 ? entry.period : (entry.period = ++this.periods);
    const stillIdle = () => this.entries.get(containerId) === entry && entry.period === period;
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      entry.op = entry.op.then(async () => {
        if (entry.paused || !stillIdle()) return;
        try {
          await this.options.runtime.pause(containerId);
          entry.paused = true;
        } catch (err) {
          // Still usable, just not frozen: try again later while it stays idle (a wake or forget cancels the timer).
          this.options.log.warn('could not pause an idle sandbox', { containerId, failures: failures + 1, err });
          if (failures + 1 < PAUSE_ATTEMPTS && stillIdle() && !entry.timer) {
            this.idle(containerId, PAUSE_RETRY_MS, failures + 1);
          }
        }
      });
    }, graceMs);
    entry.timer.unref?.();
  }

  /** The container is about to serve a call: cancels a pending pause, thaws it if paused. Rejects if it cannot be thawed. */
  async wake(containerId: string): Promise<void> {
    const entry = this.entries.get(containerId);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.period = 0;
    let failure: unknown = null;
    entry.op = entry.op.then(async () => {
      if (!entry.paused) return;
      try {
        await this.options.runtime.unpause(containerId);
        entry.paused = false;
      } catch (err) {
        failure = err ?? new Error('unpause failed');
      }
    });
    await entry.op;
    if (this.entries.get(containerId) === entry && !entry.timer) this.entries.delete(containerId);
    if (failure) throw failure;
  }

  /** The container is being destroyed: no pause will follow. */
  forget(containerId: string): void {
    const entry = this.entries.get(containerId);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.entries.delete(containerId);
  }

  /** Whether we last left it paused (for stats and tests). */
  isPaused(containerId: string): boolean {
    return this.entries.get(containerId)?.paused ?? false;
  }

  private entry(containerId: string): Entry {
    let entry = this.entries.get(containerId);
    if (!entry) {
      entry = { timer: undefined, paused: false, op: Promise.resolve(), period: 0 };
      this.entries.set(containerId, entry);
    }
    return entry;
  }
}
