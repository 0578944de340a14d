/**
 * Runs one invocation from start to record: acquire a sandbox (warm from the
 * pool, else cold), invoke with the function's deadline, classify how it
 * ended, put the sandbox back or throw it away, and write the record.
 *
 * A function's failure becomes a failed outcome. Only platform faults (the
 * engine refuses to start a container, the store is unreachable) throw.
 */
import { MAX_RESULT_BYTES } from '../contract/limits.ts';
import { performance } from 'node:perf_hooks';
import { LOG_CAP_BYTES, type FunctionErrorInfo } from '../sandbox/agent-protocol.ts';
import { Counts } from '../common/counts.ts';
import { TIMED_OUT, withDeadline } from '../common/deadline.ts';
import { AgentClosedError } from '../sandbox/agent-channel.ts';
import { ProtocolViolation, type CheckedInvokeResult } from '../sandbox/agent-messages.ts';
import {
  INIT_TIMEOUT_MS,
  billedDuration,
  type FunctionFailure,
  type InvocationOutcome,
  type StartKind,
} from '../contract/invocation-outcome.ts';
import { fromHttpResult } from '../common/http-result.ts';
import { storableText } from '../common/storable.ts';
import type { InvocationJob } from '../contract/invocation-job.ts';
import { SecretsUnreachableError, type Sandbox } from '../sandbox/sandbox.ts';
import { RetryLater } from './retry-later.ts';
import type { FunctionVersion } from '../contract/function-version.ts';
import type { SandboxPool } from '../pool/sandbox-pool.ts';

/** Writes a finished invocation's record (idempotent per invocation id). */
export interface InvocationRecorder {
  record(job: InvocationJob, outcome: InvocationOutcome): Promise<void>;
}

export interface InvokerOptions {
  pool: SandboxPool;
  recorder: InvocationRecorder;
  /** Tells a waiting caller the outcome, before the record is written (the reply marks the call answered). */
  reply(job: InvocationJob, outcome: InvocationOutcome): void;
}

/** How long a call waits before it runs again when its secrets could not be read (the database did not answer). */
const SECRETS_RETRY_MS = 1000;

type Failed = { kind: 'failure'; failure: FunctionFailure; durationMs: number; logs?: string; logsTruncated?: boolean };
/** `durationMs` is the worker's own measure, from sending `invoke` to its answer. */
type Attempt = { kind: 'result'; message: CheckedInvokeResult; durationMs: number } | Failed;

export class Invoker {
  /** Calls in progress per function, for each record's `concurrency`. */
  private readonly running = new Counts();

  constructor(private readonly options: InvokerOptions) {}

  async run(job: InvocationJob): Promise<InvocationOutcome> {
    const concurrency = this.running.add(job.functionId, 1);
    let counted = true;
    // A call stops counting once its outcome is known, not once it is recorded.
    const done = () => {
      if (!counted) return;
      counted = false;
      this.running.add(job.functionId, -1);
    };
    try {
      return await this.runCounted(job, concurrency, done);
    } finally {
      done();
    }
  }

  private async runCounted(job: InvocationJob, concurrency: number, done: () => void): Promise<InvocationOutcome> {
    const { pool } = this.options;
    const startedAt = Date.now();
    const fn = functionOf(job);
    const t0 = performance.now();
    const { sandbox, kind } = await pool.acquire(fn, job.codeSha256);
    const acquireMs = performance.now() - t0;
    let initMs = 0;
    let initLogs = '';
    let attempt: Attempt | null = null;

    if (!sandbox.initialised) {
      const t1 = performance.now();
      const init = await this.initialise(sandbox);
      initMs = performance.now() - t1;
      if (init.kind === 'retry') {
        // The platform could not read the function's secrets: not the function's failure. The call goes back
        // to the queue (no attempt used, no record) and the untouched sandbox is let go.
        pool.release(sandbox, false, job.keepAliveMs, performance.now() - t0 - acquireMs);
        throw new RetryLater(SECRETS_RETRY_MS);
      }
      if (init.kind === 'failure') attempt = init;
      else initLogs = init.logs;
    }

    if (!attempt) attempt = await this.invoke(sandbox, job);

    const finishedAt = Date.now();
    const healthy = attempt.kind === 'result' && attempt.message.fatal !== true;
    pool.release(sandbox, healthy, job.keepAliveMs, performance.now() - t0 - acquireMs);

    const outcome = toOutcome(job, attempt, {
      concurrency,
      startKind: kind,
      startedAt,
      finishedAt,
      acquireMs,
      initMs,
      initLogs,
    });
    done();
    // The caller hears first; the record follows. A lookup in between sees the
    // reply's "answered" mark and waits for the record (read-your-writes).
    this.options.reply(job, outcome);
    await this.options.recorder.record(job, outcome);
    return outcome;
  }

  private async initialise(sandbox: Sandbox): Promise<{ kind: 'ok'; logs: string } | { kind: 'retry' } | Failed> {
    const t = performance.now();
    const result = await withDeadline(sandbox.init(), INIT_TIMEOUT_MS);
    if (result === TIMED_OUT) {
      await sandbox.kill().catch(() => {});
      return failure('FunctionTimeout', 'Runtime.InitTimeout', `function init timed out after ${INIT_TIMEOUT_MS} ms`, t);
    }
    if (result instanceof SecretsUnreachableError) return { kind: 'retry' };
    if (result instanceof Error) return this.diagnoseExit(sandbox, result, t);
    if (!result.ok) {
      return {
        kind: 'failure',
        failure: { code: 'FunctionError', ...errorInfo(result.error) },
        durationMs: 0,
        logs: result.logs,
        logsTruncated: result.logsTruncated,
      };
    }
    return { kind: 'ok', logs: result.logs };
  }

  private async invoke(sandbox: Sandbox, job: InvocationJob): Promise<Attempt> {
    const t = performance.now();
    const deadline = Date.now() + job.timeoutMs;
    const result = await withDeadline(sandbox.invoke(job.invocationId, job.event, deadline), job.timeoutMs);
    const durationMs = performance.now() - t;
    if (result === TIMED_OUT) {
      await sandbox.kill().catch(() => {});
      return failure(
        'FunctionTimeout',
        'Runtime.Timeout',
        `function timed out after ${job.timeoutMs} ms (its timeoutMs limit)`,
        t,
      );
    }
    if (result instanceof Error) return this.diagnoseExit(sandbox, result, t);
    return { kind: 'result', message: result, durationMs };
  }

  /** The agent's connection dropped mid-call, or it broke the protocol: say why. */
  private async diagnoseExit(sandbox: Sandbox, err: Error, t: number): Promise<Failed> {
    if (err instanceof ProtocolViolation) {
      // The function's own doing (its code shares the agent's process): a
      // crash, not retried; the sandbox is destroyed, never reused.
      await sandbox.kill().catch(() => {});
      return failure('FunctionCrashed', 'Runtime.ProtocolViolation', `function runtime broke the agent protocol: ${err.message}`, t);
    }
    if (!(err instanceof AgentClosedError)) throw err;
    const exit = await sandbox.exitInfo().catch(() => null);
    if (exit?.oomKilled) {
      return failure(
        'FunctionOutOfMemory',
        'Runtime.OutOfMemory',
        `function ran out of memory (limit ${sandbox.fn.memoryMb} MB) and was killed`,
        t,
      );
    }
    const how = exit && exit.exitCode !== null ? `exited with code ${exit.exitCode}` : 'stopped unexpectedly';
    return failure('FunctionCrashed', 'Runtime.ExitError', `function runtime ${how}`, t);
  }
}


function failure(code: FunctionFailure['code'], type: string, message: string, since: number): Failed {
  return { kind: 'failure', failure: { code, type, message }, durationMs: performance.now() - since };
}

function errorInfo(error: FunctionErrorInfo | undefined): Omit<FunctionFailure, 'code'> {
  return {
    type: error?.type ?? 'Error',
    message: error?.message ?? 'function failed',
    ...(error?.stack ? { stack: error.stack } : {}),
  };
}

function functionOf(job: InvocationJob): FunctionVersion {
  return {
    functionId: job.functionId,
    namespace: job.namespace,
    functionName: job.functionName,
    version: job.version,
    runtime: job.runtime,
    handler: job.handler,
    memoryMb: job.memoryMb,
    timeoutMs: job.timeoutMs,
    env: job.env,
    network: job.network,
    ...(job.secrets ? { secrets: job.secrets } : {}),
  };
}

function toOutcome(
  job: InvocationJob,
  attempt: Attempt,
  timing: {
    concurrency: number;
    startKind: StartKind;
    startedAt: number;
    finishedAt: number;
    acquireMs: number;
    initMs: number;
    initLogs: string;
  },
): InvocationOutcome {
  let status: InvocationOutcome['status'];
  let result: string | null = null;
  let error: FunctionFailure | null = null;
  let durationMs: number;
  let logs: string;
  let logsTruncated: boolean;
  if (attempt.kind === 'result') {
    const m = attempt.message;
    durationMs = attempt.durationMs;
    logs = m.logs;
    logsTruncated = m.logsTruncated;
    const text = m.ok ? m.resultJson : null;
    if (text instanceof Error) {
      status = 'failed';
      error = { code: 'FunctionError', type: 'Runtime.MarshalError', message: `the function's result cannot be stored: ${text.message}` };
    } else if (text !== null && Buffer.byteLength(text) > MAX_RESULT_BYTES) {
      status = 'failed';
      error = {
        code: 'FunctionError',
        type: 'Runtime.ResponseSizeTooLarge',
        message: `the function returned ${Buffer.byteLength(text)} bytes of JSON; results are limited to ${MAX_RESULT_BYTES} bytes`,
      };
    } else if (m.ok) {
      const unsendable = job.mode === 'http' ? httpProblem(text ?? 'null') : null;
      if (unsendable) {
        status = 'failed';
        error = unsendable;
      } else {
        status = 'succeeded';
        result = text;
      }
    } else {
      status = 'failed';
      // The function ended its own process (Python's sys.exit): a crash, not a throw.
      const crashed = m.fatal === true && m.error?.type === 'Runtime.ExitError';
      error = { code: crashed ? 'FunctionCrashed' : 'FunctionError', ...errorInfo(m.error) };
    }
  } else {
    status = 'failed';
    error = attempt.failure;
    durationMs = attempt.durationMs;
    logs = attempt.logs ?? '';
    logsTruncated = attempt.logsTruncated ?? false;
  }
  const allLogs = storableText(timing.initLogs + logs, LOG_CAP_BYTES);
  return {
    invocationId: job.invocationId,
    functionName: job.functionName,
    version: job.version,
    status,
    result,
    error,
    coldStart: timing.startKind !== 'warm',
    startKind: timing.startKind,
    queuedAt: job.enqueuedAt,
    startedAt: timing.startedAt,
    finishedAt: timing.finishedAt,
    queueWaitMs: Math.max(0, timing.startedAt - job.enqueuedAt),
    acquireMs: round(timing.acquireMs),
    initMs: round(timing.initMs),
    durationMs: round(durationMs),
    billedMs: billedDuration(durationMs),
    memoryMb: job.memoryMb,
    // Init's and the call's output together stay within the one cap.
    logs: allLogs.text,
    logsTruncated: logsTruncated || allLogs.truncated,
    concurrency: timing.concurrency,
  };
}

/** Why a function-URL result cannot be sent as an HTTP answer (recorded as the 502 the caller gets), or null. */
function httpProblem(resultJson: string): FunctionFailure | null {
  // The text is the worker's own serialisation of the agent's answer (frame-reader.ts): valid JSON, not rescanned.
  const checked = fromHttpResult(resultJson, { trustedJson: true });
  return checked.ok ? null : { code: 'FunctionError', type: checked.type, message: checked.message };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
