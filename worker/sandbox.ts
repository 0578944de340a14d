/**
 * A sandbox: one function container plus the worker's channel to the agent
 * inside it. A sandbox serves exactly one function version for its life and
 * one invocation at a time.
 */
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RUNTIMES } from '../runtime-images/runtimes.ts';
import { AgentChannel } from './agent-channel.ts';
import type { InitResultMessage, InvokeResultMessage } from './agent-protocol.ts';
import { SANDBOX_LABELS, type ContainerRuntime, type ExitInfo } from './container-runtime.ts';
import type { InvocationJob } from './invocation-queue.ts';

/** uid and gid of the unprivileged user inside every runtime image. */
const SANDBOX_UID = 10001;

/** Where the code is mounted inside the container. */
export const TASK_ROOT = '/var/task';

/** The function version a sandbox is bound to. */
export interface SandboxFunction {
  functionId: string;
  functionName: string;
  version: number;
  runtime: InvocationJob['runtime'];
  handler: string;
  memoryMb: number;
  timeoutMs: number;
  env: Record<string, string>;
}

/** Pool key: sandboxes are only ever shared by calls to the same version. */
export function sandboxKey(fn: { functionId: string; version: number }): string {
  return `${fn.functionId}@${fn.version}`;
}

export class Sandbox {
  readonly key: string;
  lastUsedAt = Date.now();
  private destroyed: Promise<void> | null = null;

  constructor(
    readonly id: string,
    readonly containerId: string,
    readonly fn: SandboxFunction,
    private readonly dir: string,
    private readonly channel: AgentChannel,
    private readonly runtime: ContainerRuntime,
  ) {
    this.key = sandboxKey(fn);
  }

  /** False once the agent's connection ended or the sandbox was destroyed. */
  get alive(): boolean {
    return !this.channel.isClosed && this.destroyed === null;
  }

  onClose(listener: () => void): void {
    this.channel.onClose(listener);
  }

  init(): Promise<InitResultMessage> {
    return this.channel.init({
      type: 'init',
      codeDir: TASK_ROOT,
      handler: this.fn.handler,
      functionName: this.fn.functionName,
      functionVersion: String(this.fn.version),
      memoryLimitInMB: this.fn.memoryMb,
      timeoutMs: this.fn.timeoutMs,
      env: this.fn.env,
    });
  }

  invoke(invocationId: string, eventJson: string, deadlineMs: number): Promise<InvokeResultMessage> {
    return this.channel.invoke(invocationId, eventJson, deadlineMs);
  }

  /** SIGKILLs the container now (used on timeout); `destroy` still follows. */
  kill(): Promise<void> {
    return this.runtime.kill(this.containerId);
  }

  /** After the agent vanished: waits briefly for the container to stop and says how. */
  exitInfo(timeoutMs = 2000): Promise<ExitInfo> {
    return this.runtime.waitForExit(this.containerId, timeoutMs);
  }

  /** Closes the channel, removes the container and its socket directory. Idempotent. */
  destroy(): Promise<void> {
    this.destroyed ??= (async () => {
      await this.channel.close().catch(() => {});
      await this.runtime.remove(this.containerId);
      await rm(this.dir, { recursive: true, force: true });
    })();
    return this.destroyed;
  }
}

export interface SandboxFactoryOptions {
  runtime: ContainerRuntime;
  /** Host directory under which each sandbox gets its socket directory. */
  sandboxesDir: string;
  workerId: string;
  /** How long a started container may take to connect back. */
  startTimeoutMs: number;
}

/** Starts sandboxes: socket first, then the container, then waits for hello. */
export class SandboxFactory {
  constructor(private readonly options: SandboxFactoryOptions) {}

  async start(fn: SandboxFunction, codeDir: string): Promise<Sandbox> {
    const { runtime, sandboxesDir, workerId, startTimeoutMs } = this.options;
    const id = randomBytes(6).toString('hex');
    const dir = join(sandboxesDir, id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chown(dir, SANDBOX_UID, SANDBOX_UID);
    await chmod(dir, 0o700);
    const channel = await AgentChannel.listen(join(dir, 'agent.sock'));
    let containerId: string;
    try {
      containerId = await runtime.start({
        name: `hearth-${workerId}-${id}`,
        image: RUNTIMES[fn.runtime].image,
        memoryMb: fn.memoryMb,
        socketDir: dir,
        codeDir,
        env: {
          HEARTH_AGENT_SOCKET: '/run/hearth/agent.sock',
          ...(fn.runtime === 'nodejs20' ? { NODE_OPTIONS: `--max-old-space-size=${fn.memoryMb}` } : {}),
        },
        labels: {
          [SANDBOX_LABELS.managed]: 'true',
          [SANDBOX_LABELS.worker]: workerId,
          [SANDBOX_LABELS.functionId]: fn.functionId,
          [SANDBOX_LABELS.functionName]: fn.functionName,
          [SANDBOX_LABELS.version]: String(fn.version),
          [SANDBOX_LABELS.runtime]: fn.runtime,
        },
      });
    } catch (err) {
      await channel.close();
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    const sandbox = new Sandbox(id, containerId, fn, dir, channel, runtime);
    try {
      await channel.waitForHello(startTimeoutMs);
    } catch (err) {
      await sandbox.destroy().catch(() => {});
      throw err;
    }
    return sandbox;
  }
}
