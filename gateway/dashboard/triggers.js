// A function's triggers and destinations. Each trigger shows its type, its
// state (running, idle, paused or error, each its own colour), what it reads
// (its schedule, or its stream, queue or subject and broker), its next tick
// or lag, its last run and its last error, with a pause / resume button;
// under the table, where the outcomes of its async calls go. Settings and
// errors are the tenant's or a broker's words: set as text, never markup.

import { ApiError, Unauthorized } from './api.js';
import { el, formatTime } from './format.js';

const HEADERS = ['Trigger', 'Type', 'State', 'Source', 'Next tick / lag', 'Last run', 'Last error', ''];
const STATES = new Set(['running', 'idle', 'paused', 'error']);
/** The setting naming what each source type reads. */
const SOURCE_FIELD = { 'redis-stream': 'stream', amqp: 'queue', nats: 'stream', mqtt: 'topic' };
const BROKER_FIELD = { 'redis-stream': 'stream', amqp: 'queue', nats: 'subject' };

/**
 * The triggers and destinations API, as api.js calls the others: the session
 * cookie and the dashboard's header (without which the API ignores the
 * cookie), and a JSON body for PATCH.
 */
async function call(path, { method = 'GET', json } = {}) {
  const headers = { 'x-hearth-dashboard': '1', accept: 'application/json', ...(json === undefined ? {} : { 'content-type': 'application/json' }) };
  const res = await fetch(path, { method, credentials: 'same-origin', headers, ...(json === undefined ? {} : { body: JSON.stringify(json) }) });
  const body = res.status === 204 ? null : await res.json().catch(() => null);
  if (res.status === 401) throw new Unauthorized(body?.error?.message ?? 'the API key was not accepted');
  if (!res.ok) throw new ApiError(res.status, body?.error?.code ?? 'Error', body?.error?.message ?? res.statusText);
  return body;
}

const enc = encodeURIComponent;
const triggersPath = (name, trigger) => `/v1/functions/${enc(name)}/triggers${trigger ? `/${enc(trigger)}` : ''}`;

/** `in 5s`, `now`, `3m ago`, `2h ago`: `at` (epoch ms) from `now`. */
export function relativeTime(at, now) {
  const seconds = Math.round((at - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs === 0) return 'now';
  const text = abs < 60 ? `${abs}s` : abs < 3600 ? `${Math.floor(abs / 60)}m` : abs < 86400 ? `${Math.floor(abs / 3600)}h` : `${Math.floor(abs / 86400)}d`;
  return seconds > 0 ? `in ${text}` : `${text} ago`;
}

const str = (value) => (typeof value === 'string' ? value : '');
const num = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const hostOf = (url) => {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
};

/** `running`, `idle`, `error`, or `paused` for a disabled trigger (the API shows those idle). */
const stateOf = (t) => (t.enabled ? str(t.status?.state) || 'idle' : 'paused');

/** What it reads: `rate(5 minutes)`, `cron(…) Europe/Paris`, `queue orders @ host:5672`. */
function sourceText(t) {
  if (t.type === 'schedule') return `${str(t.schedule)}${str(t.timezone) && t.timezone !== 'UTC' ? ` ${t.timezone}` : ''}`;
  const field = SOURCE_FIELD[t.type];
  const parts = [field ? `${field} ${str(t[field])}` : t.type];
  if (t.type === 'nats' && str(t.subject)) parts.push(`subject ${t.subject}`);
  const host = hostOf(str(t.url));
  return `${parts.join(' · ')}${host ? ` @ ${host}` : ''}`;
}

/** The cells of one trigger, as text (compared between refreshes, so unchanged rows stay put). */
function model(t, now) {
  const s = t.status ?? {};
  const next = num(s.nextRunAt);
  const lag = num(s.lag);
  const lastRun = num(s.lastRunAt);
  const error = s.lastError && typeof s.lastError === 'object' ? s.lastError : null;
  return {
    name: str(t.name),
    type: str(t.type),
    state: stateOf(t),
    enabled: t.enabled === true,
    source: sourceText(t),
    next: t.type === 'schedule' ? (t.enabled && next !== null ? `next ${relativeTime(next, now)}` : '—') : lag !== null ? `lag ${lag}` : '—',
    nextAt: t.type === 'schedule' && t.enabled && next !== null ? new Date(next).toISOString() : '',
    lastRun: lastRun === null ? 'never' : relativeTime(lastRun, now),
    lastRunAt: lastRun === null ? '' : new Date(lastRun).toISOString(),
    error: error ? String(error.message ?? '') : '',
    errorAt: error && num(error.at) !== null ? new Date(error.at).toISOString() : '',
  };
}

/** `function other@live`, `webhook https://…`, `amqp amqp://…:****@host queue q`, or `none`. */
function destinationText(d) {
  if (!d) return 'none';
  if (d.type === 'function') return `function ${str(d.name)}${str(d.alias) ? `@${d.alias}` : ''}`;
  if (d.type === 'webhook') return `webhook ${str(d.url)}${d.secret ? ' (signed with its own secret)' : ''}`;
  const field = BROKER_FIELD[d.type];
  return `${str(d.type)} ${str(d.url)}${field ? ` ${field} ${str(d[field])}` : ''}`;
}

/** The panel; `refresh()` reads the function's triggers and destinations and updates them in place. */
export function createTriggersPanel(name, { onError }) {
  const tbody = el('tbody');
  const note = el('p', { class: 'error trigger-note', role: 'alert', hidden: true });
  const destinations = {
    onSuccess: el('dd', { dataset: { destination: 'onSuccess' } }, '—'),
    onFailure: el('dd', { dataset: { destination: 'onFailure' } }, '—'),
  };
  const section = el(
    'section',
    { class: 'panel', id: 'triggers' },
    el('div', { class: 'panel-head' }, el('h2', {}, 'Triggers and destinations'), el('span', { class: 'muted' }, 'schedules and queues that call it; where its async outcomes go')),
    note,
    el('div', { class: 'table-scroll' }, el('table', { class: 'grid', id: 'triggers-table' }, el('thead', {}, el('tr', {}, HEADERS.map((h) => el('th', {}, h)))), tbody)),
    el('dl', { class: 'destinations', id: 'destinations' }, el('dt', {}, 'On success'), destinations.onSuccess, el('dt', {}, 'On failure'), destinations.onFailure),
  );
  let shown = '';
  /** Triggers with a pause or resume on its way: their button stays disabled. */
  const busy = new Set();

  function showNote(message) {
    note.textContent = message ?? '';
    note.hidden = !message;
  }

  async function toggle(trigger, enabled) {
    busy.add(trigger);
    shown = '';
    try {
      await call(triggersPath(name, trigger), { method: 'PATCH', json: { enabled } });
      showNote(null);
    } catch (err) {
      if (err instanceof Unauthorized) return onError(err);
      showNote(`Could not ${enabled ? 'resume' : 'pause'} ${trigger}: ${err.message}`);
    } finally {
      busy.delete(trigger);
    }
    await refresh().catch(onError);
  }

  function row(m) {
    const state = STATES.has(m.state) ? m.state : 'idle';
    const action = m.enabled ? 'pause' : 'resume';
    return el(
      'tr',
      { dataset: { trigger: m.name, state: m.state } },
      el('th', { scope: 'row', class: 'mono' }, m.name),
      el('td', { dataset: { field: 'type' } }, m.type),
      el('td', { dataset: { field: 'state' } }, el('span', { class: `badge trigger-state state-${state}` }, m.state)),
      el('td', { class: 'mono trigger-source', dataset: { field: 'source' } }, m.source),
      el('td', { dataset: { field: 'next', at: m.nextAt }, title: m.nextAt ? formatTime(m.nextAt) : undefined }, m.next),
      el('td', { dataset: { field: 'lastRun', at: m.lastRunAt }, title: m.lastRunAt ? formatTime(m.lastRunAt) : undefined }, m.lastRun),
      el('td', { class: 'trigger-error', dataset: { field: 'lastError' }, title: m.errorAt ? formatTime(m.errorAt) : undefined }, m.error),
      el(
        'td',
        {},
        el('button', { type: 'button', class: 'ghost trigger-toggle', dataset: { action }, disabled: busy.has(m.name), onclick: () => toggle(m.name, !m.enabled) }, action === 'pause' ? 'Pause' : 'Resume'),
      ),
    );
  }

  async function readDestinations() {
    try {
      return await call(`/v1/functions/${enc(name)}/destinations`);
    } catch (err) {
      if (err instanceof Unauthorized) throw err;
      return { error: err.message };
    }
  }

  async function refresh() {
    let triggers;
    let outcome;
    try {
      [{ triggers }, outcome] = await Promise.all([call(triggersPath(name)), readDestinations()]);
    } catch (err) {
      if (err instanceof Unauthorized) throw err;
      showNote(`Could not read the triggers: ${err.message}`);
      return;
    }
    const models = (Array.isArray(triggers) ? triggers : []).map((t) => model(t, Date.now()));
    const json = JSON.stringify([models, [...busy]]);
    if (json !== shown) {
      shown = json;
      tbody.replaceChildren(...(models.length > 0 ? models.map(row) : [el('tr', {}, el('td', { colspan: HEADERS.length, class: 'empty' }, 'No triggers.'))]));
    }
    for (const condition of ['onSuccess', 'onFailure']) {
      const text = outcome.error ? `unavailable: ${outcome.error}` : destinationText(outcome[condition]);
      if (destinations[condition].textContent !== text) destinations[condition].textContent = text;
    }
    section.dataset.loaded = 'true';
  }

  return { section, refresh };
}
