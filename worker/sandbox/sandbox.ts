/** The secrets a sandbox needs could not be read (the platform's fault): `init` throws it, the call is put back and runs again. */
export class SecretsUnreachableError extends Error {
  override name = 'SecretsUnreachableError';
}

/**
 * A sandbox: one function container plus the worker's channel to the agent
 * inside it. It is either started for a known function version, or started
 * generic ("pre-warmed": runtime and memory class only) and later assigned
 * one. Either way its container mounts an empty task directory read-only,
 * and the code is linked into it afterwards, so a cold start never waits for
 * code to be fetched before the container starts (the two run side by side).
 * Once assigned, a sandbox serves that version only, for life, one
 * invocation at a time.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RUNTIMES, type RuntimeName } from '../../runtime-images/runtimes.ts';
import { AgentChannel } from './agent-channel.ts';
import type { CheckedInvokeResult } from './agent-messages.ts';
import type { InitResultMessage } from './agent-protocol.ts';
import type { CodeLinker } from './code-linker.ts';
import type { SandboxSecrets, SecretVersionsHeld } from './sandbox-secrets.ts';
import { SANDBOX_LABELS, SOCKET_MOUNT, TASK_ROOT, type ContainerRuntime, type ExitInfo } from '../engine/container-runtime.ts';
import { prewarmKey, sandboxKey, type FunctionVersion } from '../contract/function-version.ts';

/**
 * The longest a sandbox keeps the full CPU it starts with once its init has
 * begun (`worker/engine/init-cpu-boost.ts`): a handler of thousands of
 * files loads in ~100–300 ms; a tenant's init that never ends gets no more.
 */
export const INIT_CPU_BOOST_MAX_MS = 1000;

export class Sandbox {
  /** True once `init` succeeded: the handler is loaded. */
  initialised = false;
  private assigned: FunctionVersion | null;
  private destroyed: Promise<void> | null = null;
  /** The version of each secret init handed the agent: none until then. */
  private secretVersions: SecretVersionsHeld = new Map();

  constructor(
    readonly id: string,
    readonly containerId: string,
    readonly runtime: RuntimeName,
    readonly memoryMb: number,
    fn: FunctionVersion | null,
    private readonly dir: string,
    private readonly channel: AgentChannel,
    private readonly containers: ContainerRuntime,
    private readonly secrets?: SandboxSecrets,
  ) {
    this.assigned = fn;
  }

  /** The function version this sandbox serves (throws while still generic). */
  get fn(): FunctionVersion {
    if (!this.assigned) throw new Error(`sandbox ${this.id} has no function yet`);
    return this.assigned;
  }

  get isGeneric(): boolean {
    return this.assigned === null;
  }

  get key(): string {
    return this.assigned ? sandboxKey(this.assigned) : prewarmKey(this.runtime, this.memoryMb);
  }

  /**
   * False once the agent's connection ended or the sandbox was destroyed, or
   * once a secret it was started with has another value now: the pool then
   * discards it when its call ends, or when it is next taken idle.
   */
  get alive(): boolean {
    if (this.channel.isClosed || this.destroyed !== null) return false;
    return this.secretVersions.size === 0 || !this.secrets || this.secrets.versions.fresh(this.fn.namespace, this.secretVersions);
  }

  onClose(listener: () => void): void {
    this.channel.onClose(listener);
  }

  /** Binds a generic (pre-warmed) sandbox to `fn` for life. */
  assign(fn: FunctionVersion): void {
    if (this.assigned) throw new Error(`sandbox ${this.id} already serves ${sandboxKey(this.assigned)}`);
    if (fn.runtime !== this.runtime || fn.memoryMb !== this.memoryMb) {
      throw new Error(`sandbox ${this.id} is ${this.key}, cannot serve ${fn.runtime}/${fn.memoryMb} MB`);
    }
    this.assigned = fn;
  }

  /** Links the unpacked code into the task directory the container already mounts (once per sandbox: the pool calls it right after start or assignment). */
  placeCode(codeDir: string, linker: CodeLinker): void {
    linker.link(codeDir, join(this.dir, 'task'));
  }

  /**
   * Sends `init`: the function's settings, its environment with the
   * variables set to secrets filled in, and its secrets as files (read now,
   * `sandbox-secrets.ts`). A secret that is missing or cannot be read fails
   * init without asking the agent; the values live on only in the agent.
   */
  async init(): Promise<InitResultMessage> {
    // The container ran at full CPU since its start (only the agent did): that ends with init, or
    // INIT_CPU_BOOST_MAX_MS into it, whichever comes first, and always before the first invocation.
    const deadline = setTimeout(() => void this.settleCpu(), INIT_CPU_BOOST_MAX_MS);
    try {
      return await this.initWithCpu();
    } finally {
      clearTimeout(deadline);
      await this.settleCpu();
    }
  }

  /**
   * Back to the container's own CPU ceiling. When that cannot be written the
   * container is killed instead (its agent's channel closes, the sandbox is
   * discarded), so no call runs above its ceiling; what init answered still
   * stands (a container whose init failed and that exited is the usual case:
   * its cgroup is on its way out).
   */
  private async settleCpu(): Promise<void> {
    try {
      await this.containers.settleCpu?.(this.containerId);
    } catch {
      await this.kill().catch(() => {});
    }
  }

  private async initWithCpu(): Promise<InitResultMessage> {
    const fn = this.fn;
    let env = fn.env;
    let files: Record<string, string> | undefined;
    if (fn.secrets && fn.secrets.length > 0) {
      const resolved = this.secrets
        ? await this.secrets.resolve(fn)
        : ({ ok: false, type: 'Runtime.SecretUnavailable', message: 'this worker has no secrets key' } as const);
      if (!resolved.ok && 'transient' in resolved && resolved.transient) throw new SecretsUnreachableError(resolved.message);
      if (!resolved.ok) return { type: 'initResult', ok: false, error: { type: resolved.type, message: resolved.message }, logs: '', logsTruncated: false };
      env = { ...fn.env, ...resolved.env };
      files = resolved.files;
      this.secretVersions = resolved.versions;
    }
    const result = await this.channel.init({
      type: 'init',
      codeDir: TASK_ROOT,
      handler: fn.handler,
      functionName: fn.functionName,
      functionVersion: String(fn.version),
      memoryLimitInMB: fn.memoryMb,
      timeoutMs: fn.timeoutMs,
      env,
      ...(files ? { secrets: files } : {}),
    });
    this.initialised = result.ok;
    return result;
  }

  invoke(invocationId: string, eventJson: string, deadlineMs: number): Promise<CheckedInvokeResult> {
    return this.channel.invoke(invocationId, eventJson, deadlineMs);
  }

  /** SIGKILLs the container now (used on timeout); `destroy` still follows. */
  kill(): Promise<void> {
    return this.containers.kill(this.containerId);
  }

  /** After the agent vanished: waits briefly for the container to stop and says how. */
  exitInfo(timeoutMs = 2000): Promise<ExitInfo> {
    return this.containers.waitForExit(this.containerId, timeoutMs);
  }

  /** Closes the channel, removes the container and its directory. Idempotent. */
  destroy(): Promise<void> {
    this.destroyed ??= (async () => {
      await this.channel.close().catch(() => {});
      await this.containers.remove(this.containerId);
      await rm(this.dir, { recursive: true, force: true });
    })();
    return this.destroyed;
  }
}

export interface SandboxFactoryOptions {
  runtime: ContainerRuntime;
  /** Host directory under which each sandbox gets its own directory. */
  sandboxesDir: string;
  workerId: string;
  /** How long a started container may take to connect back. */
  startTimeoutMs: number;
  /** Reads a version's secrets at init; absent: a version that references any fails its init. */
  secrets?: SandboxSecrets;
}

/** What to start: a sandbox bound to a known function (labelled with it), or a generic one. */
export interface SandboxRequest {
  runtime: RuntimeName;
  memoryMb: number;
  fn?: FunctionVersion;
}

/**
 * Starts sandboxes: directory and socket first, then the container, then
 * waits for the agent's hello. Layout per sandbox, under `sandboxesDir/<id>/`:
 * `sock/` (root's, 0755: the container can reach the socket in it and write nothing else; at /run/hearth) and
 * `task/` (root-owned, mounted read-only at /var/task, filled by `placeCode`).
 */
export class SandboxFactory {
  constructor(private readonly options: SandboxFactoryOptions) {}

  async start(request: SandboxRequest): Promise<Sandbox> {
    const { runtime, sandboxesDir, workerId, startTimeoutMs } = this.options;
    const id = randomBytes(6).toString('hex');
    const dir = join(sandboxesDir, id);
    const sockDir = join(dir, 'sock');
    // Root's, and not writable by the sandbox uid: the container may connect
    // to the socket (0666) but create nothing here — this directory is on the
    // host's disk, so a writable one would let a function fill it.
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await mkdir(sockDir, { mode: 0o755 });
    await chmod(sockDir, 0o755);
    const codeDir = join(dir, 'task');
    await mkdir(codeDir, { mode: 0o755 });
    const channel = await AgentChannel.listen(join(sockDir, 'agent.sock'));
    const fn = request.fn;
    let containerId: string;
    try {
      containerId = await runtime.start({
        name: `hearth-${workerId}-${id}`,
        image: RUNTIMES[request.runtime].image,
        memoryMb: request.memoryMb,
        network: fn?.network ?? 'none',
        socketDir: sockDir,
        codeDir,
        env: {
          HEARTH_AGENT_SOCKET: `${SOCKET_MOUNT}/agent.sock`,
          ...(request.runtime === 'nodejs20' ? { NODE_OPTIONS: `--max-old-space-size=${request.memoryMb}` } : {}),
        },
        labels: {
          [SANDBOX_LABELS.managed]: 'true',
          [SANDBOX_LABELS.worker]: workerId,
          [SANDBOX_LABELS.runtime]: request.runtime,
          ...(fn
            ? {
                [SANDBOX_LABELS.functionId]: fn.functionId,
                [SANDBOX_LABELS.functionName]: fn.functionName,
                [SANDBOX_LABELS.version]: String(fn.version),
              }
            : { [SANDBOX_LABELS.prewarmed]: 'true' }),
        },
      });
    } catch (err) {
      await channel.close();
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    const sandbox = new Sandbox(id, containerId, request.runtime, request.memoryMb, fn ?? null, dir, channel, runtime, this.options.secrets);
    try {
      await channel.waitForHello(startTimeoutMs);
    } catch (err) {
      await sandbox.destroy().catch(() => {});
      throw err;
    }
    return sandbox;
  }
}
