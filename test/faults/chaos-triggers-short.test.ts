/**
 * The CI cut of `npm run chaos -- --triggers`: 300 messages on a Redis stream
 * (a Redis of the run's own, never the platform's) and 300 on a RabbitMQ
 * queue of the run's own, read by two triggers of one function on an
 * isolated stack, while one worker is SIGKILLed, the platform's Redis
 * restarts, the stream's Redis restarts and RabbitMQ restarts
 * (`rabbitmqctl stop_app` / `start_app`). The function reports a few
 * messages failed at random (`batchItemFailures`) so retries run too. Every
 * message published must end recorded by exactly one succeeded invocation
 * (or in the dead letter), and everything must be acknowledged: the stream
 * group's pending list and lag empty, the queue empty with nothing
 * unacknowledged. Running twice is allowed and only counted.
 * Process logs: test-artifacts/chaos-triggers-short/.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../chaos/chaos-stack.ts';
import { runTriggerChaos } from '../chaos/trigger-run.ts';

const MESSAGES = 300;

describe('faults: the short trigger chaos run', () => {
  it('records every stream and queue message once through a worker kill and Redis, stream and RabbitMQ restarts', async () => {
    const lines: string[] = [];
    const summary = await runTriggerChaos({
      messages: MESSAGES,
      // 25 s of publishing: the four faults start 5 s apart and each is over (3–4.5 s) before the next.
      ratePerS: 12,
      batchSize: 10,
      batchWindowMs: 200,
      maxConcurrency: 2,
      maxRetries: 4,
      failPercent: 3,
      workerKills: 1,
      redisRestarts: 1,
      redisDownMs: 3000,
      streamRestarts: 1,
      rabbitRestarts: 1,
      gatewayKills: 0,
      brokerDownMs: 3000,
      concurrency: 16,
      settleTimeoutS: 90,
      logsDir: join(ROOT, 'test-artifacts', 'chaos-triggers-short'),
      resultFile: join(ROOT, 'test-artifacts', 'chaos-triggers-short', 'summary.json'),
      log: (line) => lines.push(line),
    }).finally(() => console.log(lines.join('\n')));

    expect(summary.brokers.map((b) => b.broker)).toEqual(['redis-stream', 'amqp']);
    for (const b of summary.brokers) {
      expect(b.neverPublished, b.broker).toBe(0);
      expect(b.published, b.broker).toBe(MESSAGES);
      expect(b.lostDetails, b.broker).toEqual([]);
      expect(b.lost, b.broker).toBe(0);
      expect(b.duplicates.map((d) => d.body), b.broker).toEqual([]);
      expect(b.recordedTwice, b.broker).toBe(0);
      expect(b.unexpectedBodies, b.broker).toBe(0);
      expect(b.records.unreadable, b.broker).toBe(0);
      expect(b.recorded + b.deadLettered - b.deadLetteredAndRecorded, b.broker).toBe(MESSAGES);
      expect({ broker: b.broker, running: b.leftRunning, paused: b.leftPaused }).toMatchObject({
        running: { unacknowledged: 0, waiting: 0 },
        paused: { unacknowledged: 0, waiting: 0 },
      });
      expect(b.acknowledged, b.broker).toBe(true);
    }
    const happened = (prefix: string) => summary.timeline.some((t) => t.event.startsWith(prefix));
    expect(happened('SIGKILL worker')).toBe(true);
    expect(happened('redis started on its AOF')).toBe(true);
    expect(happened('stream redis started again')).toBe(true);
    // RabbitMQ is the machine's own: without rabbitmqctl the restart is skipped, and the summary says why.
    expect(happened('rabbitmq started again') || summary.skippedFaults.some((f) => f.startsWith('rabbit-restart:'))).toBe(true);
    expect(summary.ok).toBe(true);
  }, 300_000);
});
