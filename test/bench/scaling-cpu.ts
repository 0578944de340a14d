/**
 * CPU of the scaling scenario's processes, grouped per "host" of the netns
 * lab. Processes inside the namespaces are still in this machine's `/proc`,
 * but process-cpu.ts would put a lab host's sandboxes (cgroup parent
 * `hearth-lab-<host>`, no `docker` in the path) among "other node
 * processes" and both engines into one group; here a lab host's
 * containers and its engine (dockerd, containerd and shims, found by the
 * host's own engine directory in their command line) are groups of their
 * own, and the lab's Redis (bound to the data host's address) is told from
 * the machine's. Everything else is grouped as process-cpu.ts does.
 */
import { readFileSync } from 'node:fs';
import type { LabHost } from '../helpers/netns-hosts.ts';
import { cpuSnapshot, cpuSpent, type CpuSnapshot } from './process-cpu.ts';

const TICKS_PER_SECOND = 100;

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The lab group of `pid`, or null when it is not one of the lab's own. */
function labGroup(pid: number, hosts: readonly { label: string; host: LabHost }[], dataAddress: string | null): string | null {
  const cgroup = read(`/proc/${pid}/cgroup`);
  const cmdline = read(`/proc/${pid}/cmdline`);
  for (const { label, host } of hosts) {
    if (cgroup.includes(`hearth-lab-${host.name}`)) return `${label}: function containers`;
    if (cmdline.includes(host.dockerDir)) return `${label}: docker engine`;
  }
  if (dataAddress && cmdline.startsWith('redis-server') && cmdline.includes(dataAddress)) return 'redis (lab data host)';
  return null;
}

/** CPU seconds per group between `a` and `b`: `named` pids first, then the lab's groups, then process-cpu.ts's. */
export function labCpuSpent(
  a: CpuSnapshot,
  b: CpuSnapshot,
  named: Record<string, number | undefined>,
  hosts: readonly { label: string; host: LabHost }[],
  dataAddress: string | null,
): Record<string, number> {
  const namedPids = new Set(Object.values(named).filter((p): p is number => p !== undefined));
  const out: Record<string, number> = {};
  const restA: CpuSnapshot = new Map(a);
  const restB: CpuSnapshot = new Map();
  for (const [pid, now] of b) {
    const group = namedPids.has(pid) ? null : labGroup(pid, hosts, dataAddress);
    if (group === null) {
      restB.set(pid, now);
      continue;
    }
    const delta = (now.ticks - (a.get(pid)?.ticks ?? 0)) / TICKS_PER_SECOND;
    if (delta > 0) out[group] = (out[group] ?? 0) + delta;
    restA.delete(pid);
  }
  for (const [group, seconds] of Object.entries(cpuSpent(restA, restB, named))) out[group] = (out[group] ?? 0) + seconds;
  return out;
}

/** Opens a CPU window now; `end()` closes it: CPU seconds by group (as `labCpuSpent`) and the wall seconds. */
export function labCpuWindow(hosts: readonly { label: string; host: LabHost }[], dataAddress: string | null): { end(named: Record<string, number | undefined>): { cpu: Record<string, number>; seconds: number } } {
  const before = cpuSnapshot();
  const t0 = Date.now();
  return { end: (named) => ({ cpu: labCpuSpent(before, cpuSnapshot(), named, hosts, dataAddress), seconds: (Date.now() - t0) / 1000 }) };
}
