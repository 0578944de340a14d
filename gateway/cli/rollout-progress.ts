/**
 * How a rollout reads in the terminal: the one-line progress `hearth
 * rollout` redraws while it watches, the report of `hearth rollout status`
 * (its steps and every check with both versions' numbers side by side), and
 * the error a rolled-back or aborted rollout ends with. Pure: a view and the
 * time in, text out. Reasons are the gateway's words: shown escaped by
 * `write()` and the table, never obeyed.
 */
import type { RolloutCheck, RolloutView, VersionNumbers } from '../rollouts/rollout-views.ts';
import { CliError, EXIT } from './cli-error.ts';
import { decimals2, formatMs, formatRate, formatTime } from './format.ts';
import { formatTable } from './table.ts';

/** Statuses after which nothing moves the alias any more. */
export const FINISHED = new Set(['completed', 'rolled-back', 'aborted']);

/** `42 s`, `2 min 5 s`, `1 h 30 min`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min${seconds % 60 ? ` ${seconds % 60} s` : ''}`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
}

/** `5% → 25% → 50% → 100%` */
export const stepsLabel = (steps: readonly number[]) => steps.map(formatRate).join(' → ');

/** `error rate ≤ 1%, p99 ≤ 1.5× v1's, judged after 50 calls of v2` */
export function guardLabel(view: Pick<RolloutView, 'guard' | 'fromVersion' | 'toVersion'>): string {
  const { maxErrorRate, maxP99Ratio, minCalls } = view.guard;
  return `error rate ≤ ${formatRate(maxErrorRate)}, p99 ≤ ${decimals2(maxP99Ratio)}× v${view.fromVersion}'s, judged after ${minCalls} calls of v${view.toVersion}`;
}

/** `v2 40 calls, 1 error (2.5%), p99 12.3 ms` */
export function numbersLabel(n: VersionNumbers): string {
  return `v${n.version} ${n.calls} call${n.calls === 1 ? '' : 's'}, ${n.errors} error${n.errors === 1 ? '' : 's'} (${formatRate(n.errorRate)}), p99 ${n.p99Ms === null ? '–' : `${formatMs(n.p99Ms)} ms`}`;
}

/** The line printed when a rollout starts. */
export function startedLine(view: RolloutView): string {
  return `started rollout of ${view.alias} (${view.function}): v${view.fromVersion} → v${view.toVersion} in ${view.steps.length} steps (${stepsLabel(view.steps)}), ${formatDuration(view.stepMs)} each; guard: ${guardLabel(view)}`;
}

/**
 * Where the rollout is now, in one line: `live v1 → v2 · step 2/4, v2 at 25% ·
 * running · next check in 42 s · last: hold (…) v2 12 calls, … | v1 …`.
 */
export function progressLine(view: RolloutView, now: number): string {
  const parts = [`${view.alias} v${view.fromVersion} → v${view.toVersion}`, `step ${view.stepIndex + 1}/${view.steps.length}, v${view.toVersion} at ${formatRate(view.weight)}`, view.status];
  if (view.status === 'running' && view.nextCheckAt) parts.push(`next check in ${formatDuration(Date.parse(view.nextCheckAt) - now)}`);
  const last = view.checks.at(-1);
  if (last) parts.push(`last check ${last.decision}: ${numbersLabel(last.to)} | ${numbersLabel(last.from)}`);
  return parts.join(' · ');
}

/** What changes the plain (not a terminal) output prints a new line for: not the countdown. */
export function progressKey(view: RolloutView): string {
  return `${view.status} ${view.stepIndex} ${view.checks.length}`;
}

/** The line a finished rollout ends with, on success. */
export function completedLine(view: RolloutView): string {
  const took = view.finishedAt ? ` in ${formatDuration(Date.parse(view.finishedAt) - Date.parse(view.createdAt))}` : '';
  return `rollout of ${view.alias} completed${took}: v${view.toVersion} takes every call`;
}

/**
 * A rollout that ended without completing, as the CLI's error: its reason
 * as the message, the checks table (with the numbers that decided it) under it.
 */
export function unfinishedError(view: RolloutView): CliError {
  const code = view.status === 'rolled-back' ? 'RolledBack' : 'RolloutAborted';
  const what = view.status === 'rolled-back' ? 'rolled back' : 'was aborted';
  const message = `rollout of ${view.alias} ${what} at step ${view.stepIndex + 1}/${view.steps.length}; v${view.fromVersion} takes every call again: ${view.reason ?? 'no reason given'}`;
  return new CliError(code, message, EXIT.failed, view.checks.length > 0 ? checksTable(view).trimEnd() : undefined);
}

/** Every check, oldest first, with both versions' numbers side by side. */
export function checksTable(view: RolloutView): string {
  const to = `v${view.toVersion}`;
  const from = `v${view.fromVersion}`;
  const side = (n: VersionNumbers) => [n.calls, n.errors, formatRate(n.errorRate), formatMs(n.p99Ms)];
  const rows = view.checks.map((c: RolloutCheck) => [formatTime(c.at), `${c.stepIndex + 1}/${view.steps.length}`, formatRate(c.weight), ...side(c.to), ...side(c.from), c.decision, c.reason]);
  const num = (header: string) => ({ header, align: 'right' as const });
  return formatTable(
    [
      'CHECKED (UTC)',
      num('STEP'),
      num('WEIGHT'),
      num(`${to} CALLS`),
      num(`${to} ERRORS`),
      num(`${to} RATE`),
      num(`${to} P99 MS`),
      num(`${from} CALLS`),
      num(`${from} ERRORS`),
      num(`${from} RATE`),
      num(`${from} P99 MS`),
      'DECISION',
      'REASON',
    ],
    rows,
    { maxCellWidth: 200 },
  );
}

/** `hearth rollout status`: what, where, the guard, the reason, and the checks. */
export function statusReport(view: RolloutView, now: number): string {
  const lines = [
    `rollout ${view.id} of ${view.alias} (${view.function}): v${view.fromVersion} → v${view.toVersion}, ${view.status}`,
    `steps ${stepsLabel(view.steps)}, ${formatDuration(view.stepMs)} each; now step ${view.stepIndex + 1}/${view.steps.length}, v${view.toVersion} at ${formatRate(view.weight)}`,
    `guard: ${guardLabel(view)}`,
    `started ${formatTime(view.createdAt)} UTC${view.finishedAt ? `, finished ${formatTime(view.finishedAt)} UTC` : ''}`,
  ];
  if (view.status === 'running' && view.nextCheckAt) lines.push(`next check in ${formatDuration(Date.parse(view.nextCheckAt) - now)}`);
  if (view.reason) lines.push(`reason: ${view.reason}`);
  lines.push('', view.checks.length > 0 ? checksTable(view).trimEnd() : 'no checks yet');
  return lines.join('\n');
}
