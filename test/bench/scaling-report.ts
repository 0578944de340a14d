/**
 * The scaling scenario's tables, notes and targets: calls/s with one worker
 * host and two (and per worker, from the records' worker id), CPU per call
 * of every process group, and the projection to N hosts — calls/s per
 * worker host × N while the shared parts keep up, and from the CPU numbers
 * how far they would.
 */
import { fmt, type ScenarioResult } from './stats.ts';

/** One measured load. */
export interface ScalingRun {
  label: string;
  /** All answers per second (autocannon's total over the measured seconds). */
  rps: number;
  ok: number;
  non2xx: number;
  errors: number;
  p50: number;
  p99: number;
  seconds: number;
  /** CPU seconds by process group over the measured window. */
  cpu: Record<string, number>;
  cpuSeconds: number;
  /** Calls recorded by each worker id in the measured window. */
  perWorker: Record<string, number>;
  /** The same calls by worker id and start kind (warm, cold, …). */
  startKinds: Record<string, Record<string, number>>;
}

export interface ScalingOutcome {
  mode: 'netns' | 'same-engine';
  fallbackReason: string | null;
  one: ScalingRun;
  two: ScalingRun;
  connections: number;
  functions: number;
}

/** Processes of one thread of JavaScript (or one Redis thread): they top out at one core whatever the host has. */
const ONE_CORE = /^(gateway|worker |redis)/;
/** process-cpu.ts's group for node processes that are not this bench's (other work on the machine). */
const FOREIGN = 'other node processes (not this bench)';
const SHARED = /^(gateway|redis \(lab|redis \(platform|postgres)/;

/** CPU ms per completed call. */
const msPerCall = (run: ScalingRun, group: string) => (1000 * (run.cpu[group] ?? 0)) / Math.max(1, run.ok);
/** Share of one core, in % (the machine has 200). */
const share = (run: ScalingRun, group: string) => (100 * (run.cpu[group] ?? 0)) / run.cpuSeconds;

export function reportScaling(result: ScenarioResult, o: ScalingOutcome): void {
  const { one, two } = o;
  const where = o.mode === 'netns' ? 'each worker in its own netns host with its own Docker engine' : `SAME ENGINE fallback (${o.fallbackReason})`;
  const ratio = two.rps / one.rps;
  const workerRows = (run: ScalingRun, tag: string) =>
    Object.entries(run.perWorker).map(([id, n]) => [`  ${tag}: worker ${id.split('-').pop()}`, fmt(n / run.seconds, 0), '', '', '', '']);
  result.tables.push({
    title: `Throughput over ${o.functions} functions, ${o.connections} clients: one worker host vs two (${where})`,
    header: ['', 'calls/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
    rows: [
      [one.label, fmt(one.rps, 0), fmt(one.p50), fmt(one.p99), one.non2xx, one.errors],
      ...workerRows(one, 'one'),
      [two.label, fmt(two.rps, 0), fmt(two.p50), fmt(two.p99), two.non2xx, two.errors],
      ...workerRows(two, 'two'),
      ['two / one', fmt(ratio, 3), '', '', '', ''],
    ],
  });

  const groups = [...new Set([...Object.keys(one.cpu), ...Object.keys(two.cpu)])]
    .filter((g) => (one.cpu[g] ?? 0) + (two.cpu[g] ?? 0) >= 0.05)
    .sort((x, y) => (two.cpu[y] ?? 0) - (two.cpu[x] ?? 0));
  const total = (run: ScalingRun) => Object.values(run.cpu).reduce((s, v) => s + v, 0);
  result.tables.push({
    title: 'Where the CPU goes (2 cores = 200%): share of the machine and CPU ms per completed call',
    header: ['process', '1 host %', '1 host ms/call', '2 hosts %', '2 hosts ms/call'],
    rows: [
      ...groups.map((g) => [g, fmt(share(one, g), 0), fmt(msPerCall(one, g), 3), fmt(share(two, g), 0), fmt(msPerCall(two, g), 3)]),
      ['total', fmt((100 * total(one)) / one.cpuSeconds, 0), fmt((1000 * total(one)) / Math.max(1, one.ok), 3), fmt((100 * total(two)) / two.cpuSeconds, 0), fmt((1000 * total(two)) / Math.max(1, two.ok), 3)],
    ],
  });

  // Per worker host: what each host did in the two-host run (its recorded calls), and what one host costs per call.
  const hostIds = Object.keys(two.perWorker);
  const perHost = hostIds.length > 0 ? hostIds.reduce((s, id) => s + two.perWorker[id]!, 0) / hostIds.length / two.seconds : two.rps / 2;
  const hostMs = (run: ScalingRun) => groups.filter((g) => /^(worker |host )/.test(g)).reduce((s, g) => s + msPerCall(run, g), 0);
  // A shared part's ceiling: a one-thread process fills one core; Postgres may use the machine's two.
  const ceilings = groups
    .filter((g) => SHARED.test(g) && msPerCall(two, g) > 0)
    .map((g) => ({ group: g, callsPerSecond: ((ONE_CORE.test(g) ? 1 : 2) * 1000) / msPerCall(two, g) }))
    .sort((a, b) => a.callsPerSecond - b.callsPerSecond);
  const first = ceilings[0];
  result.tables.push({
    title: `Projection: ${fmt(perHost, 0)} calls/s per worker host (two-host run) × N hosts, if gateway, Redis and Postgres keep up`,
    header: ['worker hosts', 'calls/s', 'within the first shared ceiling'],
    rows: [1, 2, 4, 8, 16].map((n) => [n, fmt(perHost * n, 0), first ? (perHost * n <= first.callsPerSecond ? 'yes' : `no: ${first.group} at ${fmt(first.callsPerSecond, 0)}`) : '—']),
  });

  const busiest = groups
    .filter((g) => ONE_CORE.test(g))
    .map((g) => ({ group: g, pct: share(two, g) }))
    .sort((a, b) => b.pct - a.pct)[0];
  const machinePct = (100 * total(two)) / two.cpuSeconds;
  const biggest = groups[0];
  const workerMs = groups.filter((g) => g.startsWith('worker ')).reduce((s, g) => s + msPerCall(two, g), 0);
  result.notes.push(
    o.mode === 'netns'
      ? 'ran on netns hosts: a gateway host and one then two worker hosts, each worker host a network namespace with its own dockerd, started by infra/multi-host/start-worker.sh; Redis (the guide\'s redis.conf) and Postgres (a forwarder in the bench process) reached only at the lab bridge address'
      : `FALLBACK, not separate hosts: ${o.fallbackReason}; both workers ran side by side on this machine's own Docker engine`,
    `start kinds of the measured calls: ${[one, two].map((run) => `${run.label}: ${Object.entries(run.startKinds).map(([id, kinds]) => `${id.split('-').pop()} ${JSON.stringify(kinds)}`).join(', ')}`).join('; ')}`,
    `both "hosts" share this machine's 2 cores (and its Postgres): the second host adds an engine, a namespace and a worker process, not CPU, so two/one says what splitting costs or gains on the same cores, not what a second machine adds; processes that are not this bench's took ${fmt(share(one, FOREIGN), 0)}% of a core in the one-host run and ${fmt(share(two, FOREIGN), 0)}% in the two-host run, and that moves the ratio too`,
    `limit in this run: ${
      busiest && busiest.pct >= 90
        ? `${busiest.group}, at ${fmt(busiest.pct, 0)}% of the one core it can use`
        : machinePct >= 180
          ? `the machine's 2 cores (${fmt(machinePct, 0)}% busy), not one process: the busiest one-thread process, ${busiest?.group ?? '—'}, is at ${fmt(busiest?.pct ?? NaN, 0)}% of a core`
          : `neither one process (the busiest one-thread process, ${busiest?.group ?? '—'}, is at ${fmt(busiest?.pct ?? NaN, 0)}% of a core) nor the machine's 2 cores (${fmt(machinePct, 0)}% busy) is full: the ${o.connections} clients wait on the round trips between the processes (or on CPU steal, if this machine is a VM), so per-host calls/s here are a floor`
    }; the largest consumer is ${biggest ?? '—'} (${fmt(biggest ? share(two, biggest) : NaN, 0)}%, ${fmt(biggest ? msPerCall(two, biggest) : NaN, 3)} ms/call)`,
    `a worker host costs ${fmt(hostMs(two), 3)} ms CPU per call (worker, its containers, its engine): on 2 cores of its own one host would do about ${fmt(2000 / Math.max(0.001, hostMs(two)), 0)} calls/s, unless its worker process (one thread, ${fmt(workerMs, 3)} ms/call: ${fmt(1000 / Math.max(0.001, workerMs), 0)} calls/s at one core) is the limit first`,
    first
      ? `shared ceilings from CPU per call (one core for a one-thread process, two for Postgres): ${ceilings.map((c) => `${c.group} ${fmt(c.callsPerSecond, 0)} calls/s`).join(', ')}; with one gateway process, the N-host projection holds up to about ${fmt(first.callsPerSecond / perHost, 1)} hosts, then ${first.group} is the limit`
      : 'no CPU of the shared parts was measured',
  );
  result.targets.push({ scenario: 'scaling', name: `two-host / one-host calls/s (${o.mode})`, goal: 'report', measured: ratio, unit: '×', pass: true });
  result.targets.push({ scenario: 'scaling', name: 'projected calls/s per worker host', goal: 'report', measured: perHost, unit: 'calls/s', pass: true });
  const bad = one.non2xx + one.errors + two.non2xx + two.errors;
  result.targets.push({ scenario: 'scaling', name: 'non-2xx + errors, both runs', goal: '= 0', measured: bad, unit: '', pass: bad === 0 });
  result.data = { mode: o.mode, fallbackReason: o.fallbackReason, one, two, ratio, perHost, ceilings, projection: [1, 2, 4, 8, 16].map((n) => ({ hosts: n, callsPerSecond: perHost * n })) };
}
