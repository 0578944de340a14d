/** How `hearth rollout` shows a rollout: the progress line, the checks table, the error of a rollback. */
import { describe, expect, it } from 'vitest';
import { checksTable, formatDuration, progressKey, progressLine, startedLine, statusReport, unfinishedError } from '../../gateway/cli/rollout-progress.ts';
import type { RolloutCheck, RolloutView } from '../../gateway/rollouts/rollout-views.ts';

const T0 = Date.parse('2025-03-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function check(over: Partial<RolloutCheck> = {}): RolloutCheck {
  return {
    at: at(60_000),
    stepIndex: 0,
    weight: 0.05,
    windowStart: at(0),
    windowEnd: at(60_000),
    from: { version: 1, calls: 190, errors: 1, errorRate: 0.0053, p99Ms: 10.5 },
    to: { version: 2, calls: 10, errors: 0, errorRate: 0, p99Ms: 12.25 },
    decision: 'advance',
    reason: 'v2 10 calls, error rate 0% ≤ 1%',
    ...over,
  };
}

function view(over: Partial<RolloutView> = {}): RolloutView {
  return {
    id: '7c1e0000-0000-4000-8000-000000000000',
    function: 'shop',
    alias: 'live',
    fromVersion: 1,
    toVersion: 2,
    steps: [0.05, 0.25, 0.5, 1],
    stepMs: 60_000,
    guard: { maxErrorRate: 0.01, maxP99Ratio: 1.5, minCalls: 10 },
    status: 'running',
    stepIndex: 1,
    weight: 0.25,
    stepStartedAt: at(60_000),
    nextCheckAt: at(120_000),
    reason: null,
    checks: [check()],
    createdAt: at(0),
    updatedAt: at(60_000),
    finishedAt: null,
    ...over,
  };
}

describe('rollout progress', () => {
  it('reads durations in seconds, minutes and hours', () => {
    expect([0, 999, 42_000, 60_000, 125_000, 3_600_000, 5_400_000, -5].map(formatDuration)).toEqual([
      '0 s', '1 s', '42 s', '1 min', '2 min 5 s', '1 h', '1 h 30 min', '0 s',
    ]);
  });

  it('says what it starts: versions, steps, their length, the guard', () => {
    expect(startedLine(view())).toBe(
      'started rollout of live (shop): v1 → v2 in 4 steps (5% → 25% → 50% → 100%), 1 min each; guard: error rate ≤ 1%, p99 ≤ 1.5× v1\'s, judged after 10 calls of v2',
    );
  });

  it('shows the step, the weight, the countdown and the last check with both versions in one line', () => {
    expect(progressLine(view(), T0 + 78_000)).toBe(
      'live v1 → v2 · step 2/4, v2 at 25% · running · next check in 42 s · last check advance: v2 10 calls, 0 errors (0%), p99 12.25 ms | v1 190 calls, 1 error (0.53%), p99 10.5 ms',
    );
    expect(progressLine(view({ status: 'paused', nextCheckAt: null, checks: [] }), T0)).toBe('live v1 → v2 · step 2/4, v2 at 25% · paused');
  });

  it('redraws plain output only when the rollout moves, not for the countdown', () => {
    expect(progressKey(view())).toBe(progressKey(view({ nextCheckAt: at(99_000), updatedAt: at(70_000) })));
    expect(progressKey(view())).not.toBe(progressKey(view({ checks: [check(), check({ decision: 'hold' })] })));
    expect(progressKey(view())).not.toBe(progressKey(view({ status: 'paused' })));
  });

  it('ends a rollback with its reason and a table of the numbers that decided it', () => {
    const reason = 'v2 error rate 40% > 1% (4 of 10 calls failed)';
    const rolledBack = view({
      status: 'rolled-back',
      weight: 0,
      reason,
      nextCheckAt: null,
      finishedAt: at(120_000),
      checks: [check(), check({ at: at(120_000), stepIndex: 1, weight: 0.25, to: { version: 2, calls: 10, errors: 4, errorRate: 0.4, p99Ms: null }, decision: 'rollback', reason })],
    });
    const error = unfinishedError(rolledBack);
    expect(error.code).toBe('RolledBack');
    expect(error.exitCode).toBe(1);
    expect(error.message).toBe(`rollout of live rolled back at step 2/4; v1 takes every call again: ${reason}`);
    const lines = error.detail!.split('\n');
    expect(lines[0]).toMatch(/^CHECKED \(UTC\)\s+STEP\s+WEIGHT\s+v2 CALLS\s+v2 ERRORS\s+v2 RATE\s+v2 P99 MS\s+v1 CALLS\s+v1 ERRORS\s+v1 RATE\s+v1 P99 MS\s+DECISION\s+REASON$/);
    expect(lines[2]).toMatch(/^2025-03-01 12:02:00\s+2\/4\s+25%\s+10\s+4\s+40%\s+–\s+190\s+1\s+0.53%\s+10.5\s+rollback\s+v2 error rate 40% > 1%/);
    expect(unfinishedError(view({ status: 'aborted', reason: null, checks: [] }))).toMatchObject({ code: 'RolloutAborted', detail: undefined });
  });

  it('keeps a hostile reason on its row, escaped', () => {
    const table = checksTable(view({ checks: [check({ reason: 'a\nb\u001b[2J\u202e' })] }));
    expect(table.trimEnd().split('\n')).toHaveLength(2);
    expect(table).toContain('a\\nb\\x1b[2J\\u202e');
  });

  it('reports status with the guard, the reason and the checks', () => {
    const report = statusReport(view({ status: 'completed', weight: 1, stepIndex: 3, nextCheckAt: null, finishedAt: at(240_000) }), T0);
    expect(report.split('\n').slice(0, 4)).toEqual([
      'rollout 7c1e0000-0000-4000-8000-000000000000 of live (shop): v1 → v2, completed',
      'steps 5% → 25% → 50% → 100%, 1 min each; now step 4/4, v2 at 100%',
      "guard: error rate ≤ 1%, p99 ≤ 1.5× v1's, judged after 10 calls of v2",
      'started 2025-03-01 12:00:00 UTC, finished 2025-03-01 12:04:00 UTC',
    ]);
    expect(report).toMatch(/\n\nCHECKED \(UTC\)/);
  });
});
