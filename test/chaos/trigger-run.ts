/**
 * The trigger chaos run, shared by `npm run chaos -- --triggers` (run.ts)
 * and its CI cut (test/faults/chaos-triggers-short.test.ts): an isolated
 * stack (its own Redis, Postgres, gateways and workers, plus a second Redis
 * as the stream's broker), one function with two triggers — a Redis stream
 * and a RabbitMQ queue of the run's own — N messages published to each while
 * a worker is SIGKILLed, the platform's Redis restarts, the stream's Redis
 * and RabbitMQ restart and (optionally) the lease holder's gateway is
 * killed; then every message is counted against the records, the dead
 * letters and the brokers' acknowledgements (`trigger-report.ts`).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import { countBy } from '../bench/stats.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { ChaosStack, type Log } from './chaos-stack.ts';
import { EXECUTION_MARKER, countExecutions, type ExecutionCounter } from './executions.ts';
import { FaultInjector } from './faults.ts';
import { AMQP_URL, QueueUnderTest, StreamUnderTest, type BrokerLeft } from './trigger-brokers.ts';
import { runTriggerFaults, scheduleTriggerFaults, type TriggerFaultPlan } from './trigger-faults.ts';
import { formatTriggerSummary, recordedBodies, summarizeBroker, type BrokerInput, type TriggerChaosSummary, type TriggerRow } from './trigger-report.ts';
import { Publisher, amqpChannel, bodyOf, streamChannel } from './trigger-sender.ts';
import { TriggerApi, TriggerWatcher } from './trigger-watch.ts';

export type Broker = 'redis-stream' | 'amqp';

export interface TriggerChaosOptions extends TriggerFaultPlan {
  /** Messages published to each broker. */
  messages: number;
  /** Per broker. */
  ratePerS: number;
  batchSize: number;
  batchWindowMs: number;
  maxConcurrency: number;
  maxRetries: number;
  /** Chance (%) that the function reports a message failed in one invocation (`batchItemFailures`): retries. */
  failPercent: number;
  brokers?: Broker[];
  /** How long the platform's Redis stays down on each restart. */
  redisDownMs: number;
  workers?: number;
  concurrency?: number;
  settleTimeoutS: number;
  logsDir: string;
  resultFile?: string;
  log: Log;
  onTeardown?: (teardown: () => Promise<void>) => void;
}

const TRIGGER_OF: Record<Broker, string> = { 'redis-stream': 'stream', amqp: 'queue' };

/**
 * The function under test: sleeps 50–250 ms (so batches are in flight when faults hit), writes one line per run to its
 * container's real stderr (the execution counter), and returns the bodies it
 * saw with their ids and delivery counts. It reports a message failed when a
 * digest of (invocation id, message id) falls under `failPercent`: the same
 * invocation run again reports the same failures, another attempt draws anew.
 */
function functionSource(failPercent: number): string {
  return `const { writeSync } = require('node:fs');
const { createHash } = require('node:crypto');
exports.handler = async (event, context) => {
  const records = Array.isArray(event.Records) ? event.Records : [];
  writeSync(2, '${EXECUTION_MARKER} ' + context.invocationId + ' ' + records.length + '\\n');
  await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 200)));
  const fails = (r) => createHash('sha256').update(context.invocationId + '\\0' + r.messageId).digest().readUInt16BE(0) < ${Math.round((failPercent / 100) * 65536)};
  const failed = records.filter(fails);
  return {
    seen: records.map((r) => r.body),
    ids: records.map((r) => r.messageId),
    deliveries: records.map((r) => (r.redis ? r.redis.deliveries : r.attributes && r.attributes.redelivered === 'true' ? 2 : 1)),
    failed: failed.map((r) => r.body),
    batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })),
  };
};
`;
}

export async function runTriggerChaos(options: TriggerChaosOptions): Promise<TriggerChaosSummary> {
  const { log } = options;
  const brokers = options.brokers ?? ['redis-stream', 'amqp'];
  const runId = randomBytes(3).toString('hex');
  const t0 = Date.now();
  const stack = new ChaosStack({
    runId,
    logsDir: options.logsDir,
    log,
    streamRedis: brokers.includes('redis-stream'),
    outboundAllowHosts: '127.0.0.1',
    gateways: options.gatewayKills > 0 ? 2 : 1,
    ...(options.workers ? { workers: options.workers } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
  let stream: StreamUnderTest | null = null;
  let queue: QueueUnderTest | null = null;
  let torn: Promise<void> | null = null;
  const teardown = () =>
    (torn ??= (async () => {
      await stack.stop();
      stream?.close();
      await queue?.close();
    })());
  options.onTeardown?.(teardown);
  let executions: ExecutionCounter | undefined;
  let watcher: TriggerWatcher | undefined;
  try {
    await stack.start();
    executions = await countExecutions(stack.docker, stack.workerIds);
    const functionName = `chaos-t-${runId}`;
    await stack.deploy(functionName, functionSource(options.failPercent), { memoryMb: '128', timeoutMs: '10000' });
    const api = new TriggerApi(stack, functionName);
    const common = { batchSize: options.batchSize, batchWindowMs: options.batchWindowMs, maxConcurrency: options.maxConcurrency, maxRetries: options.maxRetries };
    if (brokers.includes('redis-stream')) {
      stream = new StreamUnderTest(stack.streamRedis!.url, `chaos-${runId}`);
      await stream.create();
      await api.put('stream', { type: 'redis-stream', url: stream.url, stream: stream.stream, start: 'earliest', deadLetter: stream.deadLetter, ...common });
    }
    if (brokers.includes('amqp')) {
      queue = new QueueUnderTest(AMQP_URL, `chaos-${runId}`);
      await queue.create();
      await api.put('queue', { type: 'amqp', url: AMQP_URL, queue: queue.queue, deadLetter: queue.deadLetter, ...common });
    }
    const triggers = brokers.map((b) => TRIGGER_OF[b]);
    for (const t of triggers) await waitFor(`trigger ${t} to run`, async () => (await api.status(t)).state === 'running', 60_000, 250);
    log(`deployed ${functionName} with triggers ${triggers.join(', ')}; publishing ${options.messages} messages to each at ${options.ratePerS}/s`);

    const startedAt = Date.now();
    const faults = new FaultInjector(stack, { workerKills: options.workerKills, redisRestarts: options.redisRestarts, postgresOutageS: 0, redisDownMs: options.redisDownMs }, startedAt, log);
    watcher = new TriggerWatcher(api, stack, triggers, (line) => faults.note(line));
    watcher.start();
    const publishers = new Map<Broker, Publisher>();
    if (stream) publishers.set('redis-stream', new Publisher('redis-stream', streamChannel(stream.url, stream.stream), options.messages, options.ratePerS));
    if (queue) publishers.set('amqp', new Publisher('amqp', amqpChannel(AMQP_URL, queue.queue), options.messages, options.ratePerS));
    const rowsOf = (trigger: string) => readRows(stack, functionName, trigger);
    const progress = setInterval(() => {
      const parts = [...publishers].map(([b, p]) => `${b} published ${p.stats.published.size}`);
      const seen = triggers.map((t) => `${t} ${watcher!.latest.get(t)?.messages ?? '?'} taken`);
      faults.progress(`progress: ${parts.join(', ')}; ${seen.join(', ')}`);
    }, 10_000);
    const windowMs = (options.messages / options.ratePerS) * 1000;
    let faultError: unknown = null;
    const faultRun = runTriggerFaults(
      { stack, base: faults, plan: options, startedAt, amqpPublisher: publishers.get('amqp') ?? null, api, watcher, triggers },
      scheduleTriggerFaults(options, windowMs),
    ).catch((err: unknown) => {
      if (!stack.stopping) {
        faultError = err;
        faults.note(`a fault could not be applied: ${(err as Error).message}`);
      }
      return { skipped: [], takeovers: [] };
    });
    await Promise.all([...publishers.values()].map((p) => p.run())).finally(() => clearInterval(progress));
    const publishedAt = Date.now();
    faults.note(`publishing done: ${[...publishers].map(([b, p]) => `${b} ${p.stats.published.size} of ${options.messages}`).join(', ')}`);
    const faultsDone = await faultRun;
    if (faultError) throw faultError;

    // Every published message recorded or dead-lettered (or the deadline).
    const deadLettersOf = async (b: Broker) => (b === 'redis-stream' ? stream!.deadLetters() : queue!.deadLetters()).catch(() => []);
    const settleUntil = Date.now() + options.settleTimeoutS * 1000;
    for (let lastLine = 0, lastMissing = -1, stillSince = Date.now(); ; ) {
      let missing = 0;
      for (const b of brokers) {
        const done = recordedBodies(await rowsOf(TRIGGER_OF[b]).catch(() => []));
        for (const d of await deadLettersOf(b)) done.add(d.body);
        missing += [...publishers.get(b)!.stats.published].filter((seq) => !done.has(bodyOf(seq))).length;
      }
      if (missing === 0) {
        faults.note('every published message is recorded or dead-lettered');
        break;
      }
      if (Date.now() > settleUntil) {
        faults.note(`deadline: ${missing} published messages are neither recorded nor dead-lettered`);
        break;
      }
      // Nothing recorded for a long while and no invocation queued or running: what is missing is not coming.
      const depth = await faults.queueDepth();
      if (missing !== lastMissing || depth.waiting + depth.active + depth.delayed !== 0) stillSince = Date.now();
      lastMissing = missing;
      if (Date.now() - stillSince > 45_000) {
        faults.note(`${missing} published messages are neither recorded nor dead-lettered, with no progress and no invocation queued for 45 s: not coming`);
        break;
      }
      if (Date.now() - lastLine > 10_000) {
        faults.progress(`settling: ${missing} messages not recorded yet`);
        lastLine = Date.now();
      }
      await sleep(2000);
    }
    // Acknowledgements trail the records by a moment: wait for the brokers to show none pending.
    const leftOf = (b: Broker): Promise<BrokerLeft> => (b === 'redis-stream' ? stream!.left() : queue!.left());
    const leftRunning = new Map<Broker, BrokerLeft>();
    for (const b of brokers) {
      const until = Date.now() + 30_000;
      let left = await leftOf(b);
      while (!(left.unacknowledged === 0 && left.waiting === 0) && Date.now() < until) {
        await sleep(2000);
        left = await leftOf(b);
      }
      leftRunning.set(b, left);
    }
    const settledAt = Date.now();
    for (const t of triggers) await api.setEnabled(t, false);
    for (const t of triggers) await waitFor(`trigger ${t} to be idle`, async () => (await api.status(t)).state === 'idle', 30_000, 250).catch(() => {});
    faults.note(`triggers paused (${triggers.join(', ')})`);
    const leftPaused = new Map<Broker, BrokerLeft>();
    for (const b of brokers) {
      if (b === 'redis-stream') leftPaused.set(b, await stream!.left());
      else {
        // The consumer is gone, so anything it held unacknowledged is back among the ready ones.
        const ready = await queue!.ready().catch(() => null);
        const listed = await queue!.left();
        leftPaused.set(b, { waiting: ready, unacknowledged: listed.unacknowledged, note: 'AMQP checkQueue (ready) and rabbitmqctl (unacknowledged), trigger paused' });
      }
    }
    const onBroker = new Map<Broker, Set<string>>();
    if (stream) onBroker.set('redis-stream', new Set((await stream.pendingBodies().catch(() => new Map<string, string>())).values()));
    if (queue) onBroker.set('amqp', new Set(await queue.readyBodies().catch(() => [])));
    const claims = await readClaims(stack, functionName, stream ? await stream.bodiesById().catch(() => new Map<string, string>()) : new Map<string, string>());
    await waitForJobs(faults, Date.now() + 60_000);

    const inputs: BrokerInput[] = [];
    for (const b of brokers) {
      inputs.push({
        broker: b,
        trigger: TRIGGER_OF[b],
        publish: publishers.get(b)!.stats,
        bodyOf,
        rows: await rowsOf(TRIGGER_OF[b]),
        deadLetters: await deadLettersOf(b),
        leftRunning: leftRunning.get(b)!,
        leftPaused: leftPaused.get(b)!,
        executions: executions.counts,
        onBrokerAtEnd: onBroker.get(b) ?? new Set(),
        claims: claims.get(TRIGGER_OF[b]) ?? new Map(),
      });
    }
    await sleep(1000); // the last execution lines on their way through `docker logs`
    executions.stop();
    await watcher.stop();
    await teardown();
    const summary: TriggerChaosSummary = {
      ok: false,
      runId,
      startedAt: new Date(startedAt).toISOString(),
      config: {
        messages: options.messages, ratePerS: options.ratePerS, batchSize: options.batchSize, batchWindowMs: options.batchWindowMs,
        maxConcurrency: options.maxConcurrency, maxRetries: options.maxRetries, failPercent: options.failPercent,
        workerKills: options.workerKills, redisRestarts: options.redisRestarts, streamRestarts: options.streamRestarts,
        rabbitRestarts: options.rabbitRestarts, gatewayKills: options.gatewayKills, brokerDownMs: options.brokerDownMs,
        workers: stack.workerIds.length, gateways: stack.gatewayNames.length,
      },
      seconds: { publishing: secs(publishedAt - startedAt), settling: secs(settledAt - publishedAt), total: secs(Date.now() - t0) },
      brokers: inputs.map((input) => summarizeBroker(input, startedAt, faults.timeline)),
      timeline: faults.timeline,
      skippedFaults: faultsDone.skipped,
      takeovers: faultsDone.takeovers,
      unexpectedExits: stack.unexpectedExits,
      logs: scanLogs(options.logsDir),
    };
    summary.ok = summary.brokers.every((b) => b.ok) && summary.takeovers.every((t) => t.seconds !== null);
    log(formatTriggerSummary(summary));
    if (options.resultFile) {
      mkdirSync(dirname(options.resultFile), { recursive: true });
      writeFileSync(options.resultFile, `${JSON.stringify(summary, null, 2)}\n`);
      log(`summary written to ${options.resultFile}; process logs in ${options.logsDir}`);
    }
    return summary;
  } finally {
    executions?.stop();
    await watcher?.stop();
    await teardown();
  }
}

const secs = (ms: number) => Math.round(ms / 100) / 10;

/** Every record of one trigger of the run's function, straight from the table. */
async function readRows(stack: ChaosStack, functionName: string, trigger: string): Promise<TriggerRow[]> {
  const result = await stack.records.query<TriggerRow>(
    `select id, status, error_code, result, result_truncated, queued_at, finished_at, worker_id
       from invocations where function_name = $1 and trigger = $2`,
    [functionName, trigger],
  );
  return result.rows;
}

/**
 * The per-message claims left in the platform's Redis (`<prefix>:trigger-claim:<trigger id>:<message id>`
 * → invocation id), by trigger name and message body (stream entries are claimed by entry id, AMQP
 * messages by their messageId, which is the body here).
 */
async function readClaims(stack: ChaosStack, functionName: string, streamBodies: ReadonlyMap<string, string>): Promise<Map<string, Map<string, string>>> {
  const out = new Map<string, Map<string, string>>();
  const { rows } = await stack.records.query<{ id: string; name: string }>(
    'select t.id, t.name from triggers t join functions f on f.id = t.function_id where f.name = $1',
    [functionName],
  );
  const redis = new Redis({ port: stack.redis.port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    for (const { id, name } of rows) {
      const prefix = `${stack.prefix}:trigger-claim:${id}:`;
      const keys = await redis.keys(`${prefix}*`);
      const values = keys.length ? await redis.mget(...keys) : [];
      const byBody = new Map<string, string>();
      keys.forEach((key, i) => {
        const messageId = key.slice(prefix.length);
        if (values[i]) byBody.set(streamBodies.get(messageId) ?? messageId, values[i]!);
      });
      out.set(name, byBody);
    }
  } catch {
    // no claims to show: the report says none
  } finally {
    redis.disconnect();
  }
  return out;
}

/** Until no invocation job waits, runs or is delayed (re-runs of recorded batches), or `until`. */
async function waitForJobs(faults: FaultInjector, until: number): Promise<void> {
  for (;;) {
    const depth = await faults.queueDepth();
    if (depth.waiting + depth.active + depth.delayed === 0 || Date.now() > until) {
      faults.note(`invocation queues at the end: waiting ${depth.waiting}, active ${depth.active}, delayed ${depth.delayed}, failed ${depth.failed}`);
      return;
    }
    await sleep(1000);
  }
}

/** Warnings and errors in each gateway's and worker's log, counted by message. */
function scanLogs(dir: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  if (!existsSync(dir)) return out;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.log') && !f.includes('redis') && !f.startsWith('postgres'))) {
    const messages: string[] = [];
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const entry = JSON.parse(line) as { level?: string; message?: string; err?: unknown };
        const err = typeof entry.err === 'string' ? entry.err : (entry.err as { message?: string } | undefined)?.message;
        if (entry.level === 'warn' || entry.level === 'error') messages.push(`${entry.level}: ${entry.message}${err ? ` (${err.slice(0, 80)})` : ''}`);
      } catch {
        // not one of ours
      }
    }
    const counts = countBy(messages);
    if (Object.keys(counts).length > 0) out[file.replace(/\.log$/, '')] = counts;
  }
  return out;
}
