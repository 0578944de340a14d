// One function: headline numbers, its aliases and rollouts, its triggers and
// destinations, the window split by version, charts over the window, and its
// recent invocations with their logs. Picking a version shows the numbers
// and charts of its calls alone.

import { createAliasesPanel } from './aliases.js';
import { functionDetails, functionMetrics } from './api.js';
import { COLORS, bucketTimes, createDistributionChart, createTimeChart } from './charts.js';
import { bindMetrics, card, el, formatTime, metric } from './format.js';
import { createInvocationsPanel } from './invocations.js';
import { createTriggersPanel } from './triggers.js';
import { createVersionsPanel } from './versions.js';

const LATENCY_ROWS = [
  ['latencyMs.all', 'All calls'],
  ['latencyMs.cold', 'Cold'],
  ['latencyMs.prewarmed', 'Pre-warmed'],
  ['latencyMs.warm', 'Warm'],
  ['durationMs', 'Handler time (billed)'],
  ['queueWaitMs', 'Queue wait'],
];

function latencyTable() {
  return el(
    'table',
    { class: 'grid latency', id: 'latency-table' },
    el('thead', {}, el('tr', {}, el('th', {}, 'End-to-end latency'), ...['Calls', 'p50', 'p95', 'p99'].map((h) => el('th', { class: 'num' }, h)))),
    el(
      'tbody',
      {},
      LATENCY_ROWS.map(([path, label], i) =>
        el(
          'tr',
          { class: i === 4 ? 'divider' : undefined },
          el('th', { scope: 'row' }, label),
          el('td', { class: 'num' }, metric(`${path}.count`, 'count', 'cell')),
          ...['p50', 'p95', 'p99'].map((p) => el('td', { class: 'num' }, metric(`${path}.${p}`, 'ms', 'cell'))),
        ),
      ),
    ),
  );
}

function chartBox(title, note) {
  const body = el('div', { class: 'chart-body' });
  const box = el('figure', { class: 'chart' }, el('figcaption', {}, title, note ? el('span', { class: 'muted' }, ` ${note}`) : null), body);
  return { box, body };
}

/** The function page; `refresh(window)` fetches and updates everything in place; `onChange()` asks for a refresh. */
export function createFunctionPage(root, name, { onError, onChange }) {
  /** The version whose calls the headline and charts show; null: all of them. */
  let version = null;
  const meta = el('p', { class: 'muted', id: 'fn-meta' });
  const byCode = el('div', { class: 'card-note codes' });
  const headline = el(
    'section',
    { class: 'cards', id: 'fn-headline' },
    card('Invocations', metric('invocations'), [metric('throttles', 'count', 'inline'), ' throttled']),
    el('div', { class: 'card' }, el('div', { class: 'card-label' }, 'Errors'), metric('errors.total'), byCode),
    card(
      'Cold starts',
      metric('coldStarts.count'),
      [metric('coldStarts.rate', 'rate', 'inline'), ' of calls that ran'],
      [metric('startKinds.cold', 'count', 'inline'), ' cold · ', metric('startKinds.prewarmed', 'count', 'inline'), ' pre-warmed · ', metric('startKinds.warm', 'count', 'inline'), ' warm'],
    ),
    card('Init time p50', metric('initMs.p50', 'ms'), ['p95 ', metric('initMs.p95', 'ms', 'inline'), ' · ', metric('initMs.count', 'count', 'inline'), ' loads']),
    card('GB-seconds', metric('usage.gbSeconds', 'gbs'), [metric('usage.billedMs', 'ms', 'inline'), ' billed']),
    card('Peak concurrency', metric('peakConcurrency'), 'calls at once on one worker'),
  );
  const charts = {
    calls: chartBox('Invocations and errors', 'per bucket'),
    latency: chartBox('Latency p50 / p99', 'end to end'),
    rate: chartBox('Cold-start rate', 'cold + pre-warmed ÷ calls that ran'),
    init: chartBox('Init time p50', 'code load of cold and pre-warmed calls'),
    gbs: chartBox('GB-seconds', 'memory × billed time'),
    distribution: chartBox('Latency by start kind', 'p50 / p95 / p99'),
  };
  const invocations = createInvocationsPanel(name, { onError });
  const aliases = createAliasesPanel(name);
  const triggers = createTriggersPanel(name, { onError });
  const versions = createVersionsPanel({
    onSelect: (v) => {
      version = v;
      onChange();
    },
  });
  root.replaceChildren(
    el('div', { class: 'page-head' }, el('h1', {}, name), meta),
    headline,
    aliases.section,
    triggers.section,
    versions.section,
    el(
      'div',
      { class: 'split' },
      el('section', { class: 'panel' }, latencyTable()),
      el('section', { class: 'panel' }, charts.distribution.box),
    ),
    el('section', { class: 'chart-grid' }, [charts.calls, charts.latency, charts.rate, charts.init, charts.gbs].map((c) => c.box)),
    invocations.section,
  );

  // Charts need their boxes laid out to know their width.
  const plots = {
    calls: createTimeChart(charts.calls.body, {
      series: [
        { label: 'invocations', color: COLORS.invocations, kind: 'bars', format: 'count' },
        { label: 'errors', color: COLORS.errors, kind: 'bars', format: 'count' },
      ],
    }),
    latency: createTimeChart(charts.latency.body, {
      format: 'ms',
      series: [
        { label: 'p50', color: COLORS.p50, kind: 'line', format: 'ms' },
        { label: 'p99', color: COLORS.p99, kind: 'line', format: 'ms' },
      ],
    }),
    rate: createTimeChart(charts.rate.body, {
      format: 'rate',
      yRange: () => [0, 1],
      series: [{ label: 'cold-start rate', color: COLORS.rate, kind: 'line', format: 'rate' }],
    }),
    init: createTimeChart(charts.init.body, { format: 'ms', series: [{ label: 'init p50', color: COLORS.init, kind: 'line', format: 'ms' }] }),
    gbs: createTimeChart(charts.gbs.body, { format: 'gbs', series: [{ label: 'GB-seconds', color: COLORS.gbs, kind: 'bars', format: 'gbs' }] }),
    distribution: createDistributionChart(charts.distribution.body),
  };

  function showCodes(codes) {
    const entries = Object.keys(codes).sort();
    const current = [...byCode.querySelectorAll('[data-metric]')].map((e) => e.dataset.metric.slice('errors.byCode.'.length));
    if (entries.join('\n') !== current.join('\n')) {
      byCode.replaceChildren(
        ...(entries.length === 0
          ? ['no failures']
          : entries.flatMap((code, i) => [i > 0 ? ' · ' : '', metric(`errors.byCode.${code}`, 'count', 'inline'), ` ${code}`])),
      );
    }
  }

  return {
    title: name,
    async refresh(window, { auto = false } = {}) {
      const shown = version;
      const [details, all, one] = await Promise.all([
        functionDetails(name),
        functionMetrics(name, window),
        shown === null ? null : functionMetrics(name, window, shown),
        invocations.refresh({ auto }),
        triggers.refresh(),
      ]);
      // A pick made while this refresh was out is drawn by the refresh it asked for.
      if (shown !== version) return;
      const m = one ?? all;
      const v = details.latest;
      const only = shown === null ? '' : ` · showing v${shown} only`;
      meta.textContent = `${v.runtime} · v${details.latestVersion} of ${details.versions.length} · ${v.memoryMb} MB · handler ${v.handler} · timeout ${v.timeoutMs} ms · updated ${formatTime(details.updatedAt)}${only}`;
      await aliases.update(details.aliases ?? []);
      versions.update(all, details, shown);
      showCodes(m.errors.byCode);
      headline.dataset.window = m.window;
      headline.dataset.version = shown === null ? 'all' : String(shown);
      bindMetrics(root.querySelector('.split'), m);
      bindMetrics(headline, m);

      const t = bucketTimes(m.series);
      const col = (f) => m.series.map(f);
      plots.calls.update(t, col((p) => p.invocations), col((p) => p.errors));
      plots.latency.update(t, col((p) => p.p50Ms), col((p) => p.p99Ms));
      plots.rate.update(t, col((p) => (p.invocations - p.throttles > 0 ? p.coldStarts / (p.invocations - p.throttles) : null)));
      plots.init.update(t, col((p) => p.initP50Ms));
      plots.gbs.update(t, col((p) => p.gbSeconds));
      plots.distribution.update(m.latencyMs);
    },
    destroy() {
      for (const plot of Object.values(plots)) plot.destroy();
    },
  };
}
