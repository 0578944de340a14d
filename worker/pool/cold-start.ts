/**
 * A cold start: a new container for a known function version, started while
 * its code is fetched and unpacked, the code linked in once both are ready.
 * Shared by calls (`acquire.ts`) and provisioned sandboxes
 * (`provisioning.ts`); neither waits for the code before the container
 * starts, nor for the container before the code is fetched.
 */
import type { FunctionVersion } from '../contract/function-version.ts';
import type { CodeCache } from '../sandbox/code-cache.ts';
import type { CodeLinker } from '../sandbox/code-linker.ts';
import type { LiveSandboxes } from './live-sandboxes.ts';
import type { MemoryBudget } from './memory-budget.ts';
import type { PooledSandbox, SandboxStarter } from './pooled-sandbox.ts';

export interface ColdStartDeps<S extends PooledSandbox> {
  factory: SandboxStarter<S>;
  codeCache: Pick<CodeCache, 'ensure'>;
  linker: CodeLinker;
  budget: MemoryBudget;
  live: LiveSandboxes<S>;
}

/**
 * Starts a sandbox for `fn` (its memory already reserved) and places its
 * code. The sandbox is live (adopted) and busy when this resolves, not yet
 * initialised. On failure the memory is returned and nothing is left behind.
 */
export async function startWithCode<S extends PooledSandbox>(deps: ColdStartDeps<S>, fn: FunctionVersion, codeSha256: string): Promise<S> {
  const starting = deps.factory.start({ runtime: fn.runtime, memoryMb: fn.memoryMb, fn });
  const code = deps.codeCache.ensure(codeSha256);
  // Awaited below; until then a failure must not count as unhandled.
  code.catch(() => {});
  let sandbox: S;
  try {
    sandbox = await starting;
  } catch (err) {
    deps.budget.release(fn.memoryMb);
    throw err;
  }
  deps.live.adopt(sandbox);
  try {
    sandbox.placeCode(await code, deps.linker);
  } catch (err) {
    deps.live.discard(sandbox);
    throw err;
  }
  return sandbox;
}
