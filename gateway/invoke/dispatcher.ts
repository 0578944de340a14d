/**
 * Turns an accepted call into a queued invocation and, for sync calls, waits
 * for its outcome. Every call goes through the queue, sync ones included, so
 * one path records them all.
 */
import { createHash } from 'node:crypto';
import { newInvocationId } from '../../worker/common/invocation-id.ts';
import { INIT_TIMEOUT_MS, unstartedOutcome, type InvocationMode, type InvocationOutcome } from '../../worker/contract/invocation-outcome.ts';
import { InvocationPlatformError, QueueUnavailableError, type InvocationQueue } from '../queue/invocation-queue.ts';
import type { InvocationJob } from '../../worker/contract/invocation-job.ts';
import { queuedCallBytes, type QueuedCallRefusal } from '../../worker/common/redis/queued-call-quota.ts';
import { DEFAULT_QUEUED_CALL_LIMITS, type QueuedCallLimits } from '../../worker/contract/limits.ts';
import type { InvocationRow } from '../../worker/common/invocations-store.ts';
import { HearthError, notFound } from '../errors.ts';
import { LATEST_ALIAS, chooseVersion, type AliasRoute, type ResolvedVersion } from '../store/functions-store.ts';
import { sandboxKey, secretRefsOf } from '../../worker/contract/function-version.ts';
import type { WorkerReport } from '../../worker/contract/worker-report.ts';
import { RouteBook, chooseWorker } from './router.ts';
import { outcomeFromRow } from './invocation-view.ts';

/** The reads and writes the dispatcher needs; implemented over Postgres in `create-gateway.ts`. */
export interface DispatchStore {
  resolveVersion(namespace: string, name: string, version?: number): Promise<ResolvedVersion | null>;
  /** Where a call through the alias goes, or null when the function or alias does not exist. */
  resolveAlias(namespace: string, name: string, alias: string): Promise<AliasRoute | null>;
  findInvocation(namespace: string, id: string): Promise<InvocationRow | null>;
  /** Records a call that never ran (throttled), so it is counted like any other. */
  recordUnstarted(job: InvocationJob, outcome: InvocationOutcome): Promise<void>;
  /** The namespace's concurrency quota; null: none. */
  namespaceQuota(namespace: string): Promise<number | null>;
}

export interface DispatcherOptions {
  store: DispatchStore;
  queue: InvocationQueue;
  /** Live workers (for warm-aware routing); without it every call goes to the shared queue. */
  workers?: () => readonly WorkerReport[];
  /** Added to the function's own timeout for queueing and a cold start. */
  syncGraceMs: number;
  /** How long a sync call to a function at its `maxConcurrency` may wait to start before `429`. */
  throttleWaitMs: number;
  /** Most async calls (and bytes of events) a function and a namespace may have queued; default `DEFAULT_QUEUED_CALL_LIMITS`. */
  queuedLimits?: QueuedCallLimits;
}

/** What a call names: a version, or an alias (`latest` when it names neither). */
export interface CallTarget {
  namespace: string;
  name: string;
  version?: number;
  alias?: string;
  /** Keeps the caller on one side of an alias's split (`X-Routing-Key`); without one each call draws at random. */
  routingKey?: string;
}

/**
 * What an async call may carry besides its event: who made it (a trigger, a
 * destination) and where its outcome goes. Absent fields: a plain async call.
 */
export interface AsyncCall {
  /** `schedule` or `event` for a trigger's call; default `async`. */
  mode?: 'async' | 'schedule' | 'event';
  trigger?: string;
  /** The invocation whose destination makes this call, and the chain's depth so far (this call's). */
  causedBy?: string;
  depth?: number;
  /** A schedule's tick time (epoch ms). */
  scheduledFor?: number;
  /** A one-off webhook for this call's outcome (`X-Callback-Url`), already checked. */
  callbackUrl?: string;
  /** Overrides the function's async retries (a trigger retries batches itself: 0). */
  asyncRetries?: number;
}

/** The version one call runs, chosen once, and the alias it was chosen through (null: pinned). */
export interface ChosenVersion {
  fn: ResolvedVersion;
  alias: string | null;
}

export class Dispatcher {
  private readonly book = new RouteBook();

  constructor(private readonly options: DispatcherOptions) {}

  /** The worker to send `job` to (null: the shared queue), and a token to call `book.done` with. */
  private route(job: InvocationJob): { workerId: string | null; token: object | null } {
    const workers = this.options.workers?.() ?? [];
    const workerId = chooseWorker(workers, sandboxKey(job), job.runtime, this.book);
    return { workerId, token: workerId ? this.book.note(workerId, job.replyTo !== null) : null };
  }

  /**
   * The version this call runs (from cache on a warm path: one alias read,
   * one version read), drawn from the alias's split, or null when the
   * function, version or alias does not exist. Hand the answer to
   * `dispatchSync`/`dispatchAsync` so the call runs exactly that version.
   */
  async resolve(target: CallTarget): Promise<ChosenVersion | null> {
    const { store } = this.options;
    if (target.version !== undefined) {
      const fn = await store.resolveVersion(target.namespace, target.name, target.version);
      return fn ? { fn, alias: null } : null;
    }
    const alias = target.alias ?? LATEST_ALIAS;
    const route = await store.resolveAlias(target.namespace, target.name, alias);
    if (!route) return null;
    const fn = await store.resolveVersion(target.namespace, target.name, chooseVersion(route, drawFor(route, target.routingKey)));
    return fn ? { fn, alias } : null;
  }

  /**
   * Whether a call without a key may run `chosen`: the version it runs must
   * be public, and so must the function's latest version. Turning `public`
   * off (a deploy without it, deleting the Lambda function URL) thereby
   * closes every door at once, aliases still pointing at older public
   * versions included.
   */
  async isPublic(target: CallTarget, chosen: ChosenVersion): Promise<boolean> {
    if (!chosen.fn.public) return false;
    const latest = await this.options.store.resolveVersion(target.namespace, target.name);
    return latest?.public === true;
  }

  /** `resolve`, throwing 404 `FunctionNotFound`, `VersionNotFound` or `AliasNotFound` for a call that names nothing. */
  async choose(target: CallTarget): Promise<ChosenVersion> {
    const chosen = await this.resolve(target);
    if (chosen) return chosen;
    const exists = (await this.options.store.resolveAlias(target.namespace, target.name, LATEST_ALIAS)) !== null;
    if (exists && target.version !== undefined) throw notFound('VersionNotFound', `function "${target.name}" has no version ${target.version}`);
    if (exists && target.alias !== undefined) throw notFound('AliasNotFound', `function "${target.name}" has no alias "${target.alias}"`);
    throw notFound('FunctionNotFound', `function "${target.name}" does not exist`);
  }

  /**
   * Queues the call and returns its id at once. With an idempotency key, a
   * repeat of the key (on the same function) within a day returns the first
   * call's id and queues nothing. Throws `TooManyQueuedCalls` when the
   * function or namespace has its quota of async calls queued.
   */
  async dispatchAsync(
    target: CallTarget,
    eventJson: string,
    idempotencyKey?: string,
    chosen?: ChosenVersion,
    call: AsyncCall = {},
  ): Promise<{ invocationId: string; repeated: boolean; version: number }> {
    // With a key, the invocation id is a function of it and of the function's
    // id: every attempt of the same call names the same job and the same
    // record, and the same key on another function is another call.
    const prepared = withCall(await this.prepare(target, eventJson, call.mode ?? 'async', chosen), call);
    let job = idempotencyKey === undefined ? prepared : { ...prepared, invocationId: idempotentId(target.namespace, prepared.functionId, idempotencyKey) };
    const invocationId = job.invocationId;
    const { queue } = this.options;
    const admitAndEnqueue = async () => {
      const refusal = await queue.admitQueued(job, queuedCallBytes(job), this.options.queuedLimits ?? DEFAULT_QUEUED_CALL_LIMITS);
      if (refusal) throw tooManyQueued(job, refusal);
      try {
        await queue.enqueue(job, this.route(job).workerId);
      } catch (err) {
        // Certainly not queued: it must not count. (An add that timed out may have landed; then a worker releases it.)
        if (err instanceof QueueUnavailableError && !err.mayHaveQueued) await queue.releaseQueued(job);
        throw err;
      }
    };
    const enqueue = () => namingWhatWasQueued(admitAndEnqueue());
    const claim =
      idempotencyKey === undefined
        ? null
        : await namingWhatWasQueued(this.options.queue.claimIdempotencyKey(target.namespace, job.functionId, idempotencyKey, job.enqueuedAt));
    if (claim && !claim.first) {
      // Seen before. If an earlier attempt never got its job queued (it
      // answered QueueUnavailable), queue it now: under the same id and queued
      // time (the record's key), a job already queued is not added twice and a
      // record is never written twice.
      if (claim.firstEnqueuedAt !== null) job = { ...job, enqueuedAt: claim.firstEnqueuedAt };
      const state = await namingWhatWasQueued(this.options.queue.state(invocationId, target.namespace));
      if (state === 'unknown' && !(await this.options.store.findInvocation(target.namespace, invocationId))) await enqueue();
      return { invocationId, repeated: true, version: job.version };
    }
    await enqueue();
    return { invocationId, repeated: false, version: job.version };
  }

  /** Queues the call and waits for its outcome (function failures included). */
  async dispatchSync(target: CallTarget, eventJson: string, mode: InvocationMode, chosen?: ChosenVersion): Promise<InvocationOutcome> {
    const job = await this.prepare(target, eventJson, mode, chosen);
    const gated = job.maxConcurrency !== null || job.namespaceQuota !== null;
    const throttleWaitMs = gated ? this.options.throttleWaitMs : undefined;
    const waitMs = job.timeoutMs + INIT_TIMEOUT_MS + this.options.syncGraceMs + (throttleWaitMs ?? 0);
    let outcome: Awaited<ReturnType<InvocationQueue['enqueueAndWait']>>;
    try {
      outcome = await namingWhatWasQueued(this.waitWithRecordFallback(job, waitMs, throttleWaitMs));
    } catch (err) {
      if (!(err instanceof InvocationPlatformError)) throw err;
      throw new HearthError('PlatformError', `the platform could not run invocation ${job.invocationId}: ${err.message}`, {
        invocationId: job.invocationId,
      });
    }
    if (outcome === 'throttled') {
      const throttled = throttledOutcome(job, this.options.throttleWaitMs);
      await this.options.store.recordUnstarted(job, throttled);
      return throttled;
    }
    if (outcome) return outcome;
    // Replies are best effort: the record is the authority.
    const row = await this.options.store.findInvocation(target.namespace, job.invocationId);
    if (row) return outcomeFromRow(row);
    throw new HearthError(
      'InvocationPending',
      `invocation ${job.invocationId} did not finish within ${waitMs} ms; it may still run: GET /v1/invocations/${job.invocationId}`,
      { invocationId: job.invocationId },
    );
  }

  /**
   * Waits for the reply, and meanwhile (after a second) looks for the record
   * in Postgres once a second: replies and the queue both live in Redis, and
   * a call that finished while Redis was away is known only to the record.
   */
  private async waitWithRecordFallback(job: InvocationJob, waitMs: number, throttleWaitMs?: number) {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const fromRecord = new Promise<InvocationOutcome>((resolve) => {
      const look = () => {
        if (done) return;
        this.options.store.findInvocation(job.namespace, job.invocationId).then(
          (row) => {
            if (row) resolve(outcomeFromRow(row));
            else if (!done) timer = setTimeout(look, RECORD_POLL_MS);
          },
          () => {
            if (!done) timer = setTimeout(look, RECORD_POLL_MS);
          },
        );
      };
      timer = setTimeout(look, RECORD_POLL_MS);
    });
    const { workerId, token } = this.route(job);
    try {
      return await Promise.race([this.options.queue.enqueueAndWait(job, waitMs, throttleWaitMs, workerId), fromRecord]);
    } finally {
      done = true;
      clearTimeout(timer);
      if (token) this.book.done(token);
    }
  }

  private async prepare(target: CallTarget, eventJson: string, mode: InvocationMode, chosen?: ChosenVersion): Promise<InvocationJob> {
    const [{ fn, alias }, namespaceQuota] = await Promise.all([chosen ?? this.choose(target), this.options.store.namespaceQuota(target.namespace)]);
    const enqueuedAt = Date.now();
    return {
      invocationId: newInvocationId(enqueuedAt),
      namespace: fn.namespace,
      functionId: fn.functionId,
      functionName: fn.name,
      version: fn.version,
      runtime: fn.runtime,
      handler: fn.handler,
      memoryMb: fn.memoryMb,
      timeoutMs: fn.timeoutMs,
      env: fn.env,
      // By name only: the worker reads the values, sealed, from Postgres.
      ...(fn.secrets && fn.secrets.length > 0 ? { secrets: secretRefsOf(fn.secrets, fn.secretEnv ?? {}) } : {}),
      keepAliveMs: fn.keepAliveMs,
      maxConcurrency: fn.maxConcurrency,
      namespaceQuota,
      network: fn.network,
      codeSha256: fn.codeSha256,
      asyncRetries: fn.asyncRetries ?? null,
      maxEventAgeMs: fn.maxEventAgeMs ?? null,
      alias,
      mode,
      event: eventJson,
      enqueuedAt,
      replyTo: mode === 'async' || mode === 'schedule' || mode === 'event' ? null : this.options.queue.replyTo,
      ...(fn.destinations && (fn.destinations.onSuccess || fn.destinations.onFailure) ? { destinations: fn.destinations } : {}),
    };
  }
}

/** `job` with what `call` adds (only the fields it sets, so a plain async job stays as it was). */
function withCall(job: InvocationJob, call: AsyncCall): InvocationJob {
  return {
    ...job,
    ...(call.trigger !== undefined ? { trigger: call.trigger } : {}),
    ...(call.causedBy !== undefined ? { causedBy: call.causedBy, depth: call.depth ?? 1 } : {}),
    ...(call.scheduledFor !== undefined ? { scheduledFor: call.scheduledFor } : {}),
    ...(call.callbackUrl !== undefined ? { callbackUrl: call.callbackUrl } : {}),
    ...(call.asyncRetries !== undefined ? { asyncRetries: call.asyncRetries } : {}),
  };
}

/** The outcome of a sync call that waited `waitedMs` without a free slot and was withdrawn. */
function throttledOutcome(job: InvocationJob, waitedMs: number): InvocationOutcome {
  return unstartedOutcome(
    job,
    'throttled',
    'Throttled',
    `function "${job.functionName}" is at its maxConcurrency (${job.maxConcurrency ?? 'none'}) or its namespace at its concurrency quota (${job.namespaceQuota ?? 'none'}); the call waited ${waitedMs} ms without starting and was not run`,
  );
}

/** `TooManyQueuedCalls`: the function or its namespace has as many async calls (or bytes of events) queued as its quota allows. */
function tooManyQueued(job: InvocationJob, refusal: QueuedCallRefusal): HearthError {
  const owner = refusal.scope === 'function' ? `function "${job.functionName}"` : `namespace "${job.namespace}"`;
  const amount = refusal.what === 'calls' ? `${refusal.limit} async calls` : `${Math.floor(refusal.limit / (1024 * 1024))} MB of async events`;
  return new HearthError(
    'TooManyQueuedCalls',
    `${owner} already has ${amount} queued, its quota; nothing was queued: retry once some of its calls have run`,
    { scope: refusal.scope, limit: refusal.limit, quota: refusal.what },
  );
}

/** The invocation id an idempotency key stands for: a UUID-shaped digest of namespace, function id and key. */
export function idempotentId(namespace: string, functionId: string, key: string): string {
  const hex = createHash('sha256').update(`hearth-idempotency\0${namespace}\0${functionId}\0${key}`).digest('hex');
  // Version 8 (custom) and the RFC 4122 variant, so it is a well-formed UUID.
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The draw (0 to 1) that picks a side of `route`'s split: random, or with a
 * routing key a digest of the key, the function and the alias, so the same
 * caller always draws the same number (and, as a canary's weight only
 * grows, stays on the canary once there).
 */
function drawFor(route: AliasRoute, routingKey: string | undefined): number {
  if (!route.weighted) return 0;
  if (routingKey === undefined) return Math.random();
  const digest = createHash('sha256').update(`hearth-routing\0${route.functionId}\0${route.alias}\0${routingKey}`).digest();
  return digest.readUInt32BE(0) / 0x1_0000_0000;
}

/** How often a sync call with no reply yet looks for its record. */
const RECORD_POLL_MS = 1000;

/** Redis away: the caller is told at once (`QueueUnavailable`) whether anything was queued, and can retry. */
async function namingWhatWasQueued<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof QueueUnavailableError) {
      // A timed-out add may still land; only an unreachable queue is certain to hold nothing.
      const certain = !err.mayHaveQueued;
      throw new HearthError(
        'QueueUnavailable',
        certain
          ? `${err.message}; nothing was queued, retry shortly`
          : `${err.message}; the call may or may not have been queued: retry with the same Idempotency-Key to be sure it runs once`,
      );
    }
    throw err;
  }
}
