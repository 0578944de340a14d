// Recent invocations of one function: a status filter, paging to older
// calls with the API's cursor, how each came in (its mode, and the trigger
// that made it), and a row click that opens the call's logs and REPORT line.

import { invocationLogs, listInvocations } from './api.js';
import { el, formatTime, formatValue } from './format.js';

const HEADERS = ['Time', 'Invocation', 'Version', 'Mode', 'Status', 'Start', 'Latency', 'Handler', 'Init', 'Billed', 'Error'];
const MODES = new Set(['sync', 'async', 'http', 'schedule', 'event']);

function statusBadge(status) {
  return el('span', { class: `badge status-${status}` }, status);
}

/** `schedule nightly`: the mode as a badge, then the trigger's name (the tenant's: text only). */
function modeCell(inv) {
  const mode = typeof inv.mode === 'string' ? inv.mode : '';
  return el(
    'td',
    { dataset: { field: 'mode', mode, trigger: typeof inv.trigger === 'string' ? inv.trigger : '' } },
    mode ? el('span', { class: `badge mode-${MODES.has(mode) ? mode : 'other'}` }, mode) : '—',
    typeof inv.trigger === 'string' && inv.trigger ? el('span', { class: 'mono trigger-name' }, inv.trigger) : null,
  );
}

function startBadge(kind) {
  return el('span', { class: `badge start-${kind}` }, kind === 'prewarmed' ? 'pre-warmed' : kind);
}

/** The panel; `refresh({ auto })` reloads the current page (auto-refresh only updates the newest page). */
export function createInvocationsPanel(name, { onError }) {
  let status = '';
  /** Cursors of the pages before the current one; the current page's cursor is the last (null = newest). */
  const cursors = [null];
  let nextCursor = null;
  let selected = null;
  let loading = null;
  let generation = 0;
  let lastShown = '';

  const filter = el(
    'select',
    { id: 'status-filter', 'aria-label': 'Status', onchange: () => reset(filter.value) },
    ...[['', 'All statuses'], ['succeeded', 'Succeeded'], ['failed', 'Failed'], ['throttled', 'Throttled']].map(([v, label]) => el('option', { value: v }, label)),
  );
  const newest = el('button', { type: 'button', class: 'ghost', id: 'page-newest', onclick: () => go(() => cursors.splice(1)) }, '« Newest');
  const newer = el('button', { type: 'button', class: 'ghost', id: 'page-newer', onclick: () => go(() => cursors.pop()) }, '‹ Newer');
  const older = el('button', { type: 'button', class: 'ghost', id: 'page-older', onclick: () => go(() => cursors.push(nextCursor)) }, 'Older ›');
  const pageNote = el('span', { class: 'muted' });
  const tbody = el('tbody');
  const logTitle = el('h3');
  const report = el('code', { class: 'report', id: 'log-report' });
  const logs = el('pre', { class: 'logs', id: 'log-text' });
  const truncated = el('p', { class: 'muted', hidden: true }, 'Logs were cut at 64 KiB.');
  const logPanel = el(
    'div',
    { class: 'log-panel', id: 'log-panel', hidden: true },
    el('div', { class: 'log-head' }, logTitle, el('button', { type: 'button', class: 'ghost', onclick: () => select(null) }, 'Close')),
    report,
    logs,
    truncated,
  );
  const section = el(
    'section',
    { class: 'panel', id: 'invocations' },
    el('div', { class: 'panel-head' }, el('h2', {}, 'Recent invocations'), el('div', { class: 'toolbar' }, filter, newest, newer, older, pageNote)),
    el('div', { class: 'table-scroll' }, el('table', { class: 'grid', id: 'invocations-table' }, el('thead', {}, el('tr', {}, HEADERS.map((h, i) => el('th', { class: [2, 6, 7, 8, 9].includes(i) ? 'num' : undefined }, h)))), tbody)),
    logPanel,
  );

  function row(inv) {
    const ms = (v) => el('td', { class: 'num' }, formatValue(v, 'ms'));
    return el(
      'tr',
      {
        class: `clickable${inv.invocationId === selected ? ' selected' : ''}`,
        tabindex: 0,
        dataset: { invocationId: inv.invocationId },
        onclick: () => select(inv.invocationId),
        onkeydown: (e) => e.key === 'Enter' && select(inv.invocationId),
      },
      el('td', { title: inv.time }, formatTime(inv.time)),
      el('td', { class: 'mono', title: inv.invocationId }, inv.invocationId.slice(0, 8)),
      el('td', { class: 'num' }, `v${inv.version}`),
      modeCell(inv),
      el('td', {}, statusBadge(inv.status)),
      el('td', {}, startBadge(inv.startKind)),
      ms(inv.latencyMs),
      ms(inv.durationMs),
      el('td', { class: 'num' }, inv.startKind === 'warm' ? '—' : formatValue(inv.initMs, 'ms')),
      ms(inv.billedMs),
      el('td', { class: 'mono' }, inv.errorCode ?? ''),
    );
  }

  async function load() {
    // Only the latest request may fill the table: a click can overtake an auto-refresh or another click.
    const mine = ++generation;
    const cursor = cursors[cursors.length - 1];
    const page = await listInvocations(name, { status, cursor, limit: 20 });
    if (mine !== generation) return;
    nextCursor = page.nextCursor;
    // Unchanged rows stay as they are (keeps focus and hover through auto-refresh).
    const shown = JSON.stringify(page.items);
    if (shown !== lastShown) {
      lastShown = shown;
      tbody.replaceChildren(...page.items.map(row));
      if (page.items.length === 0) tbody.append(el('tr', {}, el('td', { colspan: HEADERS.length, class: 'empty' }, 'No invocations yet.')));
    }
    newest.disabled = newer.disabled = cursors.length === 1;
    older.disabled = !nextCursor;
    pageNote.textContent = cursors.length === 1 ? 'newest first' : `page ${cursors.length}`;
    section.dataset.loaded = 'true';
  }

  function go(move) {
    move();
    loading = load().catch(onError);
  }

  function reset(value) {
    status = value;
    cursors.splice(1);
    go(() => {});
  }

  async function select(id) {
    selected = id;
    for (const tr of tbody.querySelectorAll('tr')) tr.classList.toggle('selected', tr.dataset.invocationId === id);
    if (!id) {
      logPanel.hidden = true;
      return;
    }
    logTitle.textContent = `Invocation ${id}`;
    report.textContent = 'Loading…';
    logs.textContent = '';
    logPanel.hidden = false;
    logPanel.dataset.invocationId = id;
    try {
      const entry = await invocationLogs(id);
      if (selected !== id) return;
      report.textContent = entry.report;
      logs.textContent = entry.logs || '(no output)';
      truncated.hidden = !entry.logsTruncated;
      logPanel.dataset.loaded = id;
    } catch (err) {
      if (selected === id) report.textContent = `Could not load the logs: ${err.message}`;
      onError(err);
    }
  }

  return {
    section,
    async refresh({ auto = false } = {}) {
      // Someone reading an older page keeps it steady; the newest page follows new calls.
      if (auto && cursors.length > 1) return;
      await loading;
      await load();
    },
  };
}
