/**
 * The worker's hand-off of final outcomes to destinations
 * (`worker/run/destination-hand-off.ts`): which deliveries an outcome makes,
 * Lambda's destination record (conditions, response context, payloads
 * parsed or cut, never over 6 MB), the contract's schema accepting what is
 * built, and the queue job ids that make a re-run add nothing new.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../worker/common/logger.ts';
import type { JobOptions } from '../../worker/common/redis/job-queues.ts';
import { DELIVERY_QUEUE_NAME, MAX_DESTINATION_RECORD_BYTES, deliveryJobSchema, destinationRecordSchema } from '../../worker/contract/delivery-job.ts';
import { unstartedOutcome, type InvocationOutcome } from '../../worker/contract/invocation-outcome.ts';
import { createDestinationHandOff, deliveriesFor, destinationRecord } from '../../worker/run/destination-hand-off.ts';
import { jobOf } from '../helpers/invocation-jobs.ts';

const MiB = 1024 * 1024;

function outcomeOf(job: ReturnType<typeof jobOf>, fields: Partial<InvocationOutcome> = {}): InvocationOutcome {
  const now = Date.parse('2024-05-01T12:00:00.000Z');
  return {
    invocationId: job.invocationId,
    functionName: job.functionName,
    version: job.version,
    status: 'succeeded',
    result: '{"ok":true}',
    error: null,
    coldStart: false,
    startKind: 'warm',
    queuedAt: now - 10,
    startedAt: now - 5,
    finishedAt: now,
    queueWaitMs: 5,
    acquireMs: 0,
    initMs: 0,
    durationMs: 5,
    billedMs: 5,
    memoryMb: 128,
    logs: '',
    logsTruncated: false,
    concurrency: 1,
    ...fields,
  };
}

const both = { onSuccess: true, onFailure: true };
const failedWith = (code: 'FunctionError' | 'FunctionTimeout', stack?: string) =>
  ({ status: 'failed', result: null, error: { code, type: 'TypeError', message: 'boom', ...(stack ? { stack } : {}) } }) as const;

describe('which deliveries a final outcome makes', () => {
  it('sends a success to onSuccess and every failure to onFailure, plus the callback', () => {
    const job = jobOf({ destinations: both, callbackUrl: 'https://hooks.example/cb' });
    expect(deliveriesFor(job, outcomeOf(job))).toEqual(['onSuccess', 'callback']);
    expect(deliveriesFor(job, outcomeOf(job, failedWith('FunctionError')))).toEqual(['onFailure', 'callback']);
    expect(deliveriesFor(job, unstartedOutcome(job, 'expired', 'Expired', 'too old'))).toEqual(['onFailure', 'callback']);
    expect(deliveriesFor(job, unstartedOutcome(job, 'dead-letter', 'PlatformError', 'no'))).toEqual(['onFailure', 'callback']);
  });

  it('sends only what is set', () => {
    const job = jobOf({ destinations: { onSuccess: false, onFailure: true } });
    expect(deliveriesFor(job, outcomeOf(job))).toEqual([]);
    expect(deliveriesFor(job, outcomeOf(job, failedWith('FunctionError')))).toEqual(['onFailure']);
    expect(deliveriesFor(jobOf(), outcomeOf(jobOf()))).toEqual([]);
  });

  it('sends scheduled and event calls too, and never sync or HTTP calls', () => {
    for (const mode of ['schedule', 'event'] as const) {
      const job = jobOf({ mode, destinations: both });
      expect(deliveriesFor(job, outcomeOf(job))).toEqual(['onSuccess']);
    }
    for (const mode of ['sync', 'http'] as const) {
      const job = jobOf({ mode, destinations: both, callbackUrl: 'https://hooks.example/cb', replyTo: 'gw' });
      expect(deliveriesFor(job, outcomeOf(job))).toEqual([]);
    }
  });
});

describe("Lambda's destination record", () => {
  it('records a success: the event and result parsed, status 200, the version executed', () => {
    const job = jobOf({ event: '{"order": 42, "items": [1, 2]}', version: 3, namespace: 'acme', functionName: 'shop' });
    const record = destinationRecord(job, outcomeOf(job, { result: '{"total": 9.5}' }));
    expect(record).toEqual({
      version: '1.0',
      timestamp: '2024-05-01T12:00:00.000Z',
      requestContext: { requestId: job.invocationId, functionArn: 'hearth:acme:function:shop:3', condition: 'Success', approximateInvokeCount: 1 },
      requestPayload: { order: 42, items: [1, 2] },
      responseContext: { statusCode: 200, executedVersion: '3' },
      responsePayload: { total: 9.5 },
    });
    expect(destinationRecordSchema.safeParse(record).success).toBe(true);
  });

  it("records a function's failure as Lambda does: 200, Unhandled, its error as the payload, after its tries", () => {
    const job = jobOf();
    const record = destinationRecord(job, outcomeOf(job, failedWith('FunctionError', 'TypeError: boom\n    at handler (index.js:1:1)')));
    expect(record.requestContext).toMatchObject({ condition: 'RetriesExhausted', approximateInvokeCount: 1 });
    expect(record.responseContext).toEqual({ statusCode: 200, executedVersion: '1', functionError: 'Unhandled' });
    expect(record.responsePayload).toEqual({ errorMessage: 'boom', errorType: 'TypeError', stackTrace: ['TypeError: boom', '    at handler (index.js:1:1)'] });
  });

  it('records calls that never ran with the status a sync call would have had', () => {
    const job = jobOf({ asyncRetries: 1 });
    const expired = destinationRecord(job, unstartedOutcome(job, 'expired', 'Expired', 'queued too long'));
    expect(expired.requestContext).toMatchObject({ condition: 'EventAgeExceeded', approximateInvokeCount: 0 });
    expect(expired.responseContext).toEqual({ statusCode: 504, executedVersion: '1' });
    const dead = destinationRecord(job, unstartedOutcome(job, 'dead-letter', 'PlatformError', 'every attempt failed'));
    expect(dead.requestContext).toMatchObject({ condition: 'RetriesExhausted', approximateInvokeCount: 2 });
    expect(dead.responseContext.statusCode).toBe(503);
    expect(dead.responsePayload).toMatchObject({ errorType: 'PlatformError', errorMessage: 'every attempt failed' });
  });

  it('keeps a result that is not JSON as its text', () => {
    const job = jobOf();
    expect(destinationRecord(job, outcomeOf(job, { result: 'not json' })).responsePayload).toBe('not json');
  });

  it('cuts a result past the recorded cap, flagged, and keeps a 6 MB event whole when there is room', () => {
    const job = jobOf({ event: JSON.stringify({ blob: 'e'.repeat(5 * MiB) }) });
    const record = destinationRecord(job, outcomeOf(job, { result: JSON.stringify('r'.repeat(2 * MiB)) }));
    expect(record.responsePayloadTruncated).toBe(true);
    expect(typeof record.responsePayload).toBe('string');
    expect(Buffer.byteLength(JSON.stringify(record.responsePayload))).toBeLessThanOrEqual(MiB);
    expect(record.requestPayloadTruncated).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(record))).toBeLessThanOrEqual(MAX_DESTINATION_RECORD_BYTES);
  });

  it('keeps the whole record within 6 MB for the largest event and result, escapes counted', () => {
    // Quotes and backslashes double when the cut text is written as a JSON string.
    const job = jobOf({ event: JSON.stringify('"\\'.repeat(2 * MiB - 8)) });
    const record = destinationRecord(job, outcomeOf(job, { result: JSON.stringify('x'.repeat(MiB - 100)) }));
    expect(record.responsePayloadTruncated).toBeUndefined();
    expect(record.requestPayloadTruncated).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(record))).toBeLessThanOrEqual(MAX_DESTINATION_RECORD_BYTES);
    expect(Buffer.byteLength(JSON.stringify(record))).toBeGreaterThan(MAX_DESTINATION_RECORD_BYTES - 1024 * 64);
  });

  it('measures what parsing writes back (1e5 is written as 100000)', () => {
    const event = `[${Array(400_000).fill('1e5').join(',')}]`;
    const job = jobOf({ event });
    const record = destinationRecord(job, outcomeOf(job, { result: JSON.stringify('y'.repeat(MiB - 100)) }));
    expect(Buffer.byteLength(JSON.stringify(record))).toBeLessThanOrEqual(MAX_DESTINATION_RECORD_BYTES);
    expect(Array.isArray(record.requestPayload)).toBe(true);
  });
});

describe('the hand-off', () => {
  const recorder = () => {
    const added: Array<{ queue: string; id: string; data: unknown; options: JobOptions }> = [];
    return { added, queues: { add: async (queue: string, id: string, data: unknown, options: JobOptions) => void added.push({ queue, id, data, options }) } };
  };

  it('adds one job per delivery, ids from the invocation and condition, retried five times with backoff', async () => {
    const { added, queues } = recorder();
    const handOff = createDestinationHandOff({ queues, log: silentLogger });
    const job = jobOf({ destinations: both, callbackUrl: 'https://hooks.example/cb', causedBy: '00000000-0000-4000-8000-000000000001', depth: 3 });
    await handOff(job, outcomeOf(job));
    expect(added.map((a) => [a.queue, a.id])).toEqual([
      [DELIVERY_QUEUE_NAME, `${job.invocationId}.onSuccess`],
      [DELIVERY_QUEUE_NAME, `${job.invocationId}.callback`],
    ]);
    expect(added[0]!.options).toMatchObject({ attempts: 5, backoff: { type: 'exponential', delay: 4000 }, removeOnComplete: true });
    const [success, callback] = added.map((a) => deliveryJobSchema.parse(a.data));
    expect(success).toMatchObject({ condition: 'onSuccess', depth: 3, namespace: 'default', functionId: job.functionId, invocationId: job.invocationId });
    expect(success!.callbackUrl).toBeUndefined();
    expect(callback).toMatchObject({ condition: 'callback', callbackUrl: 'https://hooks.example/cb' });
  });

  it('adds nothing without destinations, and never throws when the queue fails', async () => {
    const { added, queues } = recorder();
    await createDestinationHandOff({ queues, log: silentLogger })(jobOf(), outcomeOf(jobOf()));
    expect(added).toEqual([]);
    const logged: string[] = [];
    const failing = createDestinationHandOff({
      queues: { add: () => Promise.reject(new Error('redis away')) },
      log: { ...silentLogger, error: (message) => void logged.push(message) },
    });
    const job = jobOf({ destinations: both });
    await expect(failing(job, outcomeOf(job))).resolves.toBeUndefined();
    expect(logged).toEqual(['could not hand off a destination delivery: it is lost']);
  });

  it('gives up on a queue that does not answer within its timeout', async () => {
    const logged: string[] = [];
    const stuck = createDestinationHandOff({ queues: { add: () => new Promise(() => {}) }, log: { ...silentLogger, error: (m) => void logged.push(m) }, timeoutMs: 50 });
    const job = jobOf({ destinations: both });
    await stuck(job, outcomeOf(job));
    expect(logged).toHaveLength(1);
  });
});
