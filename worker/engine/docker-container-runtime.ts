/**
 * `ContainerRuntime` over the Docker Engine API (dockerode). The create
 * request carries every isolation setting, so one create and one start are
 * the whole cold path: no image inspection, no network set-up, no polling.
 */
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import Docker from 'dockerode';
import { cpuFileFromProcCgroup, defaultCpuFiles, type CpuFile } from './cgroup-cpu.ts';
import { cpuCeiling, DEFAULT_CPU_FLOOR, nanoCpus } from './cpu-limit.ts';
import { ProcFiles } from './proc-files.ts';
import { SANDBOX_UID, SECRETS_DIR } from '../../runtime-images/runtimes.ts';
import { SOCKET_MOUNT, TASK_ROOT, type ContainerRuntime, type ExitInfo, type ImageInfo, type SandboxSpec } from './container-runtime.ts';
import { dockerImageInfo } from './docker-image-info.ts';
import { InitCpuBoost } from './init-cpu-boost.ts';

/** The Docker network egress-enabled sandboxes join (see worker/engine/egress-network.ts). */
export const EGRESS_NETWORK = 'hearth-egress';

export interface DockerRuntimeOptions {
  /** The engine's client; defaults to dockerode's default socket. */
  docker?: Docker;
  /** Least CPU ceiling of any sandbox, in cores (see cpu-limit.ts). */
  cpuFloor?: number;
  /** Cores of the host, the highest ceiling; defaults to what this process may use. */
  hostCpus?: number;
  /** Host directory for the static /proc stand-ins (see proc-files.ts). */
  procDir?: string;
  /** Cores a sandbox may use from its start until its init ends (see init-cpu-boost.ts); default the host's, 0 off. */
  initCpus?: number;
}

const MIB = 1024 * 1024;
/** Size of the writable `/tmp` tmpfs. */
const TMP_SIZE_MB = 64;
/** `/run/secrets`: 1 MiB, twice what a version's secrets can fill (32 × 16 KiB). */
const SECRETS_SIZE_KB = 1024;
const PIDS_LIMIT = 64;

/**
 * Setting `MaskedPaths` replaces Docker's default list, so it is repeated
 * here (moby's oci/defaults.go), followed by host-wide counters a function
 * has no need of and that move with its neighbours' work: pressure stall
 * averages, VM and interrupt counters, disk statistics, and the host's idle
 * time in `/proc/uptime` (Node's `os.uptime()` then falls back to
 * CLOCK_BOOTTIME). loadavg, stat and meminfo are not masked but replaced
 * (see proc-files.ts): runtimes read those.
 */
const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
  '/proc/pressure',
  '/proc/vmstat',
  '/proc/interrupts',
  '/proc/softirqs',
  '/proc/diskstats',
  '/proc/zoneinfo',
  '/proc/buddyinfo',
  '/proc/pagetypeinfo',
  '/proc/schedstat',
  '/proc/uptime',
];

/** Polling of the engine's view of a pause: at most 1 s in all. */
const STATE_POLLS = 200;
const STATE_POLL_MS = 5;
/** An unpause refused as "not paused" while the engine also reads not paused is believed after this many looks, 5 ms apart. */
const UNPAUSE_RETRIES = 10;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function messageOf(err: unknown): string {
  const e = err as { json?: { message?: unknown }; message?: unknown } | null;
  return String(e?.json?.message ?? e?.message ?? '');
}

/** Nanoseconds of CPU from `file`, or null when it is not there (or not what it should be). */
async function readCpuFile(file: CpuFile): Promise<number | null> {
  const text = await readFile(file.path, 'utf8').catch(() => null);
  return text === null ? null : file.parse(text);
}

/**
 * The create request of one sandbox: every isolation setting in one place
 * (`test/bench/measure-hostconfig.ts` times what each costs a cold start).
 * `procBinds` are the /proc stand-ins' binds; `cpus` the CPU ceiling.
 */
export function sandboxCreateOptions(spec: SandboxSpec, { procBinds, cpus }: { procBinds: readonly string[]; cpus: number }): Docker.ContainerCreateOptions {
  const memory = spec.memoryMb * MIB;
  return {
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
      // CPU weight and a hard ceiling, both proportional to memory, as Lambda allocates CPU.
      CpuShares: Math.max(2, spec.memoryMb),
      NanoCpus: nanoCpus(cpus),
      PidsLimit: PIDS_LIMIT,
      ReadonlyRootfs: true,
      Tmpfs: {
        '/tmp': `rw,nosuid,nodev,size=${TMP_SIZE_MB}m,mode=1777`,
        // The agent writes the secret files here at init (0400): the sandbox user's alone, in memory, nothing runnable.
        [SECRETS_DIR]: `rw,noexec,nosuid,nodev,size=${SECRETS_SIZE_KB}k,mode=0700,uid=${SANDBOX_UID},gid=${SANDBOX_UID}`,
      },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Ulimits: [
        { Name: 'nofile', Soft: 1024, Hard: 1024 },
        { Name: 'fsize', Soft: TMP_SIZE_MB * MIB, Hard: TMP_SIZE_MB * MIB },
      ],
      MaskedPaths: MASKED_PATHS,
      // Host-wide /proc counters that runtimes read get static stand-ins.
      Binds: [`${spec.socketDir}:${SOCKET_MOUNT}`, `${spec.codeDir}:${TASK_ROOT}:ro`, ...procBinds],
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '1' } },
      IpcMode: 'private',
    },
  };
}

function isStatus(err: unknown, ...codes: number[]): boolean {
  const status = (err as { statusCode?: number } | null)?.statusCode;
  return typeof status === 'number' && codes.includes(status);
}

export class DockerContainerRuntime implements ContainerRuntime {
  /** Which of the default cgroup places answered first (it does not change while the engine runs). */
  private defaultCpuFile: number | null = null;
  /** Containers found elsewhere (another cgroup parent): their CPU file, from their process's cgroup; null: none found. */
  private readonly cpuFiles = new Map<string, CpuFile | null>();
  private readonly docker: Docker;
  private readonly cpuFloor: number;
  private readonly hostCpus: number;
  private readonly procFiles: ProcFiles;
  private readonly initBoost: InitCpuBoost;

  constructor(options: DockerRuntimeOptions = {}) {
    this.docker = options.docker ?? new Docker();
    this.hostCpus = options.hostCpus ?? availableParallelism();
    this.cpuFloor = options.cpuFloor ?? DEFAULT_CPU_FLOOR;
    this.procFiles = new ProcFiles(options.procDir ?? join(tmpdir(), 'hearth-proc'), this.hostCpus);
    this.initBoost = new InitCpuBoost({
      initCpus: Math.min(this.hostCpus, options.initCpus ?? this.hostCpus),
      procCgroup: async (id) => {
        const pid = (await this.docker.getContainer(id).inspect()).State.Pid;
        return pid ? readFile(`/proc/${pid}/cgroup`, 'utf8') : null;
      },
    });
  }

  async start(spec: SandboxSpec): Promise<string> {
    const procBinds = await this.procFiles.binds(spec.memoryMb);
    const cpus = cpuCeiling(spec.memoryMb, { floorCpus: this.cpuFloor, hostCpus: this.hostCpus });
    const container = await this.docker.createContainer(sandboxCreateOptions(spec, { procBinds, cpus }));
    try {
      await container.start();
    } catch (err) {
      await this.remove(container.id);
      throw err;
    }
    // Only the agent runs until init: it starts at full CPU (init-cpu-boost.ts); `settleCpu` ends that.
    await this.initBoost.boost(container.id);
    return container.id;
  }

  settleCpu(id: string): Promise<void> {
    return this.initBoost.settle(id);
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
    this.cpuFiles.delete(id);
    this.initBoost.forget(id);
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      // 409 "removal already in progress" also ends with it gone.
      if (!isStatus(err, 404, 409)) throw err;
    }
  }

  /**
   * dockerd 20.10 keeps its own `Paused` flag, set by the pause and unpause
   * requests and again by containerd's events, which arrive a moment later:
   * right after one, the flag can still show the state before it. A request
   * refused on a stale flag ("already paused", "is not paused") is therefore
   * tried again for a short while before it is believed. A pause also waits
   * (up to 1 s, off the call path: the container is idle) for the flag to
   * read paused, so the unpause that follows is not refused on it.
   */
  async pause(id: string): Promise<void> {
    const container = this.docker.getContainer(id);
    let accepted = false;
    for (let attempt = 0; attempt < STATE_POLLS; attempt++) {
      try {
        if (!accepted) {
          await container.pause();
          accepted = true;
        }
        const state = (await container.inspect()).State;
        if (!state.Running || (accepted && state.Paused)) return;
      } catch (err) {
        // Gone, or stopped ("not running", "cannot pause a stopped container"): nothing to freeze.
        if (isStatus(err, 404) || /not running|stopped/i.test(messageOf(err))) return;
        if (!/already paused/i.test(messageOf(err))) throw err;
      }
      await sleep(STATE_POLL_MS);
    }
    // Accepted (containerd froze it) though the flag still lags, or refused as "already paused" all along: paused either way.
  }

  /**
   * From the container's cgroup, as the engine itself would report it, but a
   * file read rather than a stats request: cgroup v1 (`cpuacct.usage`) or v2
   * (`cpu.stat`), cgroupfs or systemd layout. The layout that answered is
   * remembered; null when none does (an engine on another host, say).
   */
  async cpuUsageNs(id: string): Promise<number | null> {
    const known = this.cpuFiles.get(id);
    if (known !== undefined) return known === null ? null : readCpuFile(known);
    const defaults = defaultCpuFiles(id);
    const tried = this.defaultCpuFile === null ? defaults.map((_, i) => i) : [this.defaultCpuFile];
    for (const index of tried) {
      const ns = await readCpuFile(defaults[index]!);
      if (ns === null) continue;
      this.defaultCpuFile = index;
      return ns;
    }
    // Not where Docker's default parent puts it: ask where its process is (one inspect per container).
    const file = await this.cpuFileOfProcess(id);
    this.cpuFiles.set(id, file);
    return file === null ? null : readCpuFile(file);
  }

  private async cpuFileOfProcess(id: string): Promise<CpuFile | null> {
    const pid = await this.docker
      .getContainer(id)
      .inspect()
      .then((info) => info.State.Pid, () => 0);
    if (!pid) return null;
    const text = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => null);
    return text === null ? null : cpuFileFromProcCgroup(text);
  }

  async unpause(id: string): Promise<void> {
    const container = this.docker.getContainer(id);
    let notPaused = 0;
    for (let attempt = 0; attempt < STATE_POLLS; attempt++) {
      try {
        await container.unpause();
        return;
      } catch (err) {
        if (isStatus(err, 404)) return;
        if (!/not paused/i.test(messageOf(err))) throw err;
      }
      // Refused as "not paused": the flag may lag a pause that happened (retry), or it is true.
      const state = await container.inspect().then((info) => info.State, (err: unknown) => (isStatus(err, 404) ? null : Promise.reject(err)));
      if (!state || !state.Running) return;
      if (state.Paused) {
        // The engine says paused and refused as not paused: its flag lags; look again shortly, not in a tight loop.
        await sleep(STATE_POLL_MS);
        continue;
      }
      if (++notPaused >= UNPAUSE_RETRIES) return;
      await sleep(STATE_POLL_MS);
    }
    throw new Error(`container ${id} is paused and refuses to unpause`);
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

  /** See docker-image-info.ts: one inspect, and the probe container when asked. */
  imageInfo(tag: string, probe?: readonly string[]): Promise<ImageInfo | null> {
    return dockerImageInfo(this.docker, tag, probe);
  }

  async ping(): Promise<void> {
    await this.docker.ping();
  }
}
