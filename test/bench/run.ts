/**
 * `npm run bench [-- --quick] [-- --only cold,prewarm,warm,alias,throughput,density]`
 *
 * Brings up an isolated platform (see stack.ts), runs the selected
 * scenarios with their baselines measured side by side in the same run,
 * prints a table per scenario and a summary of the targets, and writes
 * `test/bench/results/latest.json` plus a timestamped copy. A scenario that
 * fails is reported and the others still run; everything started is
 * stopped and every bench container removed at the end, whatever happened.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runAlias } from './scenario-alias.ts';
import { runCold } from './scenario-cold.ts';
import { runDensity } from './scenario-density.ts';
import { runDeps } from './scenario-deps.ts';
import { runEvent } from './scenario-event.ts';
import { runMetrics } from './scenario-metrics.ts';
import { runPrewarm } from './scenario-prewarm.ts';
import { runScaling } from './scenario-scaling.ts';
import { runThroughput } from './scenario-throughput.ts';
import { runWarm } from './scenario-warm.ts';
import { defaultStateDir, setUp } from '../../infra/setup.ts';
import { createAndMigrate, dropDatabase } from '../../migrations/database.ts';
import { holdBenchLock } from './bench-lock.ts';
import { BENCH_DATABASE_URL, BenchStack, REDIS_URL, ROOT, type BenchContext, type Log } from './stack.ts';
import { emptyResult, renderScenario, renderSummary, writeResults, type ScenarioResult } from './stats.ts';

const SCENARIOS = {
  cold: runCold,
  prewarm: runPrewarm,
  warm: runWarm,
  alias: runAlias,
  throughput: runThroughput,
  density: runDensity,
  scaling: runScaling,
  metrics: runMetrics,
  event: runEvent,
  deps: runDeps,
} as const satisfies Record<string, (ctx: BenchContext, result: ScenarioResult) => Promise<void>>;
type ScenarioName = keyof typeof SCENARIOS;
const NAMES = Object.keys(SCENARIOS) as ScenarioName[];

const USAGE = `usage: npm run bench -- [--quick] [--only ${NAMES.join(',')}]`;

function benchArgs(argv: string[]): { quick: boolean; only: ScenarioName[] } {
  const { values } = parseArgs({
    args: argv,
    options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.only === undefined) return { quick: values.quick, only: NAMES };
  const names = values.only.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(NAMES as string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) throw new Error(`--only takes a comma list of ${NAMES.join(', ')}; got "${values.only}"`);
  return { quick: values.quick, only: NAMES.filter((n) => names.includes(n)) };
}

const startedAt = new Date();
const t0 = Date.now();
const log = (line: string) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
const resultsDir = join(fileURLToPath(new URL('.', import.meta.url)), 'results');

const { quick, only } = benchArgs(process.argv.slice(2));
log(`scenarios: ${only.join(', ')}${quick ? ' (quick)' : ''}`);
await holdBenchLock(log);
await prepareInfrastructure(log);
const stack = await BenchStack.start(log, join(resultsDir, 'logs'));

let stopping: Promise<void> | null = null;
const stopStack = () => (stopping ??= stack.stop().catch((err: unknown) => void log(`clean-up failed: ${String(err)}`)));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the stack and removing bench containers`);
    void stopStack().finally(() => process.exit(130));
  });
}

const ctx: BenchContext = { stack, quick, runId: randomBytes(3).toString('hex'), log, shared: {} };
const results: ScenarioResult[] = [];
try {
  for (const name of only) {
    const result = emptyResult(name);
    const started = Date.now();
    log(`── ${name} ──`);
    try {
      await SCENARIOS[name](ctx, result);
    } catch (err) {
      result.ok = false;
      result.error = err instanceof Error ? err.message : String(err);
      log(`${name} failed: ${result.error}`);
    }
    result.seconds = (Date.now() - started) / 1000;
    if (!result.ok) {
      result.targets.push({ scenario: name, name: 'scenario ran to the end', goal: 'yes', measured: null, unit: '', pass: false, note: result.error });
    }
    results.push(result);
    console.log(`\n${renderScenario(result)}`);
  }
} finally {
  await stopStack();
}

const targets = results.flatMap((r) => r.targets);
console.log(`\n${renderSummary(targets)}`);
const seconds = (Date.now() - t0) / 1000;
const files = writeResults(
  resultsDir,
  {
    startedAt: startedAt.toISOString(),
    seconds,
    quick,
    scenarios: only,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: totalmem() / 2 ** 30, node: process.version },
    commit: gitCommit(),
    targets,
    results: Object.fromEntries(results.map((r) => [r.name, r])),
  },
  startedAt,
);
const failed = results.filter((r) => !r.ok).map((r) => r.name);
console.log(`\nfinished in ${seconds.toFixed(0)} s; results: ${files.join(', ')}${failed.length ? `; FAILED scenarios: ${failed.join(', ')}` : ''}`);
process.exit(failed.length > 0 ? 1 : 0);

/** Docker, Postgres, Redis and the runtime images (installing/starting what is missing), then a fresh bench database. */
async function prepareInfrastructure(log: Log): Promise<void> {
  await setUp({ databaseUrl: BENCH_DATABASE_URL, redisUrl: REDIS_URL, stateDir: defaultStateDir(), migrate: false, log: (l) => log(`setup: ${l}`) });
  await dropDatabase(BENCH_DATABASE_URL);
  await createAndMigrate(BENCH_DATABASE_URL);
  log('setup: bench database created and migrated');
}

function gitCommit(): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return null;
  }
}
