/**
 * Fakes for the sandbox pool's unit tests: sandboxes that start and go away
 * when told, and the ports around them. Each satisfies the pool's own port
 * types (`PooledSandbox`, `SandboxStarter`), with no casts.
 */
import { sandboxKey, prewarmKey, type FunctionVersion } from '../../worker/contract/function-version.ts';
import type { Logger } from '../../worker/common/logger.ts';
import { MemoryBudget } from '../../worker/pool/memory-budget.ts';
import type { SandboxPoolOptions } from '../../worker/pool/sandbox-pool.ts';
import type { PooledSandbox, SandboxStarter } from '../../worker/pool/pooled-sandbox.ts';
import type { RuntimeName } from '../../runtime-images/runtimes.ts';
import type { InitResultMessage } from '../../worker/sandbox/agent-protocol.ts';
import type { SandboxRequest } from '../../worker/sandbox/sandbox.ts';
import { CodeLinker } from '../../worker/sandbox/code-linker.ts';

let nextId = 0;

export class FakeSandbox implements PooledSandbox {
  readonly containerId = `c${++nextId}`;
  destroyed = false;
  private dead = false;
  private assigned: FunctionVersion | null;
  private readonly closeListeners: Array<() => void> = [];

  constructor(
    readonly runtime: RuntimeName,
    readonly memoryMb: number,
    fn: FunctionVersion | null,
    private readonly removal: () => Promise<void>,
  ) {
    this.assigned = fn;
  }

  get fn(): FunctionVersion {
    if (!this.assigned) throw new Error('generic');
    return this.assigned;
  }

  get isGeneric(): boolean {
    return this.assigned === null;
  }

  get key(): string {
    return this.assigned ? sandboxKey(this.assigned) : prewarmKey(this.runtime, this.memoryMb);
  }

  get alive(): boolean {
    return !this.dead && !this.destroyed;
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  assign(fn: FunctionVersion): void {
    this.assigned = fn;
  }

  placeCode(): void {}

  async init(): Promise<InitResultMessage> {
    return { type: 'initResult', ok: true, logs: '', logsTruncated: false };
  }

  destroy(): Promise<void> {
    this.destroyed = true;
    return this.removal();
  }

  /** The agent exits on its own. */
  die(): void {
    this.dead = true;
    for (const listener of this.closeListeners) listener();
  }
}

/**
 * Starts `FakeSandbox`es: at once, or (with `holdStarts`) only when `land`
 * is called (or failing when `failStarts` is). Removals finish at once unless `holdRemovals` is set.
 */
export class FakeFactory implements SandboxStarter<FakeSandbox> {
  readonly requests: SandboxRequest[] = [];
  readonly started: FakeSandbox[] = [];
  holdStarts = false;
  holdRemovals = false;
  private readonly pendingStarts: Array<{ land: () => void; fail: (err: Error) => void }> = [];
  private readonly pendingRemovals: Array<() => void> = [];

  start(request: SandboxRequest): Promise<FakeSandbox> {
    this.requests.push(request);
    const sandbox = new FakeSandbox(request.runtime, request.memoryMb, request.fn ?? null, () =>
      this.holdRemovals ? new Promise<void>((resolve) => this.pendingRemovals.push(resolve)) : Promise.resolve(),
    );
    const landed = () => {
      this.started.push(sandbox);
      return sandbox;
    };
    if (!this.holdStarts) return Promise.resolve().then(landed);
    return new Promise((resolve, reject) => this.pendingStarts.push({ land: () => resolve(landed()), fail: reject }));
  }

  /** Lets every held start finish. */
  land(): void {
    for (const start of this.pendingStarts.splice(0)) start.land();
  }

  /** Fails every held start (the engine refused it). */
  failStarts(): void {
    for (const start of this.pendingStarts.splice(0)) start.fail(new Error('engine refused the start'));
  }

  /** Lets every held removal finish. */
  finishRemovals(): void {
    for (const go of this.pendingRemovals.splice(0)) go();
  }

  get pendingRemovalCount(): number {
    return this.pendingRemovals.length;
  }
}

export const quietLog: Logger = { info() {}, warn() {}, error() {} };

let fnSeq = 0;

/** A function version with a fresh id. */
export function fakeFunction(overrides: Partial<FunctionVersion> = {}): FunctionVersion {
  const n = ++fnSeq;
  return {
    functionId: `fn-${n}`,
    namespace: 'ns',
    functionName: `f${n}`,
    version: 1,
    runtime: 'nodejs20',
    handler: 'index.handler',
    memoryMb: 128,
    timeoutMs: 3000,
    env: {},
    network: 'egress',
    ...overrides,
  };
}

export const SHA = 'a'.repeat(64);

/** Pool options around a fake factory: no freezing, no code to fetch. */
export function fakePoolOptions(factory: FakeFactory, overrides: Partial<SandboxPoolOptions<FakeSandbox>> & { budgetMb?: number } = {}): SandboxPoolOptions<FakeSandbox> {
  const { budgetMb = 1024, ...rest } = overrides;
  return {
    factory,
    codeCache: { ensure: async () => '/code' },
    linker: new CodeLinker(),
    budget: new MemoryBudget(budgetMb),
    defaultKeepAliveMs: 10_000,
    prewarm: [],
    log: quietLog,
    runtime: { pause: async () => {}, unpause: async () => {} },
    pauseGraceMs: -1,
    ...rest,
  };
}
