/**
 * The CI cut of `npm run soak`: three minutes of steady load (70 % of the
 * maximum measured in a 10 s ramp) mixing sync, async and HTTP calls and a
 * schedule trigger over 50 functions, with deploys, rollbacks and deletes
 * along the way, in 1-minute windows, on its own platform (gateway and
 * worker as processes, database `hearth_soak_ci`). Every accepted call has
 * exactly one record; the only refusals are those a delete explains. The
 * timing ratios are printed, not asserted (CI's machine is noisy); only a
 * gross leak fails it. Report: test-artifacts/soak-short/report.json.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReport, runSoak } from '../bench/soak-run.ts';
import { ROOT } from '../bench/stack.ts';

describe('faults: the short soak', () => {
  it('records every accepted call once through three minutes of mixed load and churn, and leaks nothing grossly', async () => {
    const lines: string[] = [];
    const report = await runSoak({
      minutes: 3,
      windowS: 60,
      loadShare: 0.7,
      rampSeconds: 10,
      mix: { sync: 2, async: 1, http: 1 },
      functions: 50,
      python: 4,
      churnEveryS: 15,
      triggerPeriodS: 10,
      database: 'hearth_soak_ci',
      logsDir: join(ROOT, 'test-artifacts', 'soak-short', 'logs'),
      reportPath: join(ROOT, 'test-artifacts', 'soak-short', 'report.json'),
      log: (line) => lines.push(line),
    }).finally(() => console.log(lines.join('\n')));
    console.log(renderReport(report));

    expect(report.windows).toHaveLength(3);
    const { records } = report;
    expect(records.accepted).toBeGreaterThan(1000);
    expect(records.lostSample).toEqual([]);
    expect(records.lost).toBe(0);
    expect(records.duplicatedSample).toEqual([]);
    expect(records.duplicated).toBe(0);
    expect(report.duplicateAnswers).toBe(0);
    expect(report.wrongIds).toBe(0);
    // A record no answer named can only be a call whose answer the client lost.
    expect(records.rowsWithoutAnswer).toBeLessThanOrEqual(report.clientGaveUp);
    expect(records.ticks.duplicated).toBe(0);
    expect(records.ticks.distinct).toBeGreaterThanOrEqual(records.ticks.expected - 2);

    // Every churn operation happened and worked; refusals of deleted functions are counted apart.
    expect(report.churn.failed).toBe(0);
    expect(report.churn.deploys).toBeGreaterThan(0);
    expect(report.churn.rollbacks).toBeGreaterThan(0);
    expect(report.churn.deletes).toBeGreaterThan(0);
    const errors: Record<string, number> = {};
    for (const w of report.windows) for (const [k, n] of Object.entries(w.errorsByKind)) errors[k] = (errors[k] ?? 0) + n;
    const platformErrors = Object.entries(errors).filter(([k]) => !/ network /.test(k));
    expect(platformErrors).toEqual([]);
    // A keep-alive socket the gateway closed as it was reused: the client's side, and rare.
    const sent = report.windows.reduce((s, w) => s + w.sent, 0);
    expect(report.clientGaveUp).toBeLessThanOrEqual(Math.max(5, sent * 0.001));

    // Gross leaks only: more than half again in two minutes.
    const first = report.windows[0]!.platform;
    const last = report.windows[report.windows.length - 1]!.platform;
    for (const p of ['gateway', 'worker'] as const) {
      expect(last[p].fds / first[p].fds, `${p} fds`).toBeLessThan(1.5);
      expect(last[p].rssMb / first[p].rssMb, `${p} RSS`).toBeLessThan(1.5);
    }
    expect(last.containers).toBeLessThan(first.containers * 1.5 + 10);
  }, 480_000);
});
