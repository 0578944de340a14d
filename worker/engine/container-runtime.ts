/**
 * The worker's only view of the container engine. `DockerContainerRuntime`
 * implements it over the Docker Engine API; tests may substitute their own.
 * Deliberately absent: images, networks and volumes. Images are prebuilt by
 * `runtime-images/`, sandboxes have no network, and code arrives by bind mount.
 */

/** What a sandbox container is started with. */
export interface SandboxSpec {
  /** Container name, unique on the engine. */
  name: string;
  image: string;
  memoryMb: number;
  /** `none`: no network interface at all; `egress`: the egress network (internet only). */
  network: 'none' | 'egress';
  /** Host directory holding the agent socket, mounted at `SOCKET_MOUNT`. */
  socketDir: string;
  /** Host directory holding the function's code, mounted read-only at `TASK_ROOT`. */
  codeDir: string;
  env: Record<string, string>;
  labels: Record<string, string>;
}

/** Where a sandbox sees its code (read-only) and the directory of the agent's socket. */
export const TASK_ROOT = '/var/task';
export const SOCKET_MOUNT = '/run/hearth';

/** How a container ended (or that it has not). */
export interface ExitInfo {
  running: boolean;
  /** The engine's own OOM-kill flag. */
  oomKilled: boolean;
  exitCode: number | null;
}

export interface ContainerRuntime {
  /** Creates and starts a container; resolves with its id once started. */
  start(spec: SandboxSpec): Promise<string>;
  /** Sends SIGKILL (a paused container too); a container that already stopped is not an error. */
  kill(id: string): Promise<void>;
  /** Removes forcefully, paused or not; a container that is already gone is not an error. */
  remove(id: string): Promise<void>;
  /** Freezes every process of the container (no CPU at all); one already paused or stopped is not an error. */
  pause(id: string): Promise<void>;
  /** Thaws a paused container; one that is not paused (or is gone: its agent's channel says so) is not an error. */
  unpause(id: string): Promise<void>;
  /** CPU time all of the container's processes have used, in nanoseconds, read cheaply (no engine call); null when it cannot be read. */
  cpuUsageNs(id: string): Promise<number | null>;
  /** Waits up to `timeoutMs` for the container to stop, then reports how it ended. */
  waitForExit(id: string, timeoutMs: number): Promise<ExitInfo>;
  /** Ids of every container (running or not) carrying all of `labels`. */
  list(labels: Record<string, string>): Promise<string[]>;
  /** Resolves when the engine answers. */
  ping(): Promise<void>;
}

/** Labels every sandbox carries, so a restarted worker can find its leftovers. */
export const SANDBOX_LABELS = {
  managed: 'io.hearth.managed',
  worker: 'io.hearth.worker',
  functionId: 'io.hearth.function-id',
  functionName: 'io.hearth.function',
  version: 'io.hearth.version',
  runtime: 'io.hearth.runtime',
  /** Started generic, with no function yet (it keeps the label once assigned). */
  prewarmed: 'io.hearth.prewarmed',
} as const;
