/**
 * `npm run chaos [-- --invocations N --worker-kills K --redis-restarts R --postgres-outage-s S]`
 *
 * Sends N async invocations to an isolated stack while workers are killed,
 * Redis restarts and Postgres goes away, then checks from the records that
 * nothing accepted was lost and nothing was recorded twice. Prints a
 * summary, writes it to test/chaos/results/latest.json, exits 1 when
 * anything was lost or duplicated. See test/chaos/README.md.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runChaos } from './chaos-run.ts';
import { ROOT } from './chaos-stack.ts';

const USAGE = `usage: npm run chaos [-- options]
  --invocations N        async calls to send (10000)
  --rate N               calls per second (80)
  --worker-kills K       SIGKILLs of a worker while calls run (2)
  --redis-restarts R     Redis restarts on its append-only file (1)
  --redis-down-s S       how long Redis stays down each time (3)
  --postgres-outage-s S  one Postgres outage of S seconds; 0 for none (30)
  --concurrency N        calls each of the two workers runs at once (16)
  --settle-timeout-s S   how long to wait for the last records (300)
  --hostile-rate N       calls per second to a hostile tenant's function beside it (0: none)`;

const { values } = parseArgs({
  options: {
    invocations: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '80' },
    'worker-kills': { type: 'string', default: '2' },
    'redis-restarts': { type: 'string', default: '1' },
    'redis-down-s': { type: 'string', default: '3' },
    'postgres-outage-s': { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '16' },
    'settle-timeout-s': { type: 'string', default: '300' },
    'hostile-rate': { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const number = (name: keyof typeof values, min: number): number => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < min) {
    console.error(`--${name} must be a number ≥ ${min}\n${USAGE}`);
    process.exit(2);
  }
  return n;
};

const log = (line: string) => console.log(line);
let teardown: (() => Promise<void>) | undefined;
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    log(`chaos: ${signal}: tearing the stack down`);
    void (teardown?.() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

const resultsDir = join(ROOT, 'test', 'chaos', 'results');
try {
  const summary = await runChaos({
    invocations: number('invocations', 1),
    ratePerS: number('rate', 1),
    workerKills: number('worker-kills', 0),
    redisRestarts: number('redis-restarts', 0),
    redisDownMs: number('redis-down-s', 0) * 1000,
    postgresOutageS: number('postgres-outage-s', 0),
    concurrency: number('concurrency', 1),
    settleTimeoutS: number('settle-timeout-s', 1),
    hostileRatePerS: number('hostile-rate', 0),
    logsDir: join(resultsDir, 'logs'),
    resultFile: join(resultsDir, 'latest.json'),
    log,
    onTeardown: (fn) => {
      teardown = fn;
    },
  });
  process.exit(summary.ok ? 0 : 1);
} catch (err) {
  if (!interrupted) {
    console.error('chaos: the run failed:', err);
    process.exit(2);
  }
}
