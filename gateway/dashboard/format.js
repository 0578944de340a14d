// Formatting and small DOM helpers. Numbers are shown as the API gives
// them, only formatted: counts with grouping, milliseconds with up to 2
// decimals, rates as percentages with 1 decimal, GB-seconds with up to 6
// decimals (the API's precision). Every bound element keeps the raw value
// in `data-raw` (JSON) so what is shown can be checked against the API.

const countFormat = new Intl.NumberFormat('en-US');
const msFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const gbsFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 6 });

/** Formatters by name, as used in `data-format`. Null (no samples) shows as a dash. */
export const formats = {
  count: (v) => countFormat.format(v),
  ms: (v) => `${msFormat.format(v)} ms`,
  rate: (v) => `${(v * 100).toFixed(1)}%`,
  gbs: (v) => gbsFormat.format(v),
  text: (v) => String(v),
};

export function formatValue(value, format = 'count') {
  if (value === null || value === undefined) return '—';
  return (formats[format] ?? formats.text)(value);
}

/** The value at a dotted path (`latencyMs.warm.p50`), or null when absent. */
export function pick(object, path) {
  let value = object;
  for (const key of path.split('.')) value = value == null ? undefined : value[key];
  return value === undefined ? null : value;
}

/** Shows `value` in `el` (formatted by its `data-format`) and records it in `data-raw`. */
export function showValue(el, value) {
  const raw = JSON.stringify(value ?? null);
  if (el.dataset.raw === raw && el.textContent !== '') return;
  el.dataset.raw = raw;
  el.textContent = formatValue(value, el.dataset.format);
}

/** Fills every `[data-metric]` element under `root` from `data`, in place. */
export function bindMetrics(root, data) {
  for (const el of root.querySelectorAll('[data-metric]')) showValue(el, pick(data, el.dataset.metric));
}

/** A local time: `14:03:07` today, `Mar 3, 14:03` before. */
export function formatTime(iso) {
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString('en-GB', { hour12: false })
    : date.toLocaleString('en-GB', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
}

/** `el('div', { class: 'x', dataset: { metric: 'a' } }, child, 'text')` */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

/** A number element bound to a metric path: `metric('coldStarts.rate', 'rate')`. */
export const metric = (path, format = 'count', cls = 'value') => el('span', { class: cls, dataset: { metric: path, format } });

/** A headline card: label, a big number, optional smaller lines under it. */
export function card(label, main, ...notes) {
  return el('div', { class: 'card' }, el('div', { class: 'card-label' }, label), main, ...notes.map((n) => el('div', { class: 'card-note' }, n)));
}
