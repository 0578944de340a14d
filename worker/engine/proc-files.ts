/**
 * Host-wide counters a sandbox must not read, replaced by static stand-ins.
 * `/proc/loadavg`, `/proc/stat` (CPU times, context switches, forks, boot
 * time) and `/proc/meminfo` (free host memory) are not namespaced: a tenant
 * polling them sees its neighbours' cold starts come and go. LXCFS would
 * virtualise them per container; it is not available here, so each is
 * bind-mounted (read-only) over with a file that never changes. runc allows
 * binds onto exactly these LXCFS paths.
 *
 * Why not Docker's `MaskedPaths` (a /dev/null over the file): an empty
 * `/proc/stat` makes Node's `os.cpus()` return `[]` (libuv lists CPUs from
 * it), which breaks every library sizing a pool by `os.cpus().length`; and
 * Node and glibc fall back to `sysinfo(2)` for an empty loadavg or meminfo,
 * so masking hides nothing there. The stand-ins keep one `cpuN` line per
 * host core (zero times), zero load, and the container's own memory limit.
 * `sysinfo(2)` itself still reports host load and memory: closing that needs
 * a seccomp profile, which is not done.
 */
import { access, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `/proc/stat` with `cpus` idle CPUs that never ran, and no host counters. */
export function procStat(cpus: number): string {
  const zero = ' 0 0 0 0 0 0 0 0 0 0';
  const lines = [`cpu ${zero}`];
  for (let i = 0; i < cpus; i++) lines.push(`cpu${i}${zero}`);
  lines.push('intr 0', 'ctxt 0', 'btime 0', 'processes 0', 'procs_running 1', 'procs_blocked 0', 'softirq 0');
  return `${lines.join('\n')}\n`;
}

export const PROC_LOADAVG = '0.00 0.00 0.00 1/1 1\n';

/** `/proc/meminfo` of a machine that is exactly the container: its limit, all of it free, no swap. */
export function procMeminfo(memoryMb: number): string {
  const kb = memoryMb * 1024;
  const rows: Array<[string, number]> = [
    ['MemTotal', kb],
    ['MemFree', kb],
    ['MemAvailable', kb],
    ['Buffers', 0],
    ['Cached', 0],
    ['SwapCached', 0],
    ['SwapTotal', 0],
    ['SwapFree', 0],
  ];
  return rows.map(([name, value]) => `${`${name}:`.padEnd(16)}${String(value).padStart(8)} kB`).join('\n') + '\n';
}

/** Writes the stand-ins once per process (again if removed) and returns `host path:/proc/… :ro` binds. */
export class ProcFiles {
  private readonly written = new Map<string, Promise<void>>();

  constructor(
    private readonly dir: string,
    private readonly hostCpus: number,
  ) {}

  async binds(memoryMb: number): Promise<string[]> {
    const files: Array<[string, string, string]> = [
      [`stat-${this.hostCpus}`, procStat(this.hostCpus), '/proc/stat'],
      ['loadavg', PROC_LOADAVG, '/proc/loadavg'],
      [`meminfo-${memoryMb}`, procMeminfo(memoryMb), '/proc/meminfo'],
    ];
    return Promise.all(
      files.map(async ([name, content, target]) => {
        const path = join(this.dir, name);
        await this.ensure(path, content);
        return `${path}:${target}:ro`;
      }),
    );
  }

  /** A missing bind source would be created by the engine as a directory and fail the start: check each time (cheap). */
  private async ensure(path: string, content: string): Promise<void> {
    const present = await access(path).then(() => true, () => false);
    if (present) return;
    let writing = this.written.get(path);
    if (!writing) {
      writing = (async () => {
        await mkdir(this.dir, { recursive: true, mode: 0o755 });
        // Write then rename: a container starting meanwhile never binds a half-written file.
        const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
        await writeFile(tmp, content, { mode: 0o644 });
        await rename(tmp, path);
      })().finally(() => this.written.delete(path));
      this.written.set(path, writing);
    }
    await writing;
  }
}
