// A function's aliases: where each sends calls (its version, and the share
// of a weighted second one, drawn as a split bar), its description, and
// under the table each alias's latest rollout as a timeline. Descriptions
// are the tenant's text: set as text, never parsed as markup.
//
// A rollout is re-read only when it can have moved: its alias is new or
// changed (every rollout step rewrites it), splits calls, or its rollout is
// still active. So a function with many quiet aliases costs one request
// per alias once, not every refresh.

import { latestRollout } from './api.js';
import { el, formatTime, formatValue } from './format.js';
import { rolloutTimeline } from './rollout-timeline.js';

const HEADERS = ['Alias', 'Version', 'Weights', 'Min warm', 'Description', 'Latest rollout', 'Updated'];
const ACTIVE = new Set(['running', 'paused']);

/** `[[version, share], ...]`: the alias's version and, when it splits, the weighted one. */
function shares(alias) {
  const [other, weight] = Object.entries(alias.weights ?? {})[0] ?? [];
  return other === undefined ? [[alias.version, 1]] : [[alias.version, 1 - weight], [Number(other), weight]];
}

function weightsCell(alias) {
  const parts = shares(alias);
  const label = parts.map(([v, w]) => `v${v} ${formatValue(w, 'rate')}`).join(' · ');
  return el(
    'td',
    { dataset: { field: 'weights', raw: JSON.stringify(alias.weights ?? {}) } },
    el(
      'span',
      { class: 'weights-split' },
      el(
        'span',
        { class: 'weight-bar', role: 'img', 'aria-label': label },
        parts.map(([v, w], i) => el('span', { class: i === 0 ? 'w-main' : 'w-canary', style: `width: ${(w * 100).toFixed(2)}%`, title: `v${v}` })),
      ),
      el('span', { class: 'weight-label' }, label),
    ),
  );
}

function row(alias, rollout) {
  return el(
    'tr',
    { dataset: { alias: alias.name } },
    el('th', { scope: 'row', class: 'mono' }, alias.name),
    el('td', { class: 'num', dataset: { field: 'version' } }, `v${alias.version}`),
    weightsCell(alias),
    el('td', { class: 'num' }, alias.minWarm === null ? '—' : String(alias.minWarm)),
    el('td', { class: 'description', dataset: { field: 'description' } }, alias.description),
    el('td', {}, rollout ? el('span', { class: `badge rollout-status status-${rollout.status}` }, `v${rollout.fromVersion} → v${rollout.toVersion} ${rollout.status}`) : el('span', { class: 'muted' }, 'none')),
    el('td', { title: alias.updatedAt }, formatTime(alias.updatedAt)),
  );
}

/** The panel; `update(aliases)` takes the function's aliases as `GET /v1/functions/{name}` lists them. */
export function createAliasesPanel(name) {
  const tbody = el('tbody');
  const rollouts = el('div', { class: 'rollouts', id: 'rollouts' });
  const section = el(
    'section',
    { class: 'panel', id: 'aliases' },
    el('div', { class: 'panel-head' }, el('h2', {}, 'Aliases and rollouts'), el('span', { class: 'muted' }, 'where calls go; each alias’s latest rollout below')),
    el('div', { class: 'table-scroll' }, el('table', { class: 'grid', id: 'aliases-table' }, el('thead', {}, el('tr', {}, HEADERS.map((h, i) => el('th', { class: i === 1 || i === 3 ? 'num' : undefined }, h)))), tbody)),
    rollouts,
  );
  /** alias name → { updatedAt, view }: the last rollout read, and the alias as it was then. */
  const known = new Map();
  /** alias name → { json, node }: each timeline is rebuilt only when its view changes. */
  const timelines = new Map();
  let shownRows = '';

  const stale = (alias) => {
    const seen = known.get(alias.name);
    return !seen || seen.updatedAt !== alias.updatedAt || Object.keys(alias.weights ?? {}).length > 0 || (seen.view && ACTIVE.has(seen.view.status));
  };

  return {
    section,
    async update(aliases) {
      const reads = aliases.filter(stale).map(async (alias) => known.set(alias.name, { updatedAt: alias.updatedAt, view: await latestRollout(name, alias.name) }));
      await Promise.all(reads);
      for (const gone of [...known.keys()].filter((n) => !aliases.some((a) => a.name === n))) known.delete(gone);

      const rowsJson = JSON.stringify(aliases.map((a) => [a, known.get(a.name)?.view?.status ?? null]));
      if (rowsJson !== shownRows) {
        shownRows = rowsJson;
        tbody.replaceChildren(...aliases.map((a) => row(a, known.get(a.name)?.view ?? null)));
      }

      // Active rollouts first, then the newest.
      const views = aliases
        .map((a) => known.get(a.name)?.view)
        .filter(Boolean)
        .sort((a, b) => Number(ACTIVE.has(b.status)) - Number(ACTIVE.has(a.status)) || Date.parse(b.createdAt) - Date.parse(a.createdAt));
      const nodes = views.map((view) => {
        const json = JSON.stringify(view);
        let shown = timelines.get(view.alias);
        if (!shown || shown.json !== json) timelines.set(view.alias, (shown = { json, node: rolloutTimeline(view) }));
        return shown.node;
      });
      for (const alias of [...timelines.keys()].filter((a) => !views.some((v) => v.alias === a))) timelines.delete(alias);
      if (nodes.length !== rollouts.children.length || nodes.some((n, i) => rollouts.children[i] !== n)) {
        rollouts.replaceChildren(...(nodes.length > 0 ? nodes : [el('p', { class: 'muted empty' }, 'No rollouts yet.')]));
      }
      section.dataset.loaded = 'true';
    },
  };
}
