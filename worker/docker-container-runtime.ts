/**
 * `ContainerRuntime` over the Docker Engine API (dockerode). The create
 * request carries every isolation setting, so one create and one start are
 * the whole cold path: no image inspection, no network set-up, no polling.
 */
import Docker from 'dockerode';
import { SANDBOX_UID } from '../runtime-images/runtimes.ts';
import { SOCKET_MOUNT, TASK_ROOT, type ContainerRuntime, type ExitInfo, type SandboxSpec } from './container-runtime.ts';

/** The Docker network egress-enabled sandboxes join (see infra/egress-network.ts). */
export const EGRESS_NETWORK = 'hearth-egress';

export interface DockerRuntimeOptions {
  /** The engine's client; defaults to dockerode's default socket. */
  docker?: Docker;
}

const MIB = 1024 * 1024;
/** Size of the writable `/tmp` tmpfs. */
const TMP_SIZE_MB = 64;
const PIDS_LIMIT = 64;

function isStatus(err: unknown, ...codes: number[]): boolean {
  const status = (err as { statusCode?: number } | null)?.statusCode;
  return typeof status === 'number' && codes.includes(status);
}

export class DockerContainerRuntime implements ContainerRuntime {
  private readonly docker: Docker;

  constructor(options: DockerRuntimeOptions = {}) {
    this.docker = options.docker ?? new Docker();
  }

  async start(spec: SandboxSpec): Promise<string> {
    const memory = spec.memoryMb * MIB;
    const container = await this.docker.createContainer({
      name: spec.name,
      Image: spec.image,
      User: `${SANDBOX_UID}:${SANDBOX_UID}`,
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      Labels: spec.labels,
      NetworkDisabled: spec.network === 'none',
      HostConfig: {
        NetworkMode: spec.network === 'egress' ? EGRESS_NETWORK : 'none',
        Memory: memory,
        // Swap equal to memory: no swap at all, so the limit is the limit.
        MemorySwap: memory,
        // CPU weight proportional to memory, as Lambda allocates CPU.
        CpuShares: Math.max(2, spec.memoryMb),
        PidsLimit: PIDS_LIMIT,
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${TMP_SIZE_MB}m,mode=1777` },
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        Ulimits: [
          { Name: 'nofile', Soft: 1024, Hard: 1024 },
          { Name: 'fsize', Soft: TMP_SIZE_MB * MIB, Hard: TMP_SIZE_MB * MIB },
        ],
        Binds: [`${spec.socketDir}:${SOCKET_MOUNT}`, `${spec.codeDir}:${TASK_ROOT}:ro`],
        LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '1' } },
        IpcMode: 'private',
      },
    });
    try {
      await container.start();
    } catch (err) {
      await this.remove(container.id);
      throw err;
    }
    return container.id;
  }

  async kill(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).kill({ signal: 'SIGKILL' });
    } catch (err) {
      // 404 gone, 409 not running: both mean it is already dead.
      if (!isStatus(err, 404, 409)) throw err;
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      // 409 "removal already in progress" also ends with it gone.
      if (!isStatus(err, 404, 409)) throw err;
    }
  }

  async waitForExit(id: string, timeoutMs: number): Promise<ExitInfo> {
    const container = this.docker.getContainer(id);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        container.wait({ condition: 'not-running' }),
        new Promise((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    } finally {
      clearTimeout(timer);
    }
    try {
      let info = await container.inspect();
      if (!info.State.Running && info.State.ExitCode === 137 && !info.State.OOMKilled) {
        // The engine records the OOM event and the exit separately; a SIGKILL
        // exit seen first may be followed by the OOM flag a moment later.
        await new Promise((resolve) => setTimeout(resolve, 100));
        info = await container.inspect();
      }
      return {
        running: info.State.Running,
        oomKilled: info.State.OOMKilled,
        exitCode: info.State.Running ? null : info.State.ExitCode,
      };
    } catch (err) {
      if (isStatus(err, 404)) return { running: false, oomKilled: false, exitCode: null };
      throw err;
    }
  }

  async list(labels: Record<string, string>): Promise<string[]> {
    const containers = await this.docker.listContainers({
      all: true,
      filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) },
    });
    return containers.map((c) => c.Id);
  }

  async ping(): Promise<void> {
    await this.docker.ping();
  }
}
