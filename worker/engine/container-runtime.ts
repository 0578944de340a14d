/**
 * The worker's only view of the container engine. `DockerContainerRuntime`
 * implements it over the Docker Engine API; tests may substitute their own.
 * Deliberately absent: networks, volumes and building or pulling images.
 * Images are prebuilt by `runtime-images/` (the worker only looks at them,
 * `imageInfo`), sandboxes have no network, and code arrives by bind mount.
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

/** What the engine says of an image (`imageInfo`). */
export interface ImageInfo {
  /** The engine's image id (`sha256:…`). */
  id: string;
  /** Size of the image as the engine counts it (`docker image inspect`'s `Size`), in bytes. */
  sizeBytes: number;
  /** When it was built, ISO time. */
  createdAt: string;
  labels: Record<string, string>;
  /** The image's environment, `KEY=value` pairs split. */
  env: Record<string, string>;
  entrypoint: string[];
  /** What `probe` printed (stdout and stderr together, at most `PROBE_OUTPUT_BYTES`); absent when no probe was asked for or it could not run. */
  probeOutput?: string;
}

/** Most of a probe's output kept, and the longest a probe may run. */
export const PROBE_OUTPUT_BYTES = 4096;
export const PROBE_TIMEOUT_MS = 10_000;

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
  /**
   * Puts a container started above its own CPU ceiling (for its agent's
   * start and its init) back to that ceiling; idempotent, and a no-op for
   * one never raised or already gone. Throws if the ceiling could not be
   * restored: the container must then not run tenant code again. Engines
   * that never raise it need not have it.
   */
  settleCpu?(id: string): Promise<void>;
  /** Waits up to `timeoutMs` for the container to stop, then reports how it ended. */
  waitForExit(id: string, timeoutMs: number): Promise<ExitInfo>;
  /** Ids of every container (running or not) carrying all of `labels`. */
  list(labels: Record<string, string>): Promise<string[]>;
  /**
   * The image `tag` as the engine has it, or null when it has no such image.
   * With `probe`, also runs that command once in a throwaway container of the
   * image (as the sandbox user, no network, read-only root, removed when it
   * ends, killed after `PROBE_TIMEOUT_MS`) and answers what it printed: how a
   * worker learns the versions an image carries when no label says them.
   * A probe that fails leaves `probeOutput` out; it never throws.
   */
  imageInfo(tag: string, probe?: readonly string[]): Promise<ImageInfo | null>;
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
