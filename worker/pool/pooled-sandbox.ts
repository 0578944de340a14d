/**
 * The pool's view of a sandbox and of what starts one: the few members of
 * `Sandbox` and `SandboxFactory` the pool uses. The real ones satisfy these
 * as they are; the pool's unit tests pass small fakes instead.
 */
import type { Sandbox, SandboxRequest } from '../sandbox/sandbox.ts';

/** A sandbox as the pool handles it (never `invoke`: that is the caller's). */
export type PooledSandbox = Pick<
  Sandbox,
  'key' | 'fn' | 'isGeneric' | 'alive' | 'runtime' | 'memoryMb' | 'containerId' | 'onClose' | 'assign' | 'placeCode' | 'init' | 'destroy'
>;

/** Starts a sandbox, bound to a function version or generic (`SandboxFactory`). Rejects with nothing left behind. */
export interface SandboxStarter<S extends PooledSandbox> {
  start(request: SandboxRequest): Promise<S>;
}
