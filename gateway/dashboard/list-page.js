// The landing page: namespace totals, one row per function (with a
// sparkline of calls over the window), the runtimes of the installation and
// the workers' container pools.

import { functionMetrics, listFunctions, listRuntimes, metricsSummary } from './api.js';
import { bucketTimes, createSparkline } from './charts.js';
import { bindMetrics, card, el, formatTime, metric, showValue } from './format.js';

const COLUMNS = ['Function', 'Runtime', 'Version', 'Memory', 'Invocations', 'Errors', 'Cold-start rate', 'GB-seconds', 'Calls over the window'];

/** Runs `task` over `items`, at most `limit` at a time. */
async function mapLimit(items, limit, task) {
  const results = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]).catch(() => null);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

const field = (name, format) => el('span', { dataset: { field: name, format } });

function createRow(fn) {
  const href = `#/functions/${encodeURIComponent(fn.name)}`;
  const spark = el('div', { class: 'spark' });
  const cells = {
    runtime: el('span'),
    version: el('span'),
    memory: el('span'),
    invocations: field('invocations', 'count'),
    errors: field('errors', 'count'),
    coldStartRate: field('coldStartRate', 'rate'),
    gbSeconds: field('gbSeconds', 'gbs'),
  };
  const tr = el(
    'tr',
    { class: 'clickable', dataset: { function: fn.name }, onclick: (e) => e.target.closest('a') || (location.hash = href) },
    el('td', {}, el('a', { href, class: 'fn-link' }, fn.name)),
    el('td', {}, cells.runtime),
    el('td', { class: 'num' }, cells.version),
    el('td', { class: 'num' }, cells.memory),
    el('td', { class: 'num' }, cells.invocations),
    el('td', { class: 'num' }, cells.errors),
    el('td', { class: 'num' }, cells.coldStartRate),
    el('td', { class: 'num' }, cells.gbSeconds),
    el('td', { class: 'spark-cell' }, spark),
  );
  return { tr, cells, spark, chart: null };
}

function poolSection() {
  const totals = el(
    'div',
    { class: 'cards compact' },
    card('Busy containers', metric('pool.totals.busy')),
    card('Warm (idle) containers', metric('pool.totals.warm')),
    card('Pre-warmed containers', metric('pool.totals.prewarmed')),
  );
  const runtimes = el('tbody');
  const workers = el('ul', { class: 'workers' });
  const section = el(
    'section',
    { class: 'panel', id: 'pool' },
    el('h2', {}, 'Container pool'),
    totals,
    el('table', { class: 'grid narrow' }, el('thead', {}, el('tr', {}, ['Runtime', 'Busy', 'Warm', 'Pre-warmed'].map((h) => el('th', {}, h)))), runtimes),
    workers,
  );
  const update = (pool) => {
    bindMetrics(totals, { pool });
    const byRuntime = new Map();
    for (const worker of pool.workers) {
      for (const [runtime, counts] of Object.entries(worker.byRuntime)) {
        const sum = byRuntime.get(runtime) ?? { busy: 0, warm: 0, prewarmed: 0 };
        for (const k of ['busy', 'warm', 'prewarmed']) sum[k] += counts[k];
        byRuntime.set(runtime, sum);
      }
    }
    runtimes.replaceChildren(
      ...[...byRuntime].sort(([a], [b]) => a.localeCompare(b)).map(([runtime, c]) =>
        el('tr', { dataset: { runtime } }, el('td', {}, runtime), ...['busy', 'warm', 'prewarmed'].map((k) => el('td', { class: 'num' }, String(c[k])))),
      ),
    );
    if (byRuntime.size === 0) {
      const note = pool.workers.length === 0 ? 'No worker has reported its pool yet.' : 'No containers running: every pool is empty.';
      runtimes.append(el('tr', {}, el('td', { colspan: 4, class: 'empty' }, note)));
    }
    workers.replaceChildren(
      ...pool.workers.map((w) => {
        const used = w.memoryBudgetMb > 0 ? Math.min(100, (w.memoryUsedMb / w.memoryBudgetMb) * 100) : 0;
        const bar = el('span', { class: 'meter-fill' });
        bar.style.width = `${used.toFixed(1)}%`;
        return el(
          'li',
          {},
          el('span', { class: 'worker-id' }, w.workerId),
          el('span', { class: 'meter', title: `${w.memoryUsedMb} of ${w.memoryBudgetMb} MB` }, bar),
          el('span', { class: 'muted' }, `${w.memoryUsedMb.toLocaleString('en-US')} / ${w.memoryBudgetMb.toLocaleString('en-US')} MB · seen ${formatTime(w.seenAt)}`),
        );
      }),
    );
  };
  return { section, update };
}

/** The runtimes: served or not, the versions their images carry, the Lambda names a deploy may give. */
function runtimesSection() {
  const tbody = el('tbody');
  const section = el(
    'section',
    { class: 'panel', id: 'runtimes' },
    el('h2', {}, 'Runtimes'),
    el('table', { class: 'grid narrow' }, el('thead', {}, el('tr', {}, ['Runtime', 'Available', 'Versions', 'Image', 'Lambda names'].map((h) => el('th', {}, h)))), tbody),
  );
  const update = (runtimes) => {
    tbody.replaceChildren(
      ...runtimes.map((r) => {
        const versions = Object.entries(r.versions ?? {}).map(([component, version]) => `${component} ${version}`).join(', ');
        const size = typeof r.imageSizeBytes === 'number' ? `${(r.imageSizeBytes / 1048576).toFixed(1)} MiB` : '—';
        return el(
          'tr',
          { dataset: { runtime: r.name } },
          el('td', {}, r.name),
          el('td', { title: r.unavailableReason ?? '' }, el('span', { class: `badge runtime-${r.available ? 'available' : 'unavailable'}` }, r.available ? `yes · ${r.workers}` : 'no')),
          el('td', {}, versions || '—'),
          el('td', { class: 'num' }, size),
          el('td', { class: 'muted' }, (r.lambdaRuntimes ?? []).join(' ')),
        );
      }),
    );
  };
  return { section, update };
}

/** The functions list; `refresh(window)` fetches and updates it in place. */
export function createListPage(root) {
  const headline = el(
    'section',
    { class: 'cards', id: 'summary-headline' },
    card('Invocations', metric('invocations')),
    card('Errors', metric('errors.total'), [metric('throttles', 'count', 'inline'), ' throttled']),
    card('Cold starts', metric('coldStarts.count'), [metric('coldStarts.rate', 'rate', 'inline'), ' of calls that ran']),
    card('Latency p50 / p99', metric('latencyMs.all.p50', 'ms'), ['p99 ', metric('latencyMs.all.p99', 'ms', 'inline')]),
    card('GB-seconds', metric('usage.gbSeconds', 'gbs'), [metric('usage.billedMs', 'ms', 'inline'), ' billed']),
  );
  const tbody = el('tbody');
  const empty = el('p', { class: 'empty', hidden: true }, 'No functions yet. Deploy one with ', el('code', {}, 'PUT /v1/functions/{name}'), '.');
  const pool = poolSection();
  const runtimes = runtimesSection();
  root.replaceChildren(
    el('div', { class: 'page-head' }, el('h1', {}, 'Functions'), el('p', { class: 'muted', id: 'window-note' })),
    headline,
    el(
      'section',
      { class: 'panel' },
      el('table', { class: 'grid', id: 'functions' }, el('thead', {}, el('tr', {}, COLUMNS.map((h, i) => el('th', { class: i >= 3 && i <= 7 ? 'num' : undefined }, h)))), tbody),
      empty,
    ),
    runtimes.section,
    pool.section,
  );
  const rows = new Map();

  return {
    title: null,
    async refresh(window) {
      const [functions, summary, runtimeList] = await Promise.all([listFunctions(), metricsSummary(window), listRuntimes().catch(() => null)]);
      // An older gateway without GET /v1/runtimes: the panel goes.
      runtimes.section.hidden = runtimeList === null;
      if (runtimeList) runtimes.update(runtimeList);
      headline.dataset.window = summary.window;
      bindMetrics(headline, summary);
      root.querySelector('#window-note').textContent = `${formatTime(summary.from)} – ${formatTime(summary.to)}`;
      const totals = new Map(summary.functions.map((f) => [f.name, f]));
      const names = new Set(functions.map((f) => f.name));
      for (const [name, row] of rows) {
        if (names.has(name)) continue;
        row.chart?.destroy();
        row.tr.remove();
        rows.delete(name);
      }
      functions.forEach((fn, i) => {
        let row = rows.get(fn.name);
        if (!row) rows.set(fn.name, (row = createRow(fn)));
        if (tbody.children[i] !== row.tr) tbody.insertBefore(row.tr, tbody.children[i] ?? null);
        row.cells.runtime.textContent = fn.latest.runtime;
        row.cells.version.textContent = `v${fn.latestVersion}`;
        row.cells.memory.textContent = `${fn.latest.memoryMb} MB`;
        const t = totals.get(fn.name) ?? { invocations: 0, errors: 0, coldStartRate: 0, gbSeconds: 0 };
        for (const key of ['invocations', 'errors', 'coldStartRate', 'gbSeconds']) showValue(row.cells[key], t[key]);
      });
      empty.hidden = functions.length > 0;
      // Only the admin key sees the workers' pools; a tenant's page goes without the panel.
      pool.section.hidden = !summary.pool;
      if (summary.pool) pool.update(summary.pool);

      const metrics = await mapLimit(functions, 4, (fn) => functionMetrics(fn.name, window));
      functions.forEach((fn, i) => {
        const row = rows.get(fn.name);
        const m = metrics[i];
        if (!row || !m) return;
        row.chart ??= createSparkline(row.spark);
        row.chart.update(bucketTimes(m.series), m.series.map((p) => p.invocations));
      });
    },
    destroy() {
      for (const row of rows.values()) row.chart?.destroy();
    },
  };
}
