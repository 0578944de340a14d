/**
 * Freezes idle sandboxes, as OpenWhisk pauses idle containers: once a call
 * returns, nothing the function left behind (a `setInterval`, a detached
 * child, an unawaited promise) may keep using CPU that nobody is billed for.
 * A container released idle is paused after a short grace, so back-to-back
 * calls never pay for a pause and an unpause; taking it again thaws it first,
 * before the next call's clock starts. Destroying a paused container needs
 * no thaw (the engine kills and removes paused containers).
 *
 * Where the engine can say how much CPU a container used (`cpuUsageNs`, a
 * cgroup read), only a container that is actually working while idle is
 * paused: one that used more than `BUSY_SHARE` of a core while idle, read
 * at the grace, judged `FIRST_CHECK_MS` later and then every `CHECK_MS`
 * while it stays idle. A
 * quiet one is left running: a pause and an unpause each cost the engine a
 * runc process and ~15 ms, and under load a pool pausing every container that
 * waits 50 ms spends the host's CPU on that churn (measured: 130 calls/s
 * instead of ~900). So leftover work gets at most one window of CPU (150 ms
 * with the defaults, at its ceiling), and
 * well-behaved functions never pay a thaw.
 *
 * Keyed by container id. Operations on one container run one after another:
 * a wake that arrives while its pause is still in flight waits for the pause,
 * then unpauses.
 */
import type { ContainerRuntime } from '../engine/container-runtime.ts';
import type { Logger } from '../common/logger.ts';

/**
 * Default grace before an idle sandbox is paused. Measured here: a pause
 * costs ~15 ms and an unpause ~15 ms (p50) through the Engine API, so a
 * call arriving within the grace of the last skips both; OpenWhisk uses 50 ms.
 */
export const DEFAULT_PAUSE_GRACE_MS = 50;

/** A pause the engine refused is tried again this often, this many times in all. */
const PAUSE_RETRY_MS = 1000;
const PAUSE_ATTEMPTS = 5;
/** Share of one core an idle container may use before it is paused (GC and timers of an idle runtime stay far below). */
export const BUSY_SHARE = 0.05;
/** After the grace's baseline reading, the first verdict comes this much later; then one every `CHECK_MS`. */
export const FIRST_CHECK_MS = 100;
export const CHECK_MS = 500;

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
  /** `cpuUsageNs` is optional: without it (or when it answers null) every idle container is paused after the grace. */
  runtime: Pick<ContainerRuntime, 'pause' | 'unpause'> & Partial<Pick<ContainerRuntime, 'cpuUsageNs'>>;
  /** Idle time before a pause; negative turns freezing off. */
  graceMs: number;
  log: Logger;
}

export class IdleFreezer {
  private readonly entries = new Map<string, Entry>();
  private periods = 0;
  private warnedNoUsage = false;

  constructor(private readonly options: IdleFreezerOptions) {}

  /** The container just went idle: pause it after `graceMs` (default: the freezer's grace) unless woken first, or (with CPU readings) once it works while idle. */
  idle(containerId: string, graceMs = this.options.graceMs, failures = 0): void {
    if (graceMs < 0 || this.options.graceMs < 0) return;
    const entry = this.entry(containerId);
    clearTimeout(entry.timer);
    const period = failures > 0 ? entry.period : (entry.period = ++this.periods);
    const stillIdle = () => this.entries.get(containerId) === entry && entry.period === period;
    // No reading at release (back-to-back calls then cost nothing at all): the
    // first look takes the baseline, a short while later the second decides.
    let since: { at: number; usage: number } | null = null;
    /** True when the container worked while idle since the last look (or CPU cannot be read); null: first look. */
    const check = async (): Promise<boolean | null> => {
      const now = await this.usage(containerId);
      if (now === null) return true;
      const at = performance.now();
      const last = since;
      since = { at, usage: now };
      if (!last) return null;
      return now - last.usage > BUSY_SHARE * (at - last.at) * 1e6;
    };
    const arm = (ms: number) => {
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        entry.op = entry.op.then(async () => {
          if (entry.paused || !stillIdle()) return;
          const busy = failures === 0 ? await check() : true;
          if (busy !== true) {
            // First look, or quiet: nothing to freeze yet. Look again while it stays idle.
            if (stillIdle() && !entry.timer) arm(busy === null ? FIRST_CHECK_MS : CHECK_MS);
            return;
          }
          if (!stillIdle()) return;
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
      }, ms);
      entry.timer.unref?.();
    };
    arm(graceMs);
  }

  /** CPU the container has used, or null when the engine cannot say (then idleness alone decides). */
  private async usage(containerId: string): Promise<number | null> {
    const read = this.options.runtime.cpuUsageNs;
    if (!read) return null;
    const ns = await read.call(this.options.runtime, containerId).catch(() => null);
    if (ns === null && !this.warnedNoUsage) {
      // The slow mode: every idle container paused and thawed (engine on another host, worker in a container).
      this.warnedNoUsage = true;
      this.options.log.warn("cannot read sandboxes' CPU use from their cgroup; every idle sandbox will be paused after the grace", { containerId });
    }
    return ns;
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
