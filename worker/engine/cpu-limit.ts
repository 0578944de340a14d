/**
 * How much CPU a sandbox may use: a hard ceiling proportional to its memory
 * class, as Lambda gives ~1 vCPU per 1,769 MB. Shares alone only weigh
 * containers against each other when the host is saturated; a ceiling is
 * what keeps one tenant's busy loop from taking a neighbour's core when it
 * is not. The floor keeps small functions starting in reasonable time (a
 * 128 MB class would otherwise get 0.07 of a core); the ceiling is the host.
 */

/** Lambda's ratio of memory to one vCPU. */
export const MB_PER_CPU = 1769;

/**
 * Default floor, in cores. Measured on this 2-core host (nodejs20, 128 MB,
 * create → hello → init → first invoke of a trivial handler, p50 of 8,
 * `test/bench/measure-sandbox-cpu.ts`): 0.25 cpu 417 ms, 0.5 cpu 258 ms,
 * 1 cpu 223 ms, unlimited 230 ms. Half a core costs a small function ~12%
 * of its cold start and holds a runaway one to a quarter of this host.
 */
export const DEFAULT_CPU_FLOOR = 0.5;

export interface CpuLimitOptions {
  /** The least any sandbox gets, in cores. */
  floorCpus: number;
  /** The host's cores: no sandbox gets more. */
  hostCpus: number;
}

/** Cores a sandbox of `memoryMb` may use, to a hundredth of a core. */
export function cpuCeiling(memoryMb: number, options: CpuLimitOptions): number {
  const cpus = Math.min(options.hostCpus, Math.max(options.floorCpus, memoryMb / MB_PER_CPU));
  return Math.round(cpus * 100) / 100;
}

/** The same ceiling as Docker's `HostConfig.NanoCpus`. */
export function nanoCpus(cpus: number): number {
  return Math.round(cpus * 1e9);
}
