/**
 * The batch runner and the batch invoker over fakes: a message is
 * acknowledged only once an invocation that held it succeeded; reported
 * failures are retried alone, then dead-lettered; a platform that is busy
 * does not use up a batch's attempts; ordered keys never overlap; a
 * redelivered message that an invocation already holds is settled by that
 * invocation's record, not run again.
 */
import { describe, expect, it } from 'vitest';
import { createBatchRunner, PlatformBusy, reportedFailures, type AttemptResult } from '../../gateway/triggers/batch-runner.ts';
import { createBatchInvoker } from '../../gateway/triggers/batch-invoker.ts';
import { inMemoryMessageClaims } from '../../gateway/triggers/message-claims.ts';
import type { EventSource, SourceMessage } from '../../gateway/triggers/event-source.ts';
import type { TriggerRecord } from '../../gateway/triggers/trigger-record.ts';
import { redisStreamSettings } from '../../gateway/triggers/trigger-settings.ts';
import { invocationRow } from '../api/fakes/invocation-queue.ts';
import { waitFor } from '../helpers/wait.ts';

const message = (id: string, key = 's'): SourceMessage => ({ id, key, body: Buffer.from(id), attributes: {}, deliveries: 1, publishedAt: null });

/** A source holding `pending` messages, handing them out in pulls and recording acks and dead letters. */
function fakeSource(pending: SourceMessage[]) {
  const acked: string[] = [];
  const dead: string[] = [];
  const source: EventSource = {
    async pull(max) {
      await new Promise((r) => setTimeout(r, 1));
      return pending.splice(0, max);
    },
    async ack(messages) {
      acked.push(...messages.map((m) => m.id));
    },
    async touch() {},
    async deadLetter(messages) {
      dead.push(...messages.map((m) => m.id));
      return true;
    },
    async lag() {
      return pending.length;
    },
    async close() {},
  };
  return { source, acked, dead };
}

const settings = (fields: Record<string, unknown> = {}) =>
  redisStreamSettings.parse({ type: 'redis-stream', url: 'redis://broker.example', stream: 's', batchSize: 3, maxRetries: 1, ...fields });

const log = { warn: () => {} };

describe('batch runner', () => {
  it('acks what succeeded, retries only the reported failures, then dead-letters them', async () => {
    const { source, acked, dead } = fakeSource(['a', 'b', 'c'].map((id) => message(id)));
    const attempts: string[][] = [];
    const runner = createBatchRunner({
      settings: settings(),
      source,
      backoffMs: () => 1,
      status: () => {},
      log,
      invoke: async (messages): Promise<AttemptResult> => {
        attempts.push(messages.map((m) => m.id));
        return { invocationId: 'x', succeeded: true, failedIds: messages.filter((m) => m.id === 'b').map((m) => m.id), reason: null };
      },
    });
    void runner.run();
    await waitFor('b to be dead-lettered', () => dead.length === 1, 2000, 5);
    runner.stop();
    expect(attempts).toEqual([['a', 'b', 'c'], ['b']]);
    expect(acked.sort()).toEqual(['a', 'b', 'c']);
    expect(dead).toEqual(['b']);
  });

  it('does not count a busy platform as an attempt', async () => {
    const { source, acked, dead } = fakeSource([message('a')]);
    let calls = 0;
    const runner = createBatchRunner({
      settings: settings({ maxRetries: 0 }),
      source,
      backoffMs: () => 1,
      status: () => {},
      log,
      invoke: async () => {
        if (++calls < 4) throw new PlatformBusy('queue away');
        return { invocationId: 'x', succeeded: true, failedIds: [], reason: null };
      },
    });
    void runner.run();
    await waitFor('a to be acked', () => acked.length === 1, 2000, 5);
    runner.stop();
    expect(calls).toBe(4);
    expect(dead).toEqual([]);
  });

  it('never runs two batches of one key at once when ordered, but does for different keys', async () => {
    const { source, acked } = fakeSource(['k1', 'k1', 'k2', 'k1'].map((key, i) => message(`m${i}`, key)));
    let running = new Map<string, number>();
    let overlapSameKey = false;
    let overlapAny = false;
    const runner = createBatchRunner({
      settings: settings({ batchSize: 1, maxConcurrency: 4, ordered: true }),
      source,
      status: () => {},
      log,
      invoke: async (messages) => {
        const key = messages[0]!.key;
        if ((running.get(key) ?? 0) > 0) overlapSameKey = true;
        if ([...running.values()].some((n) => n > 0)) overlapAny = true;
        running.set(key, (running.get(key) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 20));
        running.set(key, running.get(key)! - 1);
        return { invocationId: 'x', succeeded: true, failedIds: [], reason: null };
      },
    });
    void runner.run();
    await waitFor('all to be acked', () => acked.length === 4, 3000, 5);
    runner.stop();
    running = new Map();
    expect(overlapSameKey).toBe(false);
    expect(overlapAny).toBe(true);
  });
});

describe('reported batch item failures', () => {
  it('reads Lambda’s batchItemFailures; an unknown, empty or non-string identifier fails the whole batch', () => {
    const ids = ['a', 'b'];
    expect(reportedFailures(null, ids)).toEqual([]);
    expect(reportedFailures('{"ok":1}', ids)).toEqual([]);
    expect(reportedFailures('{"batchItemFailures":[]}', ids)).toEqual([]);
    expect(reportedFailures('{"batchItemFailures":[{"itemIdentifier":"b"}]}', ids)).toEqual(['b']);
    expect(reportedFailures('{"batchItemFailures":[{"itemIdentifier":"zz"}]}', ids)).toBeNull();
    expect(reportedFailures('{"batchItemFailures":[{"itemIdentifier":""}]}', ids)).toBeNull();
    expect(reportedFailures('{"batchItemFailures":[{"itemIdentifier":7}]}', ids)).toBeNull();
    expect(reportedFailures('{"batchItemFailures":"all"}', ids)).toBeNull();
  });
});

describe('batch invoker', () => {
  const trigger = {
    id: '00000000-0000-4000-8000-000000000001',
    functionId: '00000000-0000-4000-8000-000000000002',
    namespace: 'default',
    functionName: 'fn',
    name: 'orders',
    type: 'redis-stream',
    enabled: true,
    target: { alias: 'latest' },
    settings: settings(),
    createdAt: new Date(),
    updatedAt: new Date(),
  } as TriggerRecord;

  it('settles a redelivered message by the invocation that held it, and runs only the new ones', async () => {
    const claims = inMemoryMessageClaims();
    const records = new Map<string, ReturnType<typeof invocationRow>>();
    const dispatched: string[] = [];
    const invoke = createBatchInvoker({
      trigger,
      claims,
      eventOf: (messages) => JSON.stringify({ Records: messages.map((m) => ({ messageId: m.id })) }),
      jobState: async () => 'unknown',
      findInvocation: async (_ns, id) => records.get(id) ?? null,
      dispatcher: {
        dispatchAsync: async (_target, event, key) => {
          const ids = (JSON.parse(event).Records as Array<{ messageId: string }>).map((r) => r.messageId);
          const invocationId = `inv-${dispatched.length}`;
          dispatched.push(ids.join(','));
          // The id the invoker claimed for is the dispatcher's own digest; record under whatever it claimed.
          const claimed = (await claims.read(trigger.id, ids)).get(ids[0]!)!;
          records.set(claimed, invocationRow({ id: claimed, namespace: 'default', functionId: trigger.functionId, functionName: 'fn', result: '{}' }));
          return { invocationId: claimed, repeated: false, version: 1, key, fake: invocationId };
        },
      },
    });
    const first = await invoke([message('a'), message('b')], 0, () => false);
    expect(first.succeeded).toBe(true);
    // Its gateway died before the ack: b comes back with c, in another batch. b is not run again.
    const second = await invoke([message('b'), message('c')], 0, () => false);
    expect(second).toMatchObject({ succeeded: true, failedIds: [] });
    expect(dispatched).toEqual(['a,b', 'c']);
  });
});
