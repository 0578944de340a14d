// The window split by version: one row per version that had calls (with
// the aliases that send it calls), its errors, error rate, cold starts and
// latency, so a canary reads next to the version it may replace. The
// picker (or a click on a row) shows the whole page for one version.

import { bindMetrics, el, formatValue, metric } from './format.js';

const COLUMNS = [
  ['invocations', 'Calls', 'count'],
  ['errors', 'Errors', 'count'],
  ['errorRate', 'Error rate', 'rate'],
  ['throttles', 'Throttled', 'count'],
  ['coldStarts', 'Cold starts', 'count'],
  ['p50Ms', 'p50', 'ms'],
  ['p95Ms', 'p95', 'ms'],
  ['p99Ms', 'p99', 'ms'],
  ['durationP99Ms', 'Handler p99', 'ms'],
  ['gbSeconds', 'GB-seconds', 'gbs'],
];

/** version → the aliases sending it calls: `latest`, `live 10%`. */
function aliasTags(aliases) {
  const tags = new Map();
  const add = (version, tag) => tags.set(version, [...(tags.get(version) ?? []), tag]);
  for (const alias of aliases ?? []) {
    const [other, weight] = Object.entries(alias.weights ?? {})[0] ?? [];
    add(alias.version, other === undefined ? alias.name : `${alias.name} ${formatValue(1 - weight, 'rate')}`);
    if (other !== undefined) add(Number(other), `${alias.name} ${formatValue(weight, 'rate')}`);
  }
  return tags;
}

/** The panel; `onSelect(version | null)` shows the page for one version, or all of them. */
export function createVersionsPanel({ onSelect }) {
  const picker = el('select', { id: 'version-filter', 'aria-label': 'Version', onchange: () => onSelect(picker.value === '' ? null : Number(picker.value)) });
  const tbody = el('tbody');
  const section = el(
    'section',
    { class: 'panel', id: 'versions' },
    el('div', { class: 'panel-head' }, el('h2', {}, 'By version'), el('label', { class: 'toolbar' }, 'Show ', picker)),
    el(
      'div',
      { class: 'table-scroll' },
      el('table', { class: 'grid', id: 'versions-table' }, el('thead', {}, el('tr', {}, el('th', {}, 'Version'), COLUMNS.map(([, label]) => el('th', { class: 'num' }, label)))), tbody),
    ),
  );
  let shownRows = '';
  let shownOptions = '';

  return {
    section,
    /** `all`: the metrics of every version (its `versions` breakdown); `details`: the function; `selected`: the version shown, or null. */
    update(all, details, selected) {
      const tags = aliasTags(details.aliases);
      const rowsJson = JSON.stringify([all.versions.map((v) => v.version), [...tags], selected]);
      if (rowsJson !== shownRows) {
        shownRows = rowsJson;
        tbody.replaceChildren(
          ...all.versions.map((v, i) =>
            el(
              'tr',
              { class: `clickable${v.version === selected ? ' selected' : ''}`, dataset: { version: String(v.version) }, onclick: () => onSelect(v.version === selected ? null : v.version) },
              el('th', { scope: 'row' }, `v${v.version}`, ...(tags.get(v.version) ?? []).map((t) => el('span', { class: 'badge alias-tag' }, t))),
              COLUMNS.map(([field, , format]) => el('td', { class: 'num' }, metric(`versions.${i}.${field}`, format, 'cell'))),
            ),
          ),
        );
        if (all.versions.length === 0) tbody.append(el('tr', {}, el('td', { colspan: COLUMNS.length + 1, class: 'empty' }, 'No calls in this window.')));
      }
      bindMetrics(tbody, all);

      const versions = [...new Set([...details.versions.map((v) => v.version), ...all.versions.map((v) => v.version)])].sort((a, b) => b - a);
      const optionsJson = JSON.stringify([versions, selected]);
      if (optionsJson !== shownOptions) {
        shownOptions = optionsJson;
        picker.replaceChildren(el('option', { value: '' }, 'All versions'), ...versions.map((v) => el('option', { value: String(v) }, `v${v}`)));
        picker.value = selected === null ? '' : String(selected);
      }
    },
  };
}
