/**
 * Getting a sandbox for a call, and putting it back afterwards.
 *
 * `acquire` tries, in order:
 * 1. warm: the most recently used idle sandbox of the same version, thawed;
 * 2. hand-off: when all of the version's sandboxes are busy and their calls
 *    are short, the next one to come free (`hand-off.ts`);
 * 3. pre-warmed: an idle generic sandbox of the runtime and memory class,
 *    bound to the version and given its code now (functions without network
 *    only: pre-warmed containers have none); a replacement follows shortly.
 *    With none idle, one of the class still starting that no other call
 *    waits for is waited for: it will be ready before a cold start begun now;
 * 4. cold: memory reserved (evicting if need be, `eviction.ts`), then a new
 *    container (`cold-start.ts`).
 * Pre-warmed and cold sandboxes still need `init`, which the caller times.
 *
 * `release` hands a healthy sandbox straight to a call waiting for one of
 * its version, else puts it idle with its keep-alive; an unhealthy or dead
 * sandbox, one of a deleted function, or any at shutdown is discarded.
 */
import { prewarmKey, sandboxKey, type FunctionVersion } from '../contract/function-version.ts';
import type { StartKind } from '../contract/invocation-outcome.ts';
import { Counts } from '../common/counts.ts';
import type { CodeCache } from '../sandbox/code-cache.ts';
import type { CodeLinker } from '../sandbox/code-linker.ts';
import { HandOff } from './hand-off.ts';
import type { LiveSandboxes } from './live-sandboxes.ts';
import type { PooledSandbox } from './pooled-sandbox.ts';

export interface AcquireOptions<S extends PooledSandbox> {
  live: LiveSandboxes<S>;
  codeCache: Pick<CodeCache, 'ensure'>;
  linker: CodeLinker;
  /** Takes memory for a cold start, evicting or waiting as needed; throws `CapacityError` when it cannot. */
  reserve(mb: number, forKey: string): Promise<unknown>;
  /** A cold start with the memory already reserved. */
  startWithCode(fn: FunctionVersion, codeSha256: string): Promise<S>;
  /** A pre-warmed sandbox was claimed: top its class up again soon. */
  onPrewarmedClaimed(): void;
  /** A pre-warmed start of class `key` in flight, promised to this call (see `prewarm-top-up.ts`), or undefined if there is none. */
  claimStarting(key: string): Promise<S | undefined> | undefined;
  /** Whether the function was deleted (its sandboxes are not kept). */
  isRetired(functionId: string): boolean;
}

export class Acquirer<S extends PooledSandbox> {
  private readonly handOff = new HandOff<S>();
  /** Cold starts in progress, per function version. */
  private readonly starting = new Counts();

  constructor(private readonly options: AcquireOptions<S>) {}

  /** A started sandbox for `fn`, and how it was obtained. */
  async acquire(fn: FunctionVersion, codeSha256: string): Promise<{ sandbox: S; kind: StartKind }> {
    const { live } = this.options;
    const key = sandboxKey(fn);
    const warm = await live.takeAlive(key);
    if (warm) return { sandbox: warm, kind: 'warm' };
    // None of this version's sandboxes is idle now (takeAlive emptied its stack).
    if (this.handOff.shouldWait(key, live.count(key) + this.starting.get(key))) {
      const handed = await this.handOff.wait(key);
      // Handed over straight from a call, so never frozen; the wake is a no-op kept for safety.
      if (handed && (await live.thaw(handed))) return { sandbox: handed, kind: 'warm' };
    }
    const generic = fn.network === 'none' ? ((await this.claimPrewarmed(fn, codeSha256)) ?? (await this.claimStarting(fn, codeSha256))) : undefined;
    if (generic) return { sandbox: generic, kind: 'prewarmed' };
    this.starting.add(key, 1);
    try {
      await this.options.reserve(fn.memoryMb, key);
      const started = performance.now();
      const sandbox = await this.options.startWithCode(fn, codeSha256);
      this.handOff.observeColdStart(performance.now() - started);
      return { sandbox, kind: 'cold' };
    } finally {
      this.starting.add(key, -1);
    }
  }

  /** Puts a sandbox back after a call that held it `heldMs`: to a call waiting for it, else idle, if healthy and still wanted; otherwise gone. */
  release(sandbox: S, healthy: boolean, keepAliveMs: number | null, heldMs?: number): void {
    const { live } = this.options;
    if (heldMs !== undefined) this.handOff.observeDuration(sandbox.key, heldMs);
    if (!healthy || !sandbox.alive || live.closed || this.options.isRetired(sandbox.fn.functionId)) {
      live.discard(sandbox);
      return;
    }
    if (this.handOff.offer(sandbox.key, sandbox)) return;
    live.goIdle(sandbox, keepAliveMs ?? undefined);
  }

  /** A busy sandbox of `key` went away: one call waiting for it starts its own instead. */
  busyDiscarded(key: string): void {
    this.handOff.cancelOne(key);
  }

  /** Every call waiting for a hand-off stops waiting (shutdown). */
  cancelWaits(): void {
    this.handOff.cancelAll();
  }

  /**
   * An idle pre-warmed sandbox of `fn`'s class bound to `fn` with its code
   * placed, or undefined if none is idle. The code is fetched while the
   * sandbox thaws.
   */
  private async claimPrewarmed(fn: FunctionVersion, codeSha256: string): Promise<S | undefined> {
    const { live, codeCache } = this.options;
    let code: Promise<string> | undefined;
    const generic = await live.takeAlive(prewarmKey(fn.runtime, fn.memoryMb), () => {
      code = codeCache.ensure(codeSha256);
      code.catch(() => {});
    });
    if (!generic) return undefined;
    return this.bind(generic, fn, code ?? codeCache.ensure(codeSha256));
  }

  /**
   * A pre-warmed sandbox of `fn`'s class still starting, promised to this
   * call, bound to `fn` with its code placed once it lands; undefined if
   * none is starting or the start failed. The code is fetched meanwhile.
   */
  private async claimStarting(fn: FunctionVersion, codeSha256: string): Promise<S | undefined> {
    const pending = this.options.claimStarting(prewarmKey(fn.runtime, fn.memoryMb));
    if (!pending) return undefined;
    const code = this.options.codeCache.ensure(codeSha256);
    code.catch(() => {});
    const generic = await pending;
    return generic ? this.bind(generic, fn, code) : undefined;
  }

  /** Binds a claimed generic sandbox to `fn` and places its code; discarded if the code cannot be had. */
  private async bind(generic: S, fn: FunctionVersion, code: Promise<string>): Promise<S> {
    const { live } = this.options;
    try {
      live.assign(generic, fn);
    } finally {
      this.options.onPrewarmedClaimed();
    }
    try {
      generic.placeCode(await code, this.options.linker);
    } catch (err) {
      live.discard(generic);
      throw err;
    }
    return generic;
  }
}
