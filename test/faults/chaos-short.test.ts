/**
 * The CI cut of `npm run chaos`: 1000 async invocations against an isolated
 * stack (its own Redis with an append-only file, its own Postgres, the
 * gateway and two workers as processes) while one worker is SIGKILLed
 * mid-call and Redis restarts once. Every accepted invocation must end with
 * exactly one record. Process logs: test-artifacts/chaos-short/.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChaos } from '../chaos/chaos-run.ts';
import { ROOT } from '../chaos/chaos-stack.ts';

describe('faults: the short chaos run', () => {
  it('loses and duplicates no async invocation through a worker kill and a Redis restart', async () => {
    // One block of output at the end rather than a vitest header per line.
    const lines: string[] = [];
    const summary = await runChaos({
      invocations: 1000,
      ratePerS: 60,
      workerKills: 1,
      redisRestarts: 1,
      redisDownMs: 3000,
      postgresOutageS: 0,
      concurrency: 16,
      settleTimeoutS: 90,
      // A NUL-printing, frame-forging tenant on the same workers all along.
      hostileRatePerS: 10,
      logsDir: join(ROOT, 'test-artifacts', 'chaos-short'),
      resultFile: join(ROOT, 'test-artifacts', 'chaos-short', 'summary.json'),
      log: (line) => lines.push(line),
    }).finally(() => console.log(lines.join('\n')));
    expect(summary.sent).toBe(1000);
    expect(summary.neverAccepted).toBe(0);
    expect(summary.accepted).toBe(1000);
    expect(summary.lostDetails).toEqual([]);
    expect(summary.lost).toBe(0);
    expect(summary.samples.duplicated).toEqual([]);
    expect(summary.duplicated).toBe(0);
    expect(summary.recorded).toBe(1000);
    // The hostile tenant's own calls are each recorded once too.
    expect(summary.hostile).toMatchObject({ lost: 0, duplicated: 0 });
    expect(summary.hostile!.recorded).toBe(summary.hostile!.accepted);
    expect(summary.wrongResults).toBe(0);
    expect(summary.timeline.some((t) => t.event.startsWith('SIGKILL worker'))).toBe(true);
    expect(summary.timeline.some((t) => t.event.startsWith('redis started on its AOF'))).toBe(true);
  }, 240_000);
});
