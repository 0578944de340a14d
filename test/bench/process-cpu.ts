/**
 * CPU spent by every process on this host between two snapshots, grouped
 * by what the process is (the bench's gateway and worker by pid, then
 * Postgres, Redis, the brokers, function containers), read from `/proc`. On
 * a shared 2-core machine this says which process a run's time went to —
 * and how much went to processes that are not the bench's at all.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** `getconf CLK_TCK` on Linux. */
const TICKS_PER_SECOND = 100;

interface ProcessTicks {
  kind: string;
  ticks: number;
}

/** The platform's Redis listens on 6379; any other redis-server here is a bench broker. */
function redisKind(pid: string): string {
  try {
    return /:6379\b/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8')) ? 'redis (platform)' : 'redis (bench broker)';
  } catch {
    return 'redis (platform)';
  }
}

export type CpuSnapshot = Map<number, ProcessTicks>;

/** CPU ticks (user + system) of every process now, by pid. */
export function cpuSnapshot(): CpuSnapshot {
  const snapshot: CpuSnapshot = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      const inContainer = /\/docker[/-]/.test(readFileSync(`/proc/${entry}/cgroup`, 'utf8'));
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const kind = inContainer ? 'container' : name.startsWith('redis') ? redisKind(entry) : name;
      snapshot.set(Number(entry), { kind, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // The process ended meanwhile.
    }
  }
  return snapshot;
}

/** CPU seconds per group between `a` and `b`; `named` puts given pids in groups of their own. */
export function cpuSpent(a: CpuSnapshot, b: CpuSnapshot, named: Record<string, number | undefined>): Record<string, number> {
  const byPid = new Map(Object.entries(named).filter(([, pid]) => pid !== undefined).map(([k, pid]) => [pid!, k]));
  const out: Record<string, number> = {};
  for (const [pid, now] of b) {
    const delta = (now.ticks - (a.get(pid)?.ticks ?? 0)) / TICKS_PER_SECOND;
    if (delta <= 0) continue;
    const k = now.kind;
    const group =
      byPid.get(pid) ??
      (k === 'container' ? 'function containers'
        : k.startsWith('postgres') ? 'postgres'
        : k.startsWith('redis (') ? k
        : k === 'beam.smp' || k.startsWith('erl') ? 'rabbitmq'
        : k.startsWith('nats') ? 'nats-server'
        : /^(dockerd|containerd|runc|docker)/.test(k) ? 'docker engine'
        : k === 'node' || k === 'tsc' || k === 'npm exec' ? 'other node processes (not this bench)'
        : 'other');
    out[group] = (out[group] ?? 0) + delta;
  }
  return out;
}

/** CPU seconds by process group over a window, and the window's wall seconds. */
export interface CpuWindow {
  cpu: Record<string, number>;
  seconds: number;
}

/** A window a run opens and closes itself (from its first publish to its last record, not its set-up). */
export interface CpuMeter {
  begin(): void;
  end(): void;
  /** The window measured, or null when it was never closed. */
  readonly window: CpuWindow | null;
}

export function cpuMeter(named: Record<string, number | undefined>): CpuMeter {
  let before: CpuSnapshot | null = null;
  let t0 = 0;
  let window: CpuWindow | null = null;
  return {
    begin() {
      before = cpuSnapshot();
      t0 = Date.now();
    },
    end() {
      if (before) window = { cpu: cpuSpent(before, cpuSnapshot(), named), seconds: (Date.now() - t0) / 1000 };
    },
    get window() {
      return window;
    },
  };
}
