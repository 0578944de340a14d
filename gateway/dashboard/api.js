// The metrics, logs and functions API, with the key kept in localStorage.
// Every call sends `Authorization: Bearer <key>`; a 401 throws Unauthorized
// so the page can bring the login back.

const KEY_ITEM = 'hearth.apiKey';

/** The key was missing or rejected. */
export class Unauthorized extends Error {
  name = 'Unauthorized';
}

/** Any other non-2xx answer, with the API's `{ error: { code, message } }`. */
export class ApiError extends Error {
  name = 'ApiError';
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const storedKey = {
  get: () => localStorage.getItem(KEY_ITEM),
  set: (key) => localStorage.setItem(KEY_ITEM, key),
  clear: () => localStorage.removeItem(KEY_ITEM),
};

async function call(path, key = storedKey.get()) {
  if (!key) throw new Unauthorized('no API key');
  const res = await fetch(path, { headers: { authorization: `Bearer ${key}`, accept: 'application/json' } });
  const body = await res.json().catch(() => null);
  if (res.status === 401) throw new Unauthorized(body?.error?.message ?? 'the API key was not accepted');
  if (!res.ok) throw new ApiError(res.status, body?.error?.code ?? 'Error', body?.error?.message ?? res.statusText);
  return body;
}

const enc = encodeURIComponent;

/** Checks a key before it is stored: resolves when the API accepts it. */
export const checkKey = (key) => call('/v1/functions', key);

/** `GET /v1/functions` → FunctionView[] */
export const listFunctions = async () => (await call('/v1/functions')).functions;

/** `GET /v1/functions/{name}` → FunctionDetails */
export const functionDetails = (name) => call(`/v1/functions/${enc(name)}`);

/** `GET /v1/metrics/summary` → MetricsSummary */
export const metricsSummary = (window) => call(`/v1/metrics/summary?window=${enc(window)}`);

/** `GET /v1/functions/{name}/metrics` → FunctionMetrics */
export const functionMetrics = (name, window) => call(`/v1/functions/${enc(name)}/metrics?window=${enc(window)}`);

/** `GET /v1/functions/{name}/invocations` → Page<InvocationSummary> */
export function listInvocations(name, { status, cursor, limit = 20 } = {}) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (status) query.set('status', status);
  if (cursor) query.set('cursor', cursor);
  return call(`/v1/functions/${enc(name)}/invocations?${query}`);
}

/** `GET /v1/invocations/{id}/logs` → { invocationId, logs, logsTruncated, report } */
export const invocationLogs = (id) => call(`/v1/invocations/${enc(id)}/logs`);
