// A rollout as a timeline: one column per step (its weight, whether it is
// done, current, pending or where it failed), and under each step its
// checks with both versions' calls, error rate and p99 side by side. A
// rolled-back or aborted rollout leads with why, and the numbers of the
// check that decided it. Reasons, alias and function names are the
// tenant's or the gateway's words: always text nodes, never markup.

import { el, formatTime, formatValue } from './format.js';

const STATUS_LABELS = { running: 'running', paused: 'paused', completed: 'completed', 'rolled-back': 'rolled back', aborted: 'aborted' };

const pct = (v) => formatValue(v, 'rate');
const duration = (ms) => (ms % 60_000 === 0 ? `${ms / 60_000} min` : `${formatValue(ms / 1000, 'count')} s`);

/** What one step of `view` is now: done, current, pending, failed (where it rolled back), aborted, or skipped. */
function stepState(view, i) {
  if (view.status === 'completed' || i < view.stepIndex) return 'done';
  if (i > view.stepIndex) return view.status === 'running' || view.status === 'paused' ? 'pending' : 'skipped';
  if (view.status === 'rolled-back') return 'failed';
  if (view.status === 'aborted') return 'aborted';
  return 'current';
}

/** A number of a check, shown formatted and kept raw in `data-raw` (checked against the API by the tests). */
function value(path, raw, format) {
  return el('span', { dataset: { checkField: path, raw: JSON.stringify(raw ?? null) } }, formatValue(raw, format));
}

/** `v2: 4 of 10 calls failed (40.0%), p99 12.3 ms` */
function numbersText(n) {
  return `v${n.version}: ${n.errors} of ${n.calls} calls failed (${pct(n.errorRate)}), p99 ${formatValue(n.p99Ms, 'ms')}`;
}

function checkCard(view, check, k) {
  const side = (which) => check[which];
  const row = (label, field, format) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row' }, label),
      ...['from', 'to'].map((which) => el('td', { class: 'num' }, value(`checks.${k}.${which}.${field}`, side(which)[field], format))),
    );
  return el(
    'li',
    { class: 'check', dataset: { check: String(k), decision: check.decision } },
    el('div', { class: 'check-head' }, el('span', { class: `badge decision-${check.decision}` }, check.decision), el('span', { class: 'muted', title: check.at }, formatTime(check.at))),
    el(
      'table',
      { class: 'grid side-by-side' },
      el('thead', {}, el('tr', {}, el('th', {}, ''), el('th', { class: 'num' }, `v${view.fromVersion} (old)`), el('th', { class: 'num' }, `v${view.toVersion} (new)`))),
      el('tbody', {}, row('Calls', 'calls', 'count'), row('Errors', 'errors', 'count'), row('Error rate', 'errorRate', 'rate'), row('p99', 'p99Ms', 'ms')),
    ),
    el('p', { class: 'check-reason' }, check.reason),
  );
}

function reasonBox(view) {
  if (view.status !== 'rolled-back' && view.status !== 'aborted') return null;
  const deciding = view.checks.at(-1);
  const title = view.status === 'rolled-back' ? 'Rolled back' : 'Aborted';
  return el(
    'div',
    { class: `rollout-reason ${view.status}`, role: 'alert' },
    el('strong', {}, `${title}: `),
    el('span', { class: 'reason-text' }, view.reason ?? 'no reason recorded'),
    deciding && view.status === 'rolled-back'
      ? el('div', { class: 'reason-numbers' }, `${numbersText(deciding.to)} · ${numbersText(deciding.from)} · window ${formatTime(deciding.windowStart)} – ${formatTime(deciding.windowEnd)}`)
      : null,
  );
}

/** The whole rollout; build a new one when the view changes. */
export function rolloutTimeline(view) {
  const { guard } = view;
  const steps = view.steps.map((weight, i) => {
    const checks = view.checks.map((c, k) => [c, k]).filter(([c]) => c.stepIndex === i);
    return el(
      'li',
      { class: `step step-${stepState(view, i)}`, dataset: { step: String(i), state: stepState(view, i) } },
      el('div', { class: 'step-head' }, el('span', { class: 'step-no' }, `Step ${i + 1}`), el('span', { class: 'step-weight' }, `v${view.toVersion} at ${pct(weight)}`)),
      checks.length > 0
        ? el('ol', { class: 'checks' }, checks.map(([c, k]) => checkCard(view, c, k)))
        : el('p', { class: 'muted step-empty' }, stepState(view, i) === 'current' && view.nextCheckAt ? `first check at ${formatTime(view.nextCheckAt)}` : 'no checks'),
    );
  });
  return el(
    'section',
    { class: `rollout rollout-${view.status}`, dataset: { rolloutId: view.id, alias: view.alias, status: view.status } },
    el(
      'div',
      { class: 'rollout-head' },
      el('h3', {}, `Rollout of ${view.alias}: v${view.fromVersion} → v${view.toVersion}`),
      el('span', { class: `badge rollout-status status-${view.status}` }, STATUS_LABELS[view.status] ?? view.status),
      el(
        'span',
        { class: 'muted' },
        `started ${formatTime(view.createdAt)}${view.finishedAt ? ` · finished ${formatTime(view.finishedAt)}` : ''} · ${duration(view.stepMs)} per step · guard: error rate ≤ ${pct(guard.maxErrorRate)}, p99 ≤ ${guard.maxP99Ratio}× v${view.fromVersion}, ${guard.minCalls} calls of v${view.toVersion} per check`,
      ),
    ),
    reasonBox(view),
    el('ol', { class: 'timeline' }, steps),
  );
}
