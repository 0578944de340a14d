/**
 * Where a container's CPU use is read: its cgroup's CPU accounting file. The
 * usual places are tried first (Docker's default cgroup parent under either
 * cgroup version and driver); an engine started with another parent
 * (`dockerd --cgroup-parent`, as each host of the multi-host lab is, or a
 * systemd slice of the operator's) puts its containers elsewhere, and then
 * the container's own process says where: `/proc/<pid>/cgroup`. Without a
 * reading the freezer pauses every idle sandbox after its grace (it cannot
 * tell a quiet one from a busy one), which costs each call a pause and an
 * unpause.
 */

/** A file holding a cgroup's CPU time, and how to read nanoseconds out of it. */
export interface CpuFile {
  path: string;
  parse(text: string): number | null;
}

const readUsage = (text: string): number | null => (/^\d+/.test(text) ? Number(text.trim()) : null);
const readStat = (text: string): number | null => {
  const usec = /usage_usec (\d+)/.exec(text);
  return usec ? Number(usec[1]) * 1000 : null;
};

const under = (root: string, dir: string, file: string) => [root, dir, file].filter(Boolean).join('/');
const v1 = (root: string, dir: string): CpuFile => ({ path: under(root, dir, 'cpuacct.usage'), parse: readUsage });
const v2 = (root: string, dir: string): CpuFile => ({ path: under(root, dir, 'cpu.stat'), parse: readStat });

/** The places Docker's default cgroup parent puts container `id`, per cgroup version and driver. */
export function defaultCpuFiles(id: string, root = '/sys/fs/cgroup'): CpuFile[] {
  return [
    v1(root, `cpuacct/docker/${id}`),
    v1(root, `cpu,cpuacct/docker/${id}`),
    v1(root, `cpuacct/system.slice/docker-${id}.scope`),
    v2(root, `system.slice/docker-${id}.scope`),
    v2(root, `docker/${id}`),
  ];
}

/**
 * The lines of a `/proc/<pid>/cgroup` text whose path is absolute and does
 * not climb out (`..`), as a v1 controller list (empty for the unified v2
 * line) and a path: the text is the kernel's, but nothing here trusts a path
 * it has not checked.
 */
export function* checkedCgroupLines(text: string): Generator<{ controllers: string[]; path: string }> {
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, , controllers, path] = match as unknown as [string, string, string, string];
    if (!path.startsWith('/') || path.split('/').includes('..')) continue;
    yield { controllers: controllers === '' ? [] : controllers.split(','), path };
  }
}

/**
 * The CPU accounting file of the process whose `/proc/<pid>/cgroup` is
 * `text`: the `cpuacct` hierarchy's line on cgroup v1 (`/sys/fs/cgroup/cpuacct`
 * is also there when it is mounted together with `cpu`), the unified line
 * (`0::`) on v2. Null when neither is there, or a path is not absolute or
 * climbs out (`..`), see `checkedCgroupLines`.
 */
export function cpuFileFromProcCgroup(text: string, root = '/sys/fs/cgroup'): CpuFile | null {
  let unified: string | null = null;
  for (const { controllers, path } of checkedCgroupLines(text)) {
    if (controllers.includes('cpuacct')) return v1(root, `cpuacct${path === '/' ? '' : path}`);
    if (controllers.length === 0) unified = path;
  }
  return unified === null ? null : v2(root, unified === '/' ? '' : unified.slice(1));
}
