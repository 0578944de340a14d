/**
 * `npm run chaos [-- --invocations N --worker-kills K --redis-restarts R --postgres-outage-s S]`
 *
 * Sends N async invocations to an isolated stack while workers are killed,
 * Redis restarts and Postgres goes away, then checks from the records that
 * nothing accepted was lost and nothing was recorded twice. Prints a
 * summary, writes it to test/chaos/results/latest.json, exits 1 when
 * anything was lost or duplicated. See test/chaos/README.md.
 *
 * `npm run chaos -- --triggers [--messages N ...]`: the trigger run instead
 * (trigger-run.ts): messages on a Redis stream and a RabbitMQ queue through
 * the same faults plus broker restarts, counted against records and acks.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runChaos } from './chaos-run.ts';
import { ROOT } from './chaos-stack.ts';
import { runTriggerChaos } from './trigger-run.ts';

const USAGE = `usage: npm run chaos [-- options]
  --invocations N        async calls to send (10000)
  --rate N               calls per second (80)
  --worker-kills K       SIGKILLs of a worker while calls run (2)
  --redis-restarts R     Redis restarts on its append-only file (1)
  --redis-down-s S       how long Redis stays down each time (3)
  --postgres-outage-s S  one Postgres outage of S seconds; 0 for none (30)
  --concurrency N        calls each of the two workers runs at once (16)
  --settle-timeout-s S   how long to wait for the last records (300)
  --hostile-rate N       calls per second to a hostile tenant's function beside it (0: none)

  --triggers             the trigger run instead: messages on a Redis stream and a RabbitMQ queue
                         (uses --worker-kills, --redis-restarts, --redis-down-s, --concurrency,
                         --settle-timeout-s; not --invocations, --rate, --postgres-outage-s)
  --messages N           messages published to each broker (2000)
  --message-rate N       messages per second to each broker (40)
  --batch-size N         the triggers' batchSize (10)
  --batch-window-ms N    the triggers' batchWindowMs (200)
  --max-concurrency N    the triggers' maxConcurrency (2)
  --max-retries N        the triggers' maxRetries (4)
  --fail-percent N       chance a message is reported failed in one invocation (3)
  --stream-restarts N    restarts of the stream's own Redis (1)
  --rabbit-restarts N    restarts of RabbitMQ (rabbitmqctl stop_app/start_app) (1)
  --gateway-kills N      SIGKILLs of the gateway holding a trigger, a second one running (1)
  --broker-down-s S      how long the stream's Redis and RabbitMQ stay down (3)
  --only B               one broker only: redis-stream or amqp`;

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
    triggers: { type: 'boolean' },
    messages: { type: 'string', default: '2000' },
    'message-rate': { type: 'string', default: '40' },
    'batch-size': { type: 'string', default: '10' },
    'batch-window-ms': { type: 'string', default: '200' },
    'max-concurrency': { type: 'string', default: '2' },
    'max-retries': { type: 'string', default: '4' },
    'fail-percent': { type: 'string', default: '3' },
    'stream-restarts': { type: 'string', default: '1' },
    'rabbit-restarts': { type: 'string', default: '1' },
    'gateway-kills': { type: 'string', default: '1' },
    'broker-down-s': { type: 'string', default: '3' },
    only: { type: 'string' },
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
if (values.triggers) {
  if (values.only !== undefined && values.only !== 'redis-stream' && values.only !== 'amqp') {
    console.error(`--only must be redis-stream or amqp\n${USAGE}`);
    process.exit(2);
  }
  try {
    const summary = await runTriggerChaos({
      messages: number('messages', 1),
      ratePerS: number('message-rate', 1),
      batchSize: number('batch-size', 1),
      batchWindowMs: number('batch-window-ms', 0),
      maxConcurrency: number('max-concurrency', 1),
      maxRetries: number('max-retries', 0),
      failPercent: number('fail-percent', 0),
      workerKills: number('worker-kills', 0),
      redisRestarts: number('redis-restarts', 0),
      redisDownMs: number('redis-down-s', 0) * 1000,
      streamRestarts: number('stream-restarts', 0),
      rabbitRestarts: number('rabbit-restarts', 0),
      gatewayKills: number('gateway-kills', 0),
      brokerDownMs: number('broker-down-s', 0) * 1000,
      concurrency: number('concurrency', 1),
      settleTimeoutS: number('settle-timeout-s', 1),
      ...(values.only ? { brokers: [values.only as 'redis-stream' | 'amqp'] } : {}),
      logsDir: join(resultsDir, 'trigger-logs'),
      resultFile: join(resultsDir, 'triggers-latest.json'),
      log,
      onTeardown: (fn) => {
        teardown = fn;
      },
    });
    process.exit(summary.ok ? 0 : 1);
  } catch (err) {
    if (!interrupted) {
      console.error('chaos: the trigger run failed:', err);
      process.exit(2);
    }
    // Interrupted: the signal handler exits once the stack is down; nothing else may start.
    await new Promise<never>(() => {});
  }
}
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
