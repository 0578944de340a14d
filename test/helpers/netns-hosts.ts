/**
 * Several "hosts" on this one machine, for testing the multi-host guide as
 * several hosts (test/e2e/multi-host.test.ts): each host is a network
 * namespace with a veth on a private /24 whose root-namespace bridge holds
 * the data host's address (.1), and a worker host runs a Docker engine of
 * its own in its namespace (own data root, exec root and so containerd,
 * socket, pid file, cgroup parent). All the iproute2 and dockerd work is
 * `infra/multi-host/netns-lab.sh`, so a person can build the same lab by
 * hand. A host can be killed whole (every process it runs, its engine's
 * containers included, SIGKILLed at once) and brought back on the same
 * files. `destroy()` removes every namespace, veth, bridge, engine, mount,
 * cgroup and file the lab made, also after a failure.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { fileURLToPath } from 'node:url';
import { stopGracefully, tail } from './processes.ts';
import { waitFor } from './wait.ts';

/** The repository this file is in. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const LAB_SCRIPT = join(ROOT, 'infra', 'multi-host', 'netns-lab.sh');

const run = (args: string[]) => execFileSync('bash', [LAB_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** Why a netns lab cannot be built here (not root, no `ip netns`, no dockerd or nsenter), or null when it can. */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'needs root (ip netns, veth, a second dockerd)';
  for (const binary of ['ip', 'nsenter', 'dockerd', 'redis-server']) {
    try {
      execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
    } catch {
      return `${binary} is not installed`;
    }
  }
  const probe = `hl-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
  } catch (err) {
    return `ip netns add does not work here: ${(err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message}`;
  }
  return null;
}

/** A process the lab started in a host: killed with it, stopped at `destroy()`. */
export interface HostProcess {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  logFile: string;
}

export class NetnsLab {
  readonly hosts: LabHost[] = [];
  private constructor(
    readonly runId: string,
    readonly dir: string,
    readonly bridge: string,
    /** The first three octets of the lab's /24. */
    readonly net: string,
  ) {}

  /** The data host: the bridge's address in the root namespace, where the lab's Redis and Postgres forwarder listen. */
  get dataAddress(): string {
    return `${this.net}.1`;
  }

  /**
   * Takes down what labs under `parent` left when their test process died
   * before its clean-up (killed, not failed: a failure cleans up in afterAll).
   * A lab whose owner still runs is left alone.
   */
  static async sweep(parent: string): Promise<string[]> {
    const swept: string[] = [];
    for (const entry of readdirSync(parent).filter((e) => /^hlab-[0-9a-f]{4}$/.test(e))) {
      const dir = join(parent, entry);
      const owner = Number(readIfExists(join(dir, 'owner.pid')));
      if (owner > 0 && existsSync(`/proc/${owner}`)) continue;
      const runId = entry.slice('hlab-'.length);
      const lab = new NetnsLab(runId, dir, `hl${runId}br`, '');
      for (const letter of readdirSync(dir).filter((e) => /^[a-z]$/.test(e))) lab.hosts.push(new LabHost(`hl-${runId}-${letter}`, '', join(dir, letter)));
      await lab.destroy();
      swept.push(entry);
    }
    return swept;
  }

  /** Makes the bridge on a /24 (10.241.x.0) no interface of this machine uses yet; `dir` is `<parent>/hlab-<runId>`. */
  static create(runId: string, dir: string): NetnsLab {
    const used = execFileSync('ip', ['-4', 'route', 'show', 'table', 'all']).toString();
    const free = Array.from({ length: 250 }, (_, i) => i + 1).filter((x) => !used.includes(`10.241.${x}.`));
    if (free.length === 0) throw new Error('no free 10.241.x.0/24 for the lab');
    const net = `10.241.${free[Math.floor(Math.random() * free.length)]}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'owner.pid'), String(process.pid));
    const lab = new NetnsLab(runId, dir, `hl${runId}br`, net);
    run(['bridge-up', lab.bridge, `${lab.dataAddress}/24`]);
    return lab;
  }

  /** A new host `letter` (namespace `hl-<run>-<letter>`, address .10 + its index) with a directory of its own. */
  addHost(letter: string): LabHost {
    const address = `${this.net}.${10 + this.hosts.length}`;
    const host = new LabHost(`hl-${this.runId}-${letter}`, address, join(this.dir, letter));
    this.hosts.push(host);
    run(['host-up', host.name, this.bridge, `${address}/24`, this.dataAddress]);
    return host;
  }

  /** Takes everything down; each step goes on after an earlier one failed. */
  async destroy(): Promise<string[]> {
    const problems: string[] = [];
    for (const host of this.hosts) problems.push(...(await host.destroy()));
    try {
      run(['bridge-down', this.bridge]);
    } catch (err) {
      problems.push(`bridge ${this.bridge}: ${(err as Error).message}`);
    }
    rmSync(this.dir, { recursive: true, force: true });
    return problems;
  }
}

export class LabHost {
  readonly dockerDir: string;
  readonly docker: Dockerode;
  private dockerd: HostProcess | null = null;
  private readonly processes = new Set<HostProcess>();

  constructor(
    readonly name: string,
    readonly address: string,
    readonly dir: string,
  ) {
    this.dockerDir = join(dir, 'docker');
    mkdirSync(join(dir, 'logs'), { recursive: true });
    this.docker = new Dockerode({ socketPath: this.socketPath });
  }

  get socketPath(): string {
    return join(this.dockerDir, 'docker.sock');
  }

  /** Starts this host's dockerd (again, after a kill: on the same data root) and waits until it answers. */
  async startDockerd(): Promise<void> {
    if (this.dockerd) throw new Error(`${this.name}: dockerd is already running`);
    const proc = this.spawn('dockerd', ['dockerd', this.name, this.dockerDir], {});
    this.dockerd = proc;
    await waitFor(
      `dockerd of ${this.name} (log: ${proc.logFile})`,
      async () => {
        if (proc.child.exitCode !== null) throw new Error('exited');
        return (await this.docker.ping()).toString() === 'OK';
      },
      30_000,
      200,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${tail(proc.logFile)}`);
    });
  }

  /** SIGTERM to dockerd (it stops its containers first); SIGKILL after 20 s. */
  async stopDockerd(): Promise<void> {
    const proc = this.dockerd;
    if (!proc) return;
    this.dockerd = null;
    await stopGracefully(proc.child, proc.exited, 20_000);
    this.processes.delete(proc);
  }

  /**
   * Runs `bash <script>` (relative to the repository) in this host's
   * network, with only `env` (and PATH, HOME) for environment, and resolves
   * once its output has a JSON log line whose message is `readyMessage`.
   */
  async startScript(name: string, script: string, env: Record<string, string>, readyMessage: string, timeoutMs = 90_000): Promise<HostProcess> {
    const proc = this.spawn(name, ['exec', this.name, 'bash', join(ROOT, script)], env);
    let seen = '';
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          seen = (seen + chunk.toString('utf8')).slice(-16_384);
          if (seen.includes(`"message":"${readyMessage}"`)) resolve();
        };
        proc.child.stdout!.on('data', onData);
        proc.child.stderr!.on('data', onData);
        void proc.exited.then((code) => reject(new Error(`${name} on ${this.name} exited (code ${code}) before "${readyMessage}":\n${tail(proc.logFile, 30)}`)));
        timer = setTimeout(() => reject(new Error(`${name} on ${this.name}: no "${readyMessage}" within ${timeoutMs} ms:\n${tail(proc.logFile, 30)}`)), timeoutMs);
      });
    } catch (err) {
      proc.child.kill('SIGKILL');
      await proc.exited;
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return proc;
  }

  /** SIGTERM (a worker drains), SIGKILL after `graceMs`. */
  async stopProcess(proc: HostProcess, graceMs = 15_000): Promise<void> {
    await stopGracefully(proc.child, proc.exited, graceMs);
    this.processes.delete(proc);
  }

  /**
   * The host dies whole: every process it runs — the lab's processes (its
   * worker), dockerd, dockerd's containerd, the container shims and every
   * process in its containers — SIGKILLed at once. Resolves once all are gone.
   */
  async killWhole(): Promise<number> {
    const pids = new Set<number>();
    for (const proc of this.processes) if (proc.child.pid && proc.child.exitCode === null && proc.child.signalCode === null) pids.add(proc.child.pid);
    // By pid file too: a lab swept after its test process died has no child handles.
    for (const file of [join(this.dockerDir, 'docker.pid'), join(this.dockerDir, 'exec', 'containerd', 'containerd.pid')]) {
      const pid = Number(readIfExists(file));
      if (pid > 0 && readIfExists(`/proc/${pid}/cmdline`).includes(this.dockerDir)) pids.add(pid);
    }
    for (const pid of this.shimPids()) pids.add(pid);
    for (const pid of this.containerPids()) pids.add(pid);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // Paused sandboxes (docker pause: a frozen cgroup) take a SIGKILL only once thawed.
    thawCgroups(`hearth-lab-${this.name}`);
    await waitFor(`every process of ${this.name} gone`, () => [...pids].every((pid) => !existsSync(`/proc/${pid}`) || isZombie(pid)), 10_000, 50);
    await Promise.all([...this.processes].map((proc) => proc.exited));
    this.processes.clear();
    this.dockerd = null;
    return pids.size;
  }

  /** Everything down and removed: processes, containers, engine, mounts, cgroups, namespace. */
  async destroy(): Promise<string[]> {
    const problems: string[] = [];
    const step = async (what: string, action: () => unknown) => {
      try {
        await action();
      } catch (err) {
        problems.push(`${this.name} ${what}: ${(err as Error).message}`);
      }
    };
    for (const proc of [...this.processes]) if (proc !== this.dockerd) await step(`stop ${proc.name}`, () => this.stopProcess(proc, 10_000));
    if (this.dockerd) {
      await step('remove containers', async () => {
        const all = await this.docker.listContainers({ all: true });
        await Promise.all(all.map((c) => this.docker.getContainer(c.Id).remove({ force: true, v: true })));
      });
      await step('stop dockerd', () => this.stopDockerd());
    }
    await step('kill leftovers', () => this.killWhole());
    await step('unmount', () => {
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .map((line) => line.split(' ')[4] ?? '')
        .filter((point) => point.startsWith(`${this.dir}/`))
        .sort((a, b) => b.length - a.length);
      for (const point of mounts) execFileSync('umount', ['-l', point], { stdio: 'ignore' });
    });
    await step('cgroups', () => removeCgroups(`hearth-lab-${this.name}`));
    await step('namespace', () => run(['host-down', this.name]));
    return problems;
  }

  private spawn(name: string, args: string[], env: Record<string, string>): HostProcess {
    const logFile = join(this.dir, 'logs', `${name}.log`);
    const base = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8' };
    const child = spawn('bash', [LAB_SCRIPT, ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = createWriteStream(logFile, { flags: 'a' });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const proc: HostProcess = { name, child, exited, logFile };
    this.processes.add(proc);
    void exited.then(() => this.processes.delete(proc));
    return proc;
  }

  /** containerd-shim processes of this host's containerd (found by its socket path, unique to this host). */
  private shimPids(): number[] {
    const socket = join(this.dockerDir, 'exec', 'containerd', 'containerd.sock');
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => readIfExists(`/proc/${pid}/cmdline`).split('\0').includes(socket))
      .map(Number);
  }

  /** Every process in this host's containers: the tasks of its cgroup parent, in every hierarchy. */
  private containerPids(): number[] {
    const pids = new Set<number>();
    for (const dir of cgroupDirs(`hearth-lab-${this.name}`)) {
      for (const pid of readIfExists(join(dir, 'cgroup.procs')).split('\n').filter(Boolean)) pids.add(Number(pid));
    }
    return [...pids];
  }
}

/**
 * A host's settings file: `infra/multi-host/hearth.env.example` with `values`
 * in place of its own (commented lines turned on, unknown keys appended), so
 * a lab host runs the guide's scripts on the guide's own settings.
 */
export function hostEnvFile(host: LabHost, values: Record<string, string>): string {
  const left = new Map(Object.entries(values));
  const lines = readFileSync(join(ROOT, 'infra/multi-host/hearth.env.example'), 'utf8')
    .split('\n')
    .map((line) => {
      const key = /^#?\s*([A-Z0-9_]+)=/.exec(line)?.[1];
      if (!key || !left.has(key)) return line;
      const value = left.get(key)!;
      left.delete(key);
      return `${key}=${value}`;
    });
  for (const [key, value] of left) lines.push(`${key}=${value}`);
  const file = join(host.dir, 'hearth.env');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function readIfExists(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function isZombie(pid: number): boolean {
  return /\) Z /.test(readIfExists(`/proc/${pid}/stat`));
}

/** `/sys/fs/cgroup/<hierarchy>/<parent>` and every directory below it, deepest first. */
function cgroupDirs(parent: string): string[] {
  const roots = existsSync('/sys/fs/cgroup/cgroup.controllers')
    ? [join('/sys/fs/cgroup', parent)]
    : readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h, parent));
  const dirs: string[] = [];
  const walk = (dir: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const entry of entries) walk(join(dir, entry));
    dirs.push(dir);
  };
  for (const root of roots) walk(root);
  return dirs;
}

function thawCgroups(parent: string): void {
  for (const dir of cgroupDirs(parent)) {
    for (const [file, value] of [['freezer.state', 'THAWED'], ['cgroup.freeze', '0']] as const) {
      if (!existsSync(join(dir, file))) continue;
      try {
        writeFileSync(join(dir, file), value);
      } catch {
        // the root of a hierarchy, or gone
      }
    }
  }
}

function removeCgroups(parent: string): void {
  for (const dir of cgroupDirs(parent)) {
    try {
      rmdirSync(dir);
    } catch {
      // still has tasks or already gone
    }
  }
}
