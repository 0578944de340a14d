/**
 * One chaos run, shared by `npm run chaos` (run.ts) and the CI test
 * (test/faults/chaos-short.test.ts): bring up an isolated stack, deploy a
 * small function, send N async calls at a steady rate while faults hit,
 * wait until every accepted call has its record (or a deadline), then count
 * from Postgres what was lost and what was duplicated.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { sleep } from '../helpers/wait.ts';
import { ChaosStack, type Log } from './chaos-stack.ts';
import { EXECUTION_MARKER, countExecutions, type ExecutionCounter } from './executions.ts';
import { FaultInjector, scheduleFaults, type FaultPlan, type QueueDepth } from './faults.ts';
import { formatSummary, summarize, type ChaosSummary, type RecordRow } from './report.ts';
import { Sender } from './sender.ts';

export interface ChaosOptions extends FaultPlan {
  invocations: number;
  ratePerS: number;
  workers?: number;
  concurrency?: number;
  /** How long to wait for the last records once sending is done. */
  settleTimeoutS: number;
  logsDir: string;
  /** Where the summary JSON goes, if anywhere. */
  resultFile?: string;
  log: Log;
  /** Called with the stack's teardown as soon as there is one (for Ctrl-C). */
  onTeardown?: (teardown: () => Promise<void>) => void;
  /**
   * Async calls per second to a hostile tenant's function beside the clean
   * one, in the same namespace and on the same workers: it prints NUL bytes,
   * throws errors holding them, and forges agent frames. 0 or absent: none.
   */
  hostileRatePerS?: number;
}

/**
 * The hostile neighbour: by `seq`, it prints NUL and a lone surrogate, throws
 * an error holding NUL, writes a forged result with over-cap logs and an
 * absurd duration, answers for another invocation id, or writes garbage.
 */
const HOSTILE_SOURCE = `const net = require('node:net');
const socket = () => process._getActiveHandles().find((h) => h instanceof net.Socket && !h._isStdio && h.writable);
const frame = (o) => { const b = Buffer.from(JSON.stringify(o)); const h = Buffer.alloc(4); h.writeUInt32BE(b.length); return Buffer.concat([h, b]); };
exports.handler = async (event, context) => {
  const id = context.invocationId;
  switch (event.seq % 5) {
    case 0: console.log('nul \u0000 and \ud800'); return { nul: '\u0000' };
    case 1: throw new Error('nul \u0000 in an error');
    case 2: socket().write(frame({ type: 'invokeResult', id, ok: true, result: 1, durationMs: 5e9, logs: 'x'.repeat(2e6), logsTruncated: false })); return 2;
    case 3: socket().write(frame({ type: 'invokeResult', id: 'not-' + id, ok: true, result: 3, logs: '', logsTruncated: false })); await new Promise((r) => setTimeout(r, 500)); return 3;
    default: socket().write(Buffer.from([0, 0, 0, 3, 123, 123, 123])); await new Promise((r) => setTimeout(r, 500)); return 4;
  }
};
`;

/**
 * The function under test: sleeps 20–200 ms so calls are in flight when
 * faults hit, returns its event's seq, and writes one line per run to its
 * container's real stderr (fd 2 is not captured by the agent) for the
 * execution counter.
 */
const FUNCTION_SOURCE = `const { writeSync } = require('node:fs');
exports.handler = async (event, context) => {
  writeSync(2, '${EXECUTION_MARKER} ' + context.invocationId + ' ' + event.seq + '\\n');
  console.log('seq', event.seq);
  await new Promise((r) => setTimeout(r, 20 + Math.floor(Math.random() * 180)));
  return { seq: event.seq };
};
`;

export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const { log } = options;
  const runId = randomBytes(3).toString('hex');
  const t0 = Date.now();
  const stack = new ChaosStack({
    runId,
    logsDir: options.logsDir,
    log,
    ...(options.workers ? { workers: options.workers } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
  let torn: Promise<void> | null = null;
  const teardown = () => (torn ??= stack.stop());
  options.onTeardown?.(teardown);
  let executions: ExecutionCounter | undefined;
  try {
    await stack.start();
    executions = await countExecutions(stack.docker, stack.workerIds);
    const functionName = `chaos-${runId}`;
    await stack.deploy(functionName, FUNCTION_SOURCE, { memoryMb: '128', timeoutMs: '10000' });
    log(`deployed ${functionName}; sending ${options.invocations} async calls at ${options.ratePerS}/s`);
    const hostileRate = options.hostileRatePerS ?? 0;
    const hostileName = `${functionName}-hostile`;
    if (hostileRate > 0) {
      await stack.deploy(hostileName, HOSTILE_SOURCE, { memoryMb: '128', timeoutMs: '5000' });
      log(`deployed ${hostileName}: a hostile tenant beside it at ${hostileRate}/s (NUL output, forged and garbage frames)`);
    }

    const startedAt = Date.now();
    const faults = new FaultInjector(stack, options, startedAt, log);
    const sender = new Sender({
      url: stack.url,
      functionName,
      headers: stack.headers(),
      count: options.invocations,
      ratePerS: options.ratePerS,
      runId,
    });
    const windowMs = (options.invocations / options.ratePerS) * 1000;
    const hostile =
      hostileRate > 0
        ? new Sender({
            url: stack.url,
            functionName: hostileName,
            headers: stack.headers(),
            count: Math.ceil((windowMs / 1000) * hostileRate),
            ratePerS: hostileRate,
            runId: `${runId}-h`,
          })
        : null;
    const hostileRun = hostile?.run();
    let sending = true;
    const progress = setInterval(() => {
      if (!sending) return;
      const retrying = Object.values(sender.stats.rejected).reduce((a, b) => a + b, 0);
      faults.progress(`progress: started ${sender.started}, accepted ${sender.accepted.size}, rejected answers so far ${retrying}`);
    }, 10_000);
    // A fault that fails is a failed run, unless it failed because the run is being torn down.
    let faultError: unknown = null;
    const faultRun = faults.run(scheduleFaults(options, windowMs)).catch((err: unknown) => {
      if (stack.stopping) return;
      faultError = err;
      faults.note(`a fault could not be applied: ${(err as Error).message}`);
    });
    await sender.run().finally(() => {
      sending = false;
      clearInterval(progress);
    });
    await hostileRun;
    faults.note(`sending done: ${sender.accepted.size} of ${options.invocations} accepted`);
    await faultRun;
    if (faultError) throw faultError;
    const sentAt = Date.now();

    const ids = [...sender.accepted.values()].map((a) => a.invocationId);
    const settleUntil = Date.now() + options.settleTimeoutS * 1000;
    await waitForRecords(stack, ids, settleUntil, faults);
    // Jobs whose record is written may still be re-run (a lock lost in a Redis outage): let the queue drain.
    const queueAtEnd = await waitForQueue(faults, Math.min(settleUntil, Date.now() + 60_000));
    const settledAt = Date.now();
    const rows = await readRows(stack, functionName);
    const hostileRows = hostile ? await readRows(stack, hostileName) : [];
    await sleep(1000); // the last execution lines still on their way through `docker logs`
    executions.stop();

    await teardown(); // before summing up: the processes' logs are complete once they have ended
    const summary = summarize({
      runId,
      startedAt,
      config: {
        invocations: options.invocations,
        workerKills: options.workerKills,
        redisRestarts: options.redisRestarts,
        postgresOutageS: options.postgresOutageS,
        ratePerS: options.ratePerS,
        workers: stack.workerIds.length,
        concurrency: options.concurrency ?? 16,
      },
      seconds: { sending: secs(sentAt - startedAt), settling: secs(settledAt - sentAt), total: secs(Date.now() - t0) },
      accepted: sender.accepted,
      stats: sender.stats,
      rows,
      executions: executions.counts,
      containersFollowed: executions.containers,
      timeline: faults.timeline,
      unexpectedExits: stack.unexpectedExits,
      queueAtEnd,
      logsDir: options.logsDir,
    });
    if (hostile) summary.hostile = hostileSummary(hostile, hostileRows);
    log(formatSummary(summary));
    if (options.resultFile) {
      mkdirSync(dirname(options.resultFile), { recursive: true });
      writeFileSync(options.resultFile, `${JSON.stringify(summary, null, 2)}\n`);
      log(`summary written to ${options.resultFile}; process logs in ${options.logsDir}`);
    }
    return summary;
  } finally {
    executions?.stop();
    await teardown();
  }
}

/** What became of the hostile tenant's own calls: each recorded once, as a success or the function's failure. */
function hostileSummary(sender: Sender, rows: RecordRow[]): NonNullable<ChaosSummary['hostile']> {
  const byStatus: Record<string, number> = {};
  for (const row of rows) {
    const key = row.error_code ? `${row.status}:${row.error_code}` : row.status;
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
  const ids = new Set(rows.map((r) => r.id));
  const accepted = [...sender.accepted.values()].map((a) => a.invocationId);
  return {
    accepted: accepted.length,
    recorded: ids.size,
    lost: accepted.filter((id) => !ids.has(id)).length,
    duplicated: rows.length - ids.size,
    byStatus,
  };
}

const secs = (ms: number) => Math.round(ms / 100) / 10;

/**
 * Polls Postgres until every id has a record or `until`, with a line every
 * few seconds. Gives up sooner when the queues have been empty for 15 s
 * with no new record: nothing is left that could still write one.
 */
async function waitForRecords(stack: ChaosStack, ids: string[], until: number, faults: FaultInjector): Promise<void> {
  let lastLine = 0;
  let lastFound = -1;
  let idleSince = Date.now();
  for (;;) {
    const found = await stack.records
      .query<{ n: string }>('select count(*) as n from invocations where id = any($1::uuid[])', [ids])
      .then((r) => Number(r.rows[0]!.n), () => -1);
    if (found === ids.length) {
      faults.note(`all ${ids.length} accepted calls have a record`);
      return;
    }
    const depth = await faults.queueDepth();
    if (found !== lastFound || depth.waiting + depth.active + depth.delayed !== 0) idleSince = Date.now();
    lastFound = found;
    if (Date.now() - idleSince > 15_000) {
      faults.note(`${found} of ${ids.length} accepted calls have a record, and the queues have been empty for 15 s: the rest are not coming`);
      return;
    }
    if (Date.now() > until) {
      faults.note(`deadline: ${found} of ${ids.length} accepted calls have a record`);
      return;
    }
    if (Date.now() - lastLine > 5000) {
      faults.progress(`waiting for records: ${found} of ${ids.length}`);
      lastLine = Date.now();
    }
    await sleep(1000);
  }
}

/** Waits until no job is waiting, active or delayed (or `until`); returns the queue as it was left. */
async function waitForQueue(faults: FaultInjector, until: number): Promise<QueueDepth> {
  for (;;) {
    const depth = await faults.queueDepth();
    const left = depth.waiting + depth.active + depth.delayed;
    if (left === 0 || Date.now() > until) {
      faults.note(`queues at the end: waiting ${depth.waiting}, active ${depth.active}, delayed ${depth.delayed}, failed ${depth.failed}`);
      return depth;
    }
    await sleep(1000);
  }
}

/** Every record of the run's function, straight from the table. */
async function readRows(stack: ChaosStack, functionName: string): Promise<RecordRow[]> {
  const result = await stack.records.query<RecordRow>(
    'select id, status, error_code, result, finished_at, worker_id from invocations where function_name = $1',
    [functionName],
  );
  return result.rows;
}
